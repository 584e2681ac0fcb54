//! The sealed document: what a signal, a note and a message look like inside
//! their age envelopes, and the day a signal is kept as received.
//!
//! A signal's plaintext is `{"v":1,"lang":…,"answers":{…}}`, a note's or
//! message's `{"v":1,"text":…}`, a reviewer's record of several texts (a
//! hardship, a measure) `{"v":1,"fields":{…}}`; all are padded to a size bucket before they
//! are sealed with [`crate::crypto`]. Of when, only the day (or the week's
//! Monday) is kept.
//!
//! Invariant: plaintext leaves this module only as an age envelope. The JSON
//! that holds it is built in a buffer sized once (so no reallocation leaves an
//! unwiped copy), padded, encrypted and wiped; what is opened comes back in
//! wiped buffers.

use age::x25519;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::answers::Answers;
use super::questions;
use crate::config::Precision;
use crate::crypto::{self, CryptoError};

#[derive(Serialize)]
struct Plaintext<'a> {
    v: u8,
    lang: &'a str,
    answers: std::collections::BTreeMap<&'a str, &'a str>,
}

/// Serialises the non-empty answers as `{"v":1,"lang":…,"answers":{…}}`,
/// padded; `lang` is the code of the language the sender wrote in.
pub fn plaintext(lang: &str, answers: &Answers) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let doc = Plaintext {
        v: 1,
        lang,
        answers: answers
            .0
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (*k, v.as_str()))
            .collect(),
    };
    // First pass counts, second writes into a buffer that never grows.
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, &doc).map_err(|_| CryptoError::Seal)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(crypto::padded_len(counter.0)));
    serde_json::to_writer(&mut *buf, &doc).map_err(|_| CryptoError::Seal)?;
    crypto::pad(&mut buf);
    Ok(buf)
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Seals `answers` to the team and, when given, the receipt's source recipient.
pub fn seal_answers(
    lang: &str,
    answers: &Answers,
    team: &[x25519::Recipient],
    source: Option<&x25519::Recipient>,
) -> Result<Vec<u8>, CryptoError> {
    let plain = plaintext(lang, answers)?;
    crypto::seal_for(&plain, team, source)
    // `plain` is wiped here.
}

#[derive(Deserialize)]
struct SignalDoc {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    answers: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct TextDoc {
    #[serde(default)]
    text: String,
}

/// Decrypts a signal envelope into (field name, answer) pairs in form order.
pub fn open_answers(
    envelope: &[u8],
    identity: &x25519::Identity,
) -> Result<Vec<(String, Zeroizing<String>)>, CryptoError> {
    open_signal(envelope, identity).map(|(_, answers)| answers)
}

/// Decrypted answers: (field name, answer) pairs in form order.
pub type OpenedAnswers = Vec<(String, Zeroizing<String>)>;

/// Decrypts a signal envelope into the code of the language the sender
/// wrote in ("" if it does not say) and the answers in form order.
pub fn open_signal(
    envelope: &[u8],
    identity: &x25519::Identity,
) -> Result<(String, OpenedAnswers), CryptoError> {
    let plain = crypto::open(envelope, &[identity])?;
    let mut doc: SignalDoc = serde_json::from_slice(&plain).map_err(|_| CryptoError::Open)?;
    let lang = std::mem::take(&mut doc.lang);
    let mut out = Vec::with_capacity(doc.answers.len());
    for q in questions::all() {
        if let Some(v) = doc.answers.remove(&q.name) {
            out.push((q.name.clone(), Zeroizing::new(v)));
        }
    }
    for (k, v) in std::mem::take(&mut doc.answers) {
        out.push((k, Zeroizing::new(v)));
    }
    Ok((lang, out))
}

/// Seals a note or message text as padded `{"v":1,"text":…}` JSON.
pub fn seal_text(
    text: &str,
    team: &[x25519::Recipient],
    source: Option<&x25519::Recipient>,
) -> Result<Vec<u8>, CryptoError> {
    let json = Zeroizing::new(
        serde_json::to_vec(&serde_json::json!({ "v": 1, "text": text }))
            .map_err(|_| CryptoError::Seal)?,
    );
    let mut plain = Zeroizing::new(Vec::with_capacity(crypto::padded_len(json.len())));
    plain.extend_from_slice(&json);
    crypto::pad(&mut plain);
    crypto::seal_for(&plain, team, source)
}

/// Opens a note or message.
pub fn open_text(
    envelope: &[u8],
    identity: &x25519::Identity,
) -> Result<Zeroizing<String>, CryptoError> {
    let plain = crypto::open(envelope, &[identity])?;
    let doc: TextDoc = serde_json::from_slice(&plain).map_err(|_| CryptoError::Open)?;
    Ok(Zeroizing::new(doc.text))
}

#[derive(Serialize)]
struct FieldsOut<'a> {
    v: u8,
    fields: std::collections::BTreeMap<&'a str, &'a str>,
}

#[derive(Deserialize)]
struct FieldsDoc {
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
}

/// Seals a reviewer's record of several texts (a hardship, a measure) as
/// padded `{"v":1,"fields":{…}}` JSON, to the team alone; empty texts are
/// left out.
pub fn seal_fields(
    fields: &[(&str, &str)],
    team: &[x25519::Recipient],
) -> Result<Vec<u8>, CryptoError> {
    let doc = FieldsOut {
        v: 1,
        fields: fields
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (*k, *v))
            .collect(),
    };
    // As for a signal: counted first, so the buffer never grows and leaves no copy.
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, &doc).map_err(|_| CryptoError::Seal)?;
    let mut plain = Zeroizing::new(Vec::with_capacity(crypto::padded_len(counter.0)));
    serde_json::to_writer(&mut *plain, &doc).map_err(|_| CryptoError::Seal)?;
    crypto::pad(&mut plain);
    crypto::seal_for(&plain, team, None)
}

/// Opens a record sealed with [`seal_fields`]: (name, text) pairs by name.
pub fn open_fields(
    envelope: &[u8],
    identity: &x25519::Identity,
) -> Result<Vec<(String, Zeroizing<String>)>, CryptoError> {
    let plain = crypto::open(envelope, &[identity])?;
    let doc: FieldsDoc = serde_json::from_slice(&plain).map_err(|_| CryptoError::Open)?;
    Ok(doc
        .fields
        .into_iter()
        .map(|(k, v)| (k, Zeroizing::new(v)))
        .collect())
}

/// Today (UTC), coarsened to the configured precision, as `YYYY-MM-DD`.
pub fn received_on(precision: Precision, today: time::Date) -> String {
    let day = match precision {
        Precision::Day => today,
        Precision::Week => {
            let back = i64::from(today.weekday().number_days_from_monday());
            today
                .checked_sub(time::Duration::days(back))
                .unwrap_or(today)
        }
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    day.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_record_of_several_texts_is_padded_and_opens_again() {
        let identity = x25519::Identity::generate();
        let sealed = seal_fields(
            &[("title", "Mantelzorgers"), ("cause", "")],
            &[identity.to_public()],
        )
        .unwrap();
        let opened = open_fields(&sealed, &identity).unwrap();
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[0].0, "title");
        assert_eq!(opened[0].1.as_str(), "Mantelzorgers");
    }

    #[test]
    fn the_week_is_kept_as_its_monday() {
        let thu = time::macros::date!(2026 - 11 - 26);
        assert_eq!(received_on(Precision::Week, thu), "2026-11-23");
        assert_eq!(received_on(Precision::Day, thu), "2026-11-26");
    }

    #[test]
    fn the_plaintext_is_padded_json_with_only_given_answers() {
        let d = crate::signal::answers::decode(b"situation=te+hard&rule=&domain=taxes").unwrap();
        let plain = plaintext("en", &d.answers).unwrap();
        assert_eq!(plain.len(), 1024);
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["lang"], "en");
        assert_eq!(v["answers"]["situation"], "te hard");
        assert_eq!(v["answers"]["domain"], "taxes");
        assert!(v["answers"].get("rule").is_none());
    }
}
