//! What the store keeps of each reviewer's refused second factors since their
//! last login: how many were refused (for the notice at the next login), how
//! many wrong codes in a row (for the backoff and the lockout), when the last
//! one came, and which TOTP file they were counted against.
//!
//! Invariant: no code, passphrase or secret is kept, only counts, a time to
//! the second (of a reviewer's act, never a sender's) and a SHA-256 of the
//! sealed TOTP file. A new file (`signaal reviewer totp NAME`) starts the count
//! of wrong codes afresh, which is how a lockout is lifted.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A reviewer's second-factor record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecondFactor {
    /// Second factors refused since the last login (wrong, replayed, held back).
    pub refused: u64,
    /// Wrong codes in a row against the current TOTP file.
    pub wrong: u32,
    /// Unix time of the last wrong code.
    pub last_wrong: u64,
    /// SHA-256 of the TOTP file the wrong codes were counted against.
    pub file: [u8; 32],
}

impl SecondFactor {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(52);
        out.extend_from_slice(&self.refused.to_be_bytes());
        out.extend_from_slice(&self.wrong.to_be_bytes());
        out.extend_from_slice(&self.last_wrong.to_be_bytes());
        out.extend_from_slice(&self.file);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Self {
            refused: u64::from_be_bytes(bytes.get(0..8)?.try_into().ok()?),
            wrong: u32::from_be_bytes(bytes.get(8..12)?.try_into().ok()?),
            last_wrong: u64::from_be_bytes(bytes.get(12..20)?.try_into().ok()?),
            file: bytes.get(20..52)?.try_into().ok()?,
        })
    }

    /// The record as it stands for the TOTP file `file`: wrong codes counted
    /// against another file no longer count.
    pub fn against(mut self, file: &[u8; 32]) -> Self {
        if self.file != *file {
            self.wrong = 0;
            self.last_wrong = 0;
            self.file = *file;
        }
        self
    }
}

fn key(reviewer: &str) -> String {
    format!("second_factor/{reviewer}")
}

fn read(c: &rusqlite::Connection, reviewer: &str) -> rusqlite::Result<SecondFactor> {
    let value: Option<Vec<u8>> = c
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key(reviewer)], |r| r.get(0))
        .optional()?;
    Ok(value
        .as_deref()
        .and_then(SecondFactor::decode)
        .unwrap_or_default())
}

impl Store {
    /// `reviewer`'s record, as counted against the TOTP file `file`.
    pub async fn second_factor(
        &self,
        reviewer: &str,
        file: [u8; 32],
    ) -> Result<SecondFactor, StoreError> {
        let reviewer = reviewer.to_owned();
        self.read(move |c| Ok(read(c, &reviewer)?.against(&file)))
            .await
    }

    /// Counts a refused second factor of `reviewer` against the TOTP file
    /// `file`; a wrong code (`wrong_at`, Unix time) also counts towards the
    /// backoff. Returns the record as stored.
    pub async fn second_factor_refused(
        &self,
        reviewer: &str,
        file: [u8; 32],
        wrong_at: Option<u64>,
    ) -> Result<SecondFactor, StoreError> {
        let reviewer = reviewer.to_owned();
        self.write(move |c| {
            let mut record = read(c, &reviewer)?.against(&file);
            record.refused = record.refused.saturating_add(1);
            if let Some(at) = wrong_at {
                record.wrong = record.wrong.saturating_add(1);
                record.last_wrong = at;
            }
            c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                .execute(params![key(&reviewer), record.encode()])?;
            Ok(record)
        })
        .await
    }

    /// A login of `reviewer` succeeded: the record starts afresh. Returns how
    /// many second factors were refused since the last login.
    pub async fn second_factor_passed(&self, reviewer: &str) -> Result<u64, StoreError> {
        let reviewer = reviewer.to_owned();
        self.write(move |c| {
            let refused = read(c, &reviewer)?.refused;
            c.prepare_cached("DELETE FROM meta WHERE key = ?1")?
                .execute(params![key(&reviewer)])?;
            Ok(refused)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn refusals_are_counted_until_a_login_and_a_new_file_forgets_wrong_codes() {
        let (_dir, store) = crate::store::testing::store_with(&[]).await;
        let file = [1u8; 32];
        store
            .second_factor_refused("ann", file, Some(100))
            .await
            .unwrap();
        store
            .second_factor_refused("ann", file, None)
            .await
            .unwrap();
        let r = store.second_factor("ann", file).await.unwrap();
        assert_eq!((r.refused, r.wrong, r.last_wrong), (2, 1, 100));
        let renewed = store.second_factor("ann", [2u8; 32]).await.unwrap();
        assert_eq!((renewed.refused, renewed.wrong), (2, 0));
        assert_eq!(store.second_factor_passed("ann").await.unwrap(), 2);
        assert_eq!(
            store.second_factor("ann", file).await.unwrap(),
            SecondFactor {
                file,
                ..SecondFactor::default()
            }
        );
    }
}
