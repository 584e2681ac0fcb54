//! From validated answers to a durable, sealed signal and its receipt.
//!
//! Invariant: the answers leave this module only as an age envelope. The JSON
//! that holds them is built in a buffer sized once (so no reallocation leaves an
//! unwiped copy), padded, encrypted and wiped.

use age::x25519;
use serde::Serialize;
use zeroize::Zeroizing;

use super::form::Answers;
use crate::config::Precision;
use crate::crypto::{self, CryptoError, Receipt};
use crate::store::{NewSignal, Store, StoreError};
use crate::views::Lang;

/// Why a valid signal could not be stored. Either way, nothing was kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Encryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The store did not commit.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize)]
struct Plaintext<'a> {
    v: u8,
    lang: &'a str,
    answers: std::collections::BTreeMap<&'a str, &'a str>,
}

/// Serialises the non-empty answers as `{"v":1,"lang":…,"answers":{…}}`, padded.
pub fn plaintext(lang: Lang, answers: &Answers) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let doc = Plaintext {
        v: 1,
        lang: lang.code(),
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

/// Seals `answers` to the team and the receipt's source recipient, stores the
/// envelope durably, and only then returns the receipt.
pub async fn seal_and_store(
    store: &Store,
    team: &[x25519::Recipient],
    precision: Precision,
    lang: Lang,
    answers: &Answers,
) -> Result<Receipt, SealError> {
    let receipt = Receipt::generate();
    let source = receipt.derive(store.install_salt())?;
    let source_recipient = source.identity.to_public();
    let envelope = {
        let plain = plaintext(lang, answers)?;
        crypto::seal_for(&plain, team, Some(&source_recipient))?
        // `plain` is wiped here.
    };
    let signal = NewSignal {
        id: crypto::random_id(),
        received_on: received_on(precision, time::OffsetDateTime::now_utc().date()),
        lookup_tag: source.tag,
        source_recipient: source_recipient.to_string(),
        format: crypto::FORMAT_AGE_X25519,
        envelope,
    };
    store.insert_signal(signal).await?;
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_week_is_kept_as_its_monday() {
        let thu = time::macros::date!(2026 - 11 - 26);
        assert_eq!(received_on(Precision::Week, thu), "2026-11-23");
        assert_eq!(received_on(Precision::Day, thu), "2026-11-26");
    }

    #[test]
    fn the_plaintext_is_padded_json_with_only_given_answers() {
        let d = crate::intake::form::decode(b"situation=te+hard&rule=&domain=taxes").unwrap();
        let plain = plaintext(Lang::En, &d.answers).unwrap();
        assert_eq!(plain.len(), 1024);
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["lang"], "en");
        assert_eq!(v["answers"]["situation"], "te hard");
        assert_eq!(v["answers"]["domain"], "taxes");
        assert!(v["answers"].get("rule").is_none());
    }
}
