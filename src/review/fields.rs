//! Reading the review face's `application/x-www-form-urlencoded` bodies.
//!
//! Invariant: every decoded value (a passphrase, a note) lives in a buffer that
//! is wiped on drop; the raw body is wiped too. Repeated names are kept in order
//! (the export form sends one `id` per ticked signal). Decoding is the
//! intake's strict one ([`crate::signal::answers::decode_pairs`]): a bad
//! escape, invalid UTF-8 or a control character refuses the whole form, so a
//! stray `%ff` never becomes U+FFFD in a name, a note or a passphrase.

use axum::body::Body;
use zeroize::Zeroizing;

use super::ReviewError;
use super::session::Reviewer;
use crate::signal::answers::decode_pairs;
use crate::web;

/// Largest form body of the review face (a note or message of a few pages).
pub const MAX_BODY: usize = 64 * 1024;

/// Decoded form fields.
#[derive(Default)]
pub struct Fields(Vec<(String, Zeroizing<String>)>);

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Fields {
    /// Decodes a body; `None` if it cannot be read, is too large or is not
    /// a strictly valid form.
    pub async fn read(body: Body) -> Option<Self> {
        let raw = web::read_body(body, MAX_BODY).await.ok()?;
        Self::parse(&raw)
    }

    /// Reads the body of a state-changing request and checks its session-bound
    /// `csrf` field: the one gate every review form passes.
    pub async fn read_checked(body: Body, reviewer: &Reviewer) -> Result<Self, ReviewError> {
        let fields = Self::read(body).await.ok_or(ReviewError::BadRequest)?;
        if !reviewer.csrf_ok(fields.get("csrf")) {
            return Err(ReviewError::Forbidden);
        }
        Ok(fields)
    }

    /// Decodes urlencoded bytes strictly; `None` if they are not a valid form.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let pairs = decode_pairs(raw).ok()?;
        Some(Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
        ))
    }

    /// The first value named `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value named `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn repeated_and_encoded_fields_are_read() {
        let f = Fields::parse(b"id=a&id=b&note=caf%C3%A9+ok%0D%0Aregel&csrf=x").unwrap();
        assert_eq!(f.all("id"), ["a", "b"]);
        assert_eq!(f.get("note"), "café ok\nregel");
        assert_eq!(f.get("missing"), "");
    }

    #[test]
    fn invalid_utf8_a_bad_escape_or_a_control_character_refuses_the_form() {
        for raw in [
            &b"name=%ff"[..],
            b"note=caf%C3",
            b"name=a%zz",
            b"name=50%",
            b"note=a%00b",
            b"na%ffme=x",
        ] {
            assert!(
                Fields::parse(raw).is_none(),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
