//! The store's side of the audit chain: appending a row through the writer,
//! reading a signal's trail, and checking the chain (whose format and hashing
//! live in [`crate::audit`]).
//!
//! Invariant: rows are appended only inside the single writer, so the chain
//! has no forks; a decryption's row is durable before the signal is opened.

use rusqlite::params;

use super::{Store, StoreError};
use crate::audit::{self, Action, Entry};

/// Audit rows shown on a signal's page (the newest).
pub const TRAIL_SHOWN: u32 = 100;

/// The latest [`TRAIL_SHOWN`] audit rows about signal `id`, newest first, and
/// how many there are in all.
pub(super) fn trail_of(
    c: &rusqlite::Connection,
    id: &str,
) -> rusqlite::Result<(Vec<audit::Row>, u64)> {
    let trail = c
        .prepare_cached(
            "SELECT seq, at, actor, action, signal_id, detail, prev_hash, hash
             FROM audit WHERE signal_id = ?1 ORDER BY seq DESC LIMIT ?2",
        )?
        .query_map(params![id, TRAIL_SHOWN], audit::read_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total: u64 = c
        .prepare_cached("SELECT count(*) FROM audit WHERE signal_id = ?1")?
        .query_row(params![id], |r| r.get(0))?;
    Ok((trail, total))
}

impl Store {
    /// Keeps an audit row of something a sender did (a withdrawal), with only
    /// its day: it joins the chain at the first mix after that day, so
    /// neither its time nor its place in the chain dates the sender. Returns
    /// once durable, as part of the caller's write when given its connection.
    pub fn audit_for_sender(
        c: &rusqlite::Connection,
        day: &str,
        entry: &Entry,
    ) -> rusqlite::Result<()> {
        c.prepare_cached(
            "INSERT INTO inbox_audit (id, day, actor, action, signal_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            crate::crypto::random_id(),
            day,
            entry.actor,
            entry.action.as_str(),
            entry.signal_id,
            entry.detail
        ])?;
        Ok(())
    }

    /// Appends one audit row on its own (logins, searches, reports).
    pub async fn audit(&self, entry: Entry) -> Result<(), StoreError> {
        self.write(move |c| audit::append(c, &entry)).await
    }

    /// Appends `entries` to the audit chain in one transaction; returns once
    /// they are durable (one sync for a page that records several things).
    pub async fn audit_all(&self, entries: Vec<Entry>) -> Result<(), StoreError> {
        self.write(move |c| {
            for entry in &entries {
                audit::append(c, entry)?;
            }
            Ok(())
        })
        .await
    }

    /// Appends one audit row, on the calling thread (command-line tools).
    pub fn audit_blocking(&self, entry: Entry) -> Result<(), StoreError> {
        let handle = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|_| StoreError::Unavailable)?;
        handle.block_on(self.audit(entry))
    }

    /// Records that `actor` decrypts signal `id` in the session named
    /// `session` (as its login row names it); returns once the row is durable.
    pub async fn audit_view(&self, actor: &str, id: &str, session: &str) -> Result<(), StoreError> {
        self.audit(Entry::on(
            actor,
            Action::View,
            id,
            format!("session {session}"),
        ))
        .await
    }

    /// Checks the audit chain, and that it holds every head in `pins`.
    pub fn verify_audit_blocking(&self, pins: &[audit::Pin]) -> Result<audit::Verdict, StoreError> {
        self.read_blocking(|c| audit::verify(c, pins))
    }

    /// Writes the head of the audit chain to the log, so that a copy of it
    /// lives outside the database (at every mix and at the stop).
    pub fn log_audit_head(&self) {
        match self.read_blocking(audit::head) {
            Ok(head) => tracing::info!("audit head: {head}"),
            Err(e) => tracing::warn!(error = %e, "the audit head could not be read"),
        }
    }
}
