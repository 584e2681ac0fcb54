//! Answers of one size: a look-up with a right code, a wrong one and one
//! that is limited differ in status and page, so an observer of TLS record
//! lengths could tell them apart by size alone. [`padded`] makes each such
//! answer's body a size bucket long (8 KiB, 16 KiB, 32 KiB, …) and its head
//! one length, whatever its status line and headers.
//!
//! Invariant: the padded body is built in a buffer that is wiped when hyper
//! drops it, like the page it pads (which may show a signal or a code).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, header};
use axum::middleware::Next;
use http_body_util::BodyExt;
use zeroize::Zeroizing;

/// The smallest bucket: larger than the refusal and the limited page, and
/// than the page of a signal of a few paragraphs without messages.
pub const SMALLEST_BUCKET: usize = 8 * 1024;
/// What the status line and the headers set so far come to, padding header
/// included (the headers added outside are the same for every answer).
pub const HEAD_BYTES: usize = 512;
/// The header that carries the head's padding.
const PAD_HEADER: &str = "x-padding";

/// The bucket a body of `len` bytes is padded to.
pub fn bucket(len: usize) -> usize {
    len.max(SMALLEST_BUCKET).next_power_of_two()
}

/// Pads the body of every answer of the route to its bucket and the head to
/// [`HEAD_BYTES`]; hyper adds `content-length` (the same digits for the same
/// bucket) and `date` (always as long).
pub async fn padded(req: Request, next: Next) -> Response<Body> {
    let res = next.run(req).await;
    let (mut parts, body) = res.into_parts();
    let mut bytes = Zeroizing::new(Vec::new());
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            break;
        };
        if let Ok(chunk) = frame.into_data() {
            if bytes.capacity() < bytes.len() + chunk.len() {
                // Grow by hand so the old buffer is wiped rather than freed as is.
                let mut bigger =
                    Zeroizing::new(Vec::with_capacity(bucket(bytes.len() + chunk.len())));
                bigger.extend_from_slice(&bytes);
                bytes = bigger;
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    let size = bucket(bytes.len());
    if bytes.capacity() < size {
        let mut bigger = Zeroizing::new(Vec::with_capacity(size));
        bigger.extend_from_slice(&bytes);
        bytes = bigger;
    }
    // Trailing white space after the page: shown by no browser.
    bytes.resize(size, b' ');
    parts.headers.remove(header::CONTENT_LENGTH);
    let status_line = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    );
    let used = status_line.len()
        + parts
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>()
        + PAD_HEADER.len()
        + 4;
    let pad = "-".repeat(HEAD_BYTES.saturating_sub(used));
    if let Ok(value) = HeaderValue::from_str(&pad) {
        parts.headers.insert(PAD_HEADER, value);
    }
    struct Wiped(Zeroizing<Vec<u8>>);
    impl AsRef<[u8]> for Wiped {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    Response::from_parts(parts, Body::from(bytes::Bytes::from_owner(Wiped(bytes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_double_from_8_kib() {
        assert_eq!(bucket(0), 8192);
        assert_eq!(bucket(3448), 8192);
        assert_eq!(bucket(8192), 8192);
        assert_eq!(bucket(8193), 16384);
        assert_eq!(bucket(40_000), 65536);
    }
}
