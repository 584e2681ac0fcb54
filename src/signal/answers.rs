//! The answers to the questions: their strict decoding from a submitted form
//! (`application/x-www-form-urlencoded` bytes) and their validation.
//!
//! Invariant: every buffer that holds what the sender typed is wiped when it is
//! dropped. Decoding is strict: invalid UTF-8, a repeated field or a control
//! character is refused rather than silently altered.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::questions::{self, Kind};

/// The answers as typed, by field name. Wiped on drop.
#[derive(Default)]
pub struct Answers(pub BTreeMap<&'static str, Zeroizing<String>>);

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Answers {
    /// The answer to `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", |v| v.as_str())
    }
}

/// Why a body could not be read as a form at all (400).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not `name=value&…`, bad percent-encoding or not UTF-8.
    #[error("the body is not a valid form")]
    Malformed,
    /// A field appears twice.
    #[error("a field appears more than once")]
    Repeated,
    /// A control character other than tab or newline.
    #[error("a field holds a control character")]
    ControlCharacter,
}

/// What is wrong with one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// A required answer is missing or blank.
    Required,
    /// Longer than the question allows.
    TooLong(usize),
    /// Not one of the offered choices.
    BadChoice,
}

/// The decoded body: the answers plus the other fields the form sends.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Answers to known questions.
    pub answers: Answers,
    /// Other fields (`lang`, `confirm`, …), short and not secret.
    pub extra: BTreeMap<String, String>,
}

/// Decodes `application/x-www-form-urlencoded` strictly.
pub fn decode(body: &[u8]) -> Result<Decoded, DecodeError> {
    let mut out = Decoded::default();
    let questions = questions::all();
    for_each_pair(body, |name, value| {
        if let Some(q) = questions.iter().find(|q| q.name == *name) {
            let key: &'static str = q.name.as_str();
            if out.answers.0.insert(key, value).is_some() {
                return Err(DecodeError::Repeated);
            }
        } else if name.len() <= 32
            && value.len() <= 64
            && out
                .extra
                .insert(name.to_string(), value.to_string())
                .is_some()
        {
            return Err(DecodeError::Repeated);
        }
        // Unknown long fields are dropped without being kept anywhere.
        Ok(())
    })?;
    Ok(out)
}

/// Decodes a form strictly, keeping only the fields named in `names` (each
/// at most once); other fields are checked as strictly and then dropped.
pub fn decode_fields(
    body: &[u8],
    names: &[&'static str],
) -> Result<BTreeMap<&'static str, Zeroizing<String>>, DecodeError> {
    let mut out = BTreeMap::new();
    for_each_pair(body, |name, value| {
        if let Some(key) = names.iter().find(|n| **n == *name) {
            if out.insert(*key, value).is_some() {
                return Err(DecodeError::Repeated);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// One decoded `name=value` pair, both halves in wiped buffers.
pub type Pair = (Zeroizing<String>, Zeroizing<String>);

/// Decodes a form strictly into its `name=value` pairs, in order and with
/// repeated names kept (the review face's forms send one `id` per ticked
/// signal). Each half sits in a wiped buffer.
pub fn decode_pairs(body: &[u8]) -> Result<Vec<Pair>, DecodeError> {
    let mut out = Vec::new();
    for_each_pair(body, |name, value| {
        out.push((name, value));
        Ok(())
    })?;
    Ok(out)
}

/// Hands each `name=value` pair to `each`, decoded, with the control-character
/// rule applied and CRLF made LF. Both halves sit in wiped buffers.
fn for_each_pair(
    body: &[u8],
    mut each: impl FnMut(Zeroizing<String>, Zeroizing<String>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let name = decode_component(parts.next().unwrap_or_default())?;
        let value = decode_component(parts.next().unwrap_or_default())?;
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(DecodeError::ControlCharacter);
        }
        // Browsers send CRLF in textareas; keep one form of line break.
        let value = if value.contains('\r') {
            Zeroizing::new(value.replace("\r\n", "\n"))
        } else {
            value
        };
        each(name, value)?;
    }
    Ok(())
}

fn decode_component(raw: &[u8]) -> Result<Zeroizing<String>, DecodeError> {
    let mut plus_free = Zeroizing::new(raw.to_vec());
    for b in plus_free.iter_mut() {
        if *b == b'+' {
            *b = b' ';
        }
    }
    // Reject malformed escapes (`%zz`, a lone `%`) instead of passing them through.
    let mut i = 0;
    while let Some(pos) = plus_free
        .get(i..)
        .and_then(|rest| rest.iter().position(|b| *b == b'%'))
    {
        let at = i + pos;
        let hex = plus_free
            .get(at + 1..at + 3)
            .ok_or(DecodeError::Malformed)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(DecodeError::Malformed);
        }
        i = at + 3;
    }
    let bytes: Zeroizing<Vec<u8>> =
        Zeroizing::new(percent_encoding::percent_decode(&plus_free).collect());
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(DecodeError::Malformed),
    }
}

/// Checks the answers against the questions; errors by field name, in form order.
pub fn validate(answers: &Answers) -> Vec<(&'static str, FieldError)> {
    let mut errors = Vec::new();
    for q in questions::all() {
        let value = answers.get(&q.name);
        let name: &'static str = q.name.as_str();
        match q.kind {
            Kind::Textarea | Kind::Text => {
                if q.required && value.trim().is_empty() {
                    errors.push((name, FieldError::Required));
                } else if value.chars().count() > q.max_chars {
                    errors.push((name, FieldError::TooLong(q.max_chars)));
                }
            }
            Kind::Select | Kind::Radio => {
                if !value.is_empty() && !q.options.iter().any(|o| o == value) {
                    errors.push((name, FieldError::BadChoice));
                } else if q.required && value.is_empty() {
                    errors.push((name, FieldError::Required));
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_form_decodes_with_plus_and_percent() {
        let d = decode(b"situation=Te+hard%21%0D%0Aregel&rule=art.+3&lang=en").unwrap();
        assert_eq!(d.answers.get("situation"), "Te hard!\nregel");
        assert_eq!(d.answers.get("rule"), "art. 3");
        assert_eq!(d.extra.get("lang").map(String::as_str), Some("en"));
    }

    #[test]
    fn hostile_encodings_are_refused() {
        assert_eq!(
            decode(b"situation=%ff%fe").unwrap_err(),
            DecodeError::Malformed
        );
        assert_eq!(
            decode(b"situation=50%").unwrap_err(),
            DecodeError::Malformed
        );
        assert_eq!(
            decode(b"situation=%zz").unwrap_err(),
            DecodeError::Malformed
        );
        assert_eq!(
            decode(b"situation=a%00b").unwrap_err(),
            DecodeError::ControlCharacter
        );
        assert_eq!(
            decode(b"situation=a&situation=b").unwrap_err(),
            DecodeError::Repeated
        );
    }

    #[test]
    fn only_the_situation_is_required() {
        let d = decode(b"situation=++&domain=taxes").unwrap();
        assert_eq!(
            validate(&d.answers),
            vec![("situation", FieldError::Required)]
        );
        let d = decode(b"situation=x&domain=nonsense").unwrap();
        assert_eq!(
            validate(&d.answers),
            vec![("domain", FieldError::BadChoice)]
        );
        let d = decode(b"situation=x").unwrap();
        assert!(validate(&d.answers).is_empty());
    }

    #[test]
    fn named_fields_decode_strictly_and_others_are_dropped() {
        let d = decode_fields(
            b"receipt=abcd+efgh&message=Lang%0D%0Abericht&junk=x",
            &["receipt", "message"],
        )
        .unwrap();
        assert_eq!(d.get("receipt").map(|v| v.as_str()), Some("abcd efgh"));
        assert_eq!(d.get("message").map(|v| v.as_str()), Some("Lang\nbericht"));
        assert_eq!(d.len(), 2);
        assert_eq!(
            decode_fields(b"message=a&message=b", &["message"]).unwrap_err(),
            DecodeError::Repeated
        );
        assert_eq!(
            decode_fields(b"junk=%ff", &["message"]).unwrap_err(),
            DecodeError::Malformed
        );
    }

    #[test]
    fn length_is_counted_in_characters() {
        let long = "é".repeat(301);
        let body = format!("situation=x&organisation={}", long);
        let d = decode(body.as_bytes()).unwrap();
        assert_eq!(
            validate(&d.answers),
            vec![("organisation", FieldError::TooLong(300))]
        );
    }
}
