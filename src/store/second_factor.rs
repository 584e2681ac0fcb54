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

/// How one second-factor attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Not checked: the rule said wait (or locked), with its reason.
    Held(&'static str),
    /// A wrong code; the record as it now stands.
    Wrong(SecondFactor),
    /// The right code of a step already used.
    Replayed,
    /// Accepted; how many second factors were refused since the last login.
    Accepted(u64),
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
    /// One second-factor attempt of `reviewer` against the TOTP file `file`
    /// at Unix time `now`, decided in one write so that attempts at the same
    /// moment cannot slip past the rule together: `held` says whether the
    /// record lets a code be checked at all; `step` checks the code (the time
    /// step it matches). An accepted step is claimed as
    /// [`Store::claim_totp_step`] does, and the record starts afresh.
    pub async fn second_factor_attempt<H, S>(
        &self,
        reviewer: &str,
        file: [u8; 32],
        now: u64,
        held: H,
        step: S,
    ) -> Result<Attempt, StoreError>
    where
        H: FnOnce(&SecondFactor) -> Option<&'static str> + Send + 'static,
        S: FnOnce() -> Option<u64> + Send + 'static,
    {
        let reviewer = reviewer.to_owned();
        self.write(move |c| {
            let mut record = read(c, &reviewer)?.against(&file);
            let save = |record: &SecondFactor| {
                c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                    .execute(params![key(&reviewer), record.encode()])
            };
            if let Some(reason) = held(&record) {
                record.refused = record.refused.saturating_add(1);
                save(&record)?;
                return Ok(Attempt::Held(reason));
            }
            let Some(step) = step() else {
                record.refused = record.refused.saturating_add(1);
                record.wrong = record.wrong.saturating_add(1);
                record.last_wrong = now;
                save(&record)?;
                return Ok(Attempt::Wrong(record));
            };
            if !super::claim_step(c, &reviewer, step)? {
                record.refused = record.refused.saturating_add(1);
                save(&record)?;
                return Ok(Attempt::Replayed);
            }
            c.prepare_cached("DELETE FROM meta WHERE key = ?1")?
                .execute(params![key(&reviewer)])?;
            Ok(Attempt::Accepted(record.refused))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn wrong_codes_are_counted_held_codes_not_checked_and_a_login_starts_afresh() {
        let (_dir, store) = crate::store::testing::store_with(&[]).await;
        let file = [1u8; 32];
        let held = |r: &SecondFactor| (r.wrong >= 2).then_some("held");
        let open = |_: &SecondFactor| None;
        let attempt = |file, now, held: fn(&SecondFactor) -> Option<&'static str>, step| {
            let store = store.clone();
            async move {
                store
                    .second_factor_attempt("ann", file, now, held, move || step)
                    .await
                    .unwrap()
            }
        };
        assert!(matches!(
            attempt(file, 100, held, None).await,
            Attempt::Wrong(SecondFactor {
                wrong: 1,
                refused: 1,
                last_wrong: 100,
                ..
            })
        ));
        assert!(matches!(
            attempt(file, 101, held, None).await,
            Attempt::Wrong(SecondFactor {
                wrong: 2,
                refused: 2,
                ..
            })
        ));
        assert_eq!(
            attempt(file, 102, held, Some(7)).await,
            Attempt::Held("held"),
            "the right code is not even checked"
        );
        // A new TOTP file: wrong codes against the old one no longer count,
        // the refusals since the last login still do.
        assert_eq!(
            attempt([2u8; 32], 103, held, Some(7)).await,
            Attempt::Accepted(3)
        );
        assert_eq!(attempt(file, 104, open, Some(7)).await, Attempt::Replayed);
        assert_eq!(
            attempt(file, 105, open, Some(8)).await,
            Attempt::Accepted(1),
            "a login starts the count afresh"
        );
    }
}
