//! Reading the review face's `application/x-www-form-urlencoded` bodies.
//!
//! Invariant: every decoded value (a passphrase, a note) lives in a buffer that
//! is wiped on drop; the raw body is wiped too. Repeated names are kept in order
//! (the export form sends one `id` per ticked signal).

use axum::body::Body;
use zeroize::Zeroizing;

use super::ReviewError;
use super::session::Reviewer;
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
    /// Decodes a body; `None` if it cannot be read or is too large.
    pub async fn read(body: Body) -> Option<Self> {
        let raw = web::read_body(body, MAX_BODY).await.ok()?;
        Some(Self::parse(&raw))
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

    /// Decodes urlencoded bytes.
    pub fn parse(raw: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), Zeroizing::new(v.into_owned())))
                .collect(),
        )
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
    use super::*;

    #[test]
    fn repeated_and_encoded_fields_are_read() {
        let f = Fields::parse(b"id=a&id=b&note=caf%C3%A9+ok&csrf=x");
        assert_eq!(f.all("id"), ["a", "b"]);
        assert_eq!(f.get("note"), "café ok");
        assert_eq!(f.get("missing"), "");
    }
}
