//! What the queue shows of a signal at a glance: a reference that can be read
//! aloud, and — decrypted with the session's unlocked identity while the page
//! is rendered — the first words of the situation and the sender's choice of
//! domain and scale.
//!
//! Invariants: the reference is a part of the random id (never a counter, so
//! it orders nothing); what is decrypted lives only in wiped buffers and the
//! wiped response body, and the caller audits which signals it shows before
//! anything is decrypted. The sender's choices stay inside the envelope: in
//! the clear they would tell a reader of the disk what the sender wrote.

use zeroize::Zeroizing;

use crate::signal::questions;
use crate::signal::sealed::open_answers;

/// About how many characters of the situation the queue shows.
pub const SNIPPET_CHARS: usize = 100;

/// The characters of a reference: the first eight of the (base32) id.
const REFERENCE_LEN: usize = 8;

/// The signal's reference: the first eight characters of its random id, in
/// capitals, in two groups of four (`KQ7M-2XPA`). Base32 has no 0, 1, 8 or 9,
/// so nothing in it is mistaken for O, I or B on the phone.
pub fn reference(id: &str) -> String {
    let head: String = id
        .chars()
        .take(REFERENCE_LEN)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match head.split_at_checked(4) {
        Some((a, b)) if !b.is_empty() => format!("{a}-{b}"),
        _ => head,
    }
}

/// A typed reference as the start of an id (lower case, no dashes or
/// spaces; O, I and B read as 0, 1 and 8 would be), if it can be one.
pub fn parse_reference(typed: &str) -> Option<String> {
    let mut out = String::new();
    for c in typed.chars() {
        let c = match c.to_ascii_lowercase() {
            '-' | ' ' => continue,
            '0' => 'o',
            '1' => 'i',
            '8' => 'b',
            c => c,
        };
        if !(c.is_ascii_lowercase() || ('2'..='7').contains(&c)) {
            return None;
        }
        out.push(c);
    }
    (4..=16).contains(&out.len()).then_some(out)
}

/// What the queue shows of one signal's content.
#[derive(Default)]
pub struct Glance {
    /// The first words of the situation, with "…" when cut.
    pub snippet: Zeroizing<String>,
    /// The sender's choice of domain (a code of the form), if any.
    pub domain: Option<&'static str>,
    /// The sender's choice of scale (a code of the form), if any.
    pub scale: Option<&'static str>,
    /// Whether the envelope could be opened with this identity.
    pub opened: bool,
}

/// One of the form's option codes of `question`, as a `'static` str.
fn option(question: &str, value: &str) -> Option<&'static str> {
    questions::options(question)
        .iter()
        .find(|o| *o == value)
        .map(String::as_str)
}

/// The first `max` characters of `text` or fewer, cut at a space where one
/// is near, with "…" when anything was left out; whitespace runs become one space.
pub fn snippet(text: &str, max: usize) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(max * 4 + 4));
    let mut cut = false;
    for word in text.split_whitespace() {
        let len = out.chars().count();
        let sep = usize::from(len > 0);
        if len + sep + word.chars().count() > max {
            if len < max / 2 {
                // One long word: cut inside it.
                if sep == 1 {
                    out.push(' ');
                }
                out.extend(word.chars().take(max.saturating_sub(len + sep)));
            }
            cut = true;
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if cut {
        out.push('…');
    }
    out
}

/// Opens `envelope` with `identity` and takes what the queue shows of it.
pub fn glance(envelope: &[u8], identity: &age::x25519::Identity) -> Glance {
    let Ok(answers) = open_answers(envelope, identity) else {
        return Glance::default();
    };
    let mut g = Glance {
        opened: true,
        ..Glance::default()
    };
    for (name, value) in &answers {
        match name.as_str() {
            "situation" => g.snippet = snippet(value, SNIPPET_CHARS),
            "domain" => g.domain = option("domain", value),
            "scale" => g.scale = option("scale", value),
            _ => {}
        }
    }
    g
}

/// Only the sender's choice of domain, for the domain filter.
pub fn chosen_domain(envelope: &[u8], identity: &age::x25519::Identity) -> Option<&'static str> {
    let answers = open_answers(envelope, identity).ok()?;
    answers
        .iter()
        .find(|(name, _)| name == "domain")
        .and_then(|(_, v)| option("domain", v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_the_start_of_the_id_in_two_groups_and_reads_back() {
        assert_eq!(reference("kq7m2xpaabcdefgh"), "KQ7M-2XPA");
        assert_eq!(parse_reference("kq7m 2xpa").as_deref(), Some("kq7m2xpa"));
        assert_eq!(parse_reference("KQ7M-2XPA").as_deref(), Some("kq7m2xpa"));
        assert_eq!(parse_reference("B00K-1111").as_deref(), Some("bookiiii"));
        assert_eq!(parse_reference("x'; drop"), None);
        assert_eq!(parse_reference("ab"), None);
    }

    #[test]
    fn a_snippet_stops_near_its_length_at_a_word() {
        let s = snippet(
            "Een  regel\ndie te hard uitpakt voor wie een dag te laat is met het formulier voor de toeslag van dit jaar en meer",
            40,
        );
        assert_eq!(s.as_str(), "Een regel die te hard uitpakt voor wie…");
        assert_eq!(snippet("kort", 40).as_str(), "kort");
        let long = "x".repeat(300);
        assert_eq!(snippet(&long, 10).chars().count(), 11);
    }
}
