//! What hyper answers by itself. A request head hyper cannot parse (a bad
//! `Content-Length`, a header block or request line too long, a broken
//! request line) is answered by hyper before any service sees it: a bare
//! status with an empty body and none of our headers. The writes of every
//! connection pass through [`Answered`], which knows how many requests the
//! service has taken ([`Taken`]) and follows the responses hyper writes;
//! a response head written while no request waits for one is hyper's own,
//! and goes out as a readable page with the security headers instead
//! ([`super::answers::raw_answer`]).
//!
//! Invariant: bytes of the service's own responses pass unchanged and in
//! order; nothing read from the visitor is kept.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The requests the service has taken and not yet answered, in order: for
/// each, whether it was a HEAD (whose answer has no body).
#[derive(Debug, Default)]
pub struct Taken(Mutex<(VecDeque<bool>, bool)>);

impl Taken {
    /// Notes a request the service takes.
    pub fn push(&self, head: bool) {
        let mut taken = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        taken.0.push_back(head);
        taken.1 = true;
    }

    fn pop(&self) -> Option<bool> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .pop_front()
    }

    /// Whether the service has taken any request on this connection.
    pub fn any_request(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).1
    }
}

/// Longest response head followed; hyper's own are far shorter, ours too.
const MAX_HEAD: usize = 64 * 1024;

/// Where the writes are in the stream of responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    /// Before or inside a response head.
    Head,
    /// Inside a body of this many bytes still to come.
    Sized(u64),
    /// Inside a chunked body.
    Chunked(Chunk),
    /// A body that ends with the connection (or a head we could not follow).
    ToTheEnd,
    /// hyper's own answer was replaced: what it writes after it is dropped.
    Replaced,
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk-size line (hex digits, maybe an extension after `;`)
    /// up to CR LF.
    Size { size: u64, ext: bool, cr: bool },
    /// Inside a chunk's data, this many bytes still to come.
    Data(u64),
    /// The CR LF after a chunk's data (`true` once the CR was seen).
    DataEnd(bool),
    /// In the trailer section: whether the current line is empty so far, and
    /// whether its CR was seen.
    Trailer { empty: bool, cr: bool },
}

impl Chunk {
    /// The start of a chunked body, or of its next chunk.
    const START: Chunk = Chunk::Size {
        size: 0,
        ext: false,
        cr: false,
    };

    /// Follows `bytes`; returns how many belong to this body and whether it ended.
    fn follow(&mut self, bytes: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < bytes.len() {
            match *self {
                Chunk::Data(left) => {
                    let take = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len() - i);
                    i += take;
                    let left = left - take as u64;
                    *self = if left == 0 {
                        Chunk::DataEnd(false)
                    } else {
                        Chunk::Data(left)
                    };
                    continue;
                }
                Chunk::Size { size, ext, cr } => {
                    let b = bytes.get(i).copied().unwrap_or_default();
                    *self = match (b, cr) {
                        (b'\n', true) if size == 0 => Chunk::Trailer {
                            empty: true,
                            cr: false,
                        },
                        (b'\n', true) => Chunk::Data(size),
                        (b'\r', _) => Chunk::Size {
                            size,
                            ext,
                            cr: true,
                        },
                        (b, false) if !ext && b.is_ascii_hexdigit() => Chunk::Size {
                            size: size.saturating_mul(16).saturating_add(u64::from(hex(b))),
                            ext,
                            cr: false,
                        },
                        // An extension: ignored up to the CR.
                        _ => Chunk::Size {
                            size,
                            ext: true,
                            cr: false,
                        },
                    };
                }
                Chunk::DataEnd(cr) => {
                    let b = bytes.get(i).copied().unwrap_or_default();
                    *self = match (b, cr) {
                        (b'\n', true) => Chunk::START,
                        _ => Chunk::DataEnd(true),
                    };
                }
                Chunk::Trailer { empty, cr } => {
                    let b = bytes.get(i).copied().unwrap_or_default();
                    match (b, cr) {
                        (b'\n', true) if empty => return (i + 1, true),
                        (b'\n', true) => {
                            *self = Chunk::Trailer {
                                empty: true,
                                cr: false,
                            }
                        }
                        (b'\r', _) => *self = Chunk::Trailer { empty, cr: true },
                        _ => {
                            *self = Chunk::Trailer {
                                empty: false,
                                cr: false,
                            }
                        }
                    }
                }
            }
            i += 1;
        }
        (i, false)
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// A connection whose writes are followed response by response, so that an
/// answer hyper makes by itself goes out as a page.
pub struct Answered<S> {
    inner: S,
    taken: Arc<Taken>,
    out: Out,
    /// The response head being gathered.
    head: Vec<u8>,
    /// Bytes accepted from hyper and not yet written to `inner`.
    pending: Vec<u8>,
    sent: usize,
    /// After a replaced answer: the write side is shut, and what the client
    /// still sends is read and dropped for a moment, so that closing does
    /// not reset the connection before the client has read the page.
    shut: bool,
    linger: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Told of each answer of hyper's own that is replaced.
    refused: fn(super::Refused, u16),
}

/// How long a connection whose answer was replaced waits for the client to
/// stop sending before it closes.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

impl<S> Answered<S> {
    /// Wraps `inner`; `taken` is shared with the service of this connection.
    pub fn new(inner: S, taken: Arc<Taken>, refused: fn(super::Refused, u16)) -> Self {
        Self {
            refused,
            inner,
            taken,
            out: Out::Head,
            head: Vec::new(),
            pending: Vec::new(),
            sent: 0,
            shut: false,
            linger: None,
        }
    }

    /// What to do with a complete response head: pass it on and follow its
    /// body, or, when no request is waiting for it, answer with a page.
    fn decide(&mut self) {
        let head = std::mem::take(&mut self.head);
        let text = String::from_utf8_lossy(&head);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0);
        if (100..200).contains(&status) {
            // An interim answer (100 Continue): the real one comes after.
            self.pending.extend_from_slice(&head);
            return;
        }
        let Some(was_head) = self.taken.pop() else {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            (self.refused)(super::Refused::BadHead, status.as_u16());
            self.pending = super::answers::raw_answer(status, &[]);
            self.out = Out::Replaced;
            return;
        };
        let mut length = None;
        let mut chunked = false;
        for line in text.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<u64>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        self.out = if was_head || status == 204 || status == 304 {
            Out::Head
        } else if chunked {
            Out::Chunked(Chunk::START)
        } else {
            match length {
                Some(0) => Out::Head,
                Some(n) => Out::Sized(n),
                None => Out::ToTheEnd,
            }
        };
        self.pending.extend_from_slice(&head);
    }
}

impl<S: AsyncWrite + Unpin> Answered<S> {
    /// Writes what is pending; ready once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let rest = self.pending.get(self.sent..).unwrap_or_default();
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Writes the part of `buf` that belongs to the current body.
    fn body(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let part = match self.out {
            Out::Sized(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                buf.get(..n).unwrap_or_default()
            }
            Out::Chunked(mut chunk) => {
                let (n, _) = chunk.follow(buf);
                buf.get(..n).unwrap_or_default()
            }
            _ => buf,
        };
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, part))?;
        match &mut self.out {
            Out::Sized(left) => {
                *left -= written as u64;
                if *left == 0 {
                    self.out = Out::Head;
                }
            }
            Out::Chunked(chunk) => {
                let (_, ended) = chunk.follow(buf.get(..written).unwrap_or_default());
                if ended {
                    self.out = Out::Head;
                }
            }
            _ => {}
        }
        Poll::Ready(Ok(written))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Answered<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        match this.out {
            Out::Replaced => Poll::Ready(Ok(buf.len())),
            Out::Head => {
                let before = this.head.len();
                this.head.extend_from_slice(buf);
                let from = before.saturating_sub(3);
                let end = this
                    .head
                    .get(from..)
                    .and_then(|tail| tail.windows(4).position(|w| w == b"\r\n\r\n"))
                    .map(|p| from + p + 4);
                let taken = match end {
                    Some(end) => {
                        this.head.truncate(end);
                        this.decide();
                        end - before
                    }
                    None if this.head.len() > MAX_HEAD => {
                        // Not a head we can follow: pass everything on as is.
                        let head = std::mem::take(&mut this.head);
                        this.pending.extend_from_slice(&head);
                        this.out = Out::ToTheEnd;
                        buf.len()
                    }
                    None => buf.len(),
                };
                // Written now if the socket takes it, else at the next call.
                let _ = this.drain(cx)?;
                Poll::Ready(Ok(taken))
            }
            _ => this.body(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if !this.shut {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.shut = true;
        }
        if this.out == Out::Replaced {
            ready!(this.linger(cx));
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> Answered<S> {
    /// Reads and drops what the client still sends, until it stops or
    /// [`LINGER`] has passed.
    fn linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = self
            .linger
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(LINGER)));
        // What it sends may be a signal: the buffer is wiped.
        let mut sink = zeroize::Zeroizing::new([0u8; 4096]);
        loop {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            let mut read = ReadBuf::new(sink.as_mut());
            match Pin::new(&mut self.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Answered<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_chunked_body_is_followed_to_its_end_and_no_further() {
        let body = b"5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\nHTTP/1.1";
        let end = body.len() - "HTTP/1.1".len();
        for split in 0..=body.len() {
            let mut chunk = Chunk::START;
            let (a, ended) = chunk.follow(&body[..split]);
            if ended {
                assert_eq!(a, end, "split at {split}");
                continue;
            }
            assert_eq!(a, split);
            let (b, ended) = chunk.follow(&body[split..]);
            assert!(ended, "split at {split}");
            assert_eq!(split + b, end, "split at {split}");
        }
        let mut chunk = Chunk::START;
        let trailers = b"0\r\nx-a: 1\r\n\r\nnext";
        assert_eq!(chunk.follow(trailers), (trailers.len() - 4, true));
    }
}
