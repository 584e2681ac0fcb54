//! From validated answers to a durable, sealed signal and its receipt.
//!
//! Invariant: the receipt is returned only after the sealed signal's
//! transaction has committed; the answers reach the store only as the age
//! envelope that [`crate::signal::sealed`] makes of them.

use age::x25519;

use crate::config::Precision;
use crate::crypto::{self, CryptoError, Receipt};
use crate::signal::answers::Answers;
use crate::signal::sealed;
use crate::store::signals::NewSignal;
use crate::store::{Store, StoreError};
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
    let envelope = sealed::seal_answers(lang.code(), answers, team, Some(&source_recipient))?;
    let signal = NewSignal {
        id: crypto::random_id(),
        received_on: sealed::received_on(precision, time::OffsetDateTime::now_utc().date()),
        lookup_tag: source.tag,
        source_recipient: source_recipient.to_string(),
        format: crypto::FORMAT_AGE_X25519,
        envelope,
    };
    store.insert_signal(signal).await?;
    Ok(receipt)
}
