//! Retention: `signaal purge`, and the same run once a day inside the server.
//!
//! Invariants: deletion is real. The connection runs with `secure_delete`, so
//! SQLite overwrites deleted content — cells and whole freed pages — with
//! zeros; afterwards the WAL is checkpointed and truncated, so no copy of a
//! purged envelope stays in free pages or the WAL. (No `VACUUM`: on a large
//! store it would hold the write lock for minutes and turn senders away.)
//! A purged signal takes its notes and messages with it, and the audit log
//! keeps one row saying that it was purged and why (its id and status, never
//! content), in the same transaction as the deletion.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior, params};

use super::{OpsError, open_db};
use crate::audit::append_named;
use crate::config::Retention;
use crate::store::DB_FILE;

/// The audit action of a purge.
pub const ACTION: &str = "purge";

/// What one run deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Signals deleted, with their notes and messages.
    pub signals: usize,
}

/// Deletes every signal older than the retention of its status, as of `today`
/// (`YYYY-MM-DD`, UTC), then scrubs the file. `actor` is written to the audit
/// log ("(retention)" for the server's daily run).
pub fn purge(
    data_dir: &Path,
    retention: &Retention,
    today: time::Date,
    actor: &str,
) -> Result<Purged, OpsError> {
    let mut conn = open_db(&data_dir.join(DB_FILE))?;
    let purged = delete_expired(&mut conn, retention, today, actor)?;
    if purged.signals > 0 {
        scrub(&conn)?;
    }
    Ok(purged)
}

/// Deletes the expired signals, their notes and messages, each with an audit
/// row, in one write transaction.
fn delete_expired(
    conn: &mut Connection,
    retention: &Retention,
    today: time::Date,
    actor: &str,
) -> Result<Purged, OpsError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut purged = Purged::default();
    for (status, days) in retention.limits() {
        let cutoff = day_before(today, days);
        // A finished signal counts from the day it was finished (feedback_on);
        // an open one from the day it arrived.
        let ids: Vec<String> = tx
            .prepare(
                "SELECT id FROM all_signals
                 WHERE status = ?1 AND coalesce(feedback_on, received_on) < ?2
                 ORDER BY id",
            )?
            .query_map(params![status, cutoff], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            for sql in [
                "DELETE FROM hardship_signals WHERE signal_id = ?1",
                "DELETE FROM notes WHERE signal_id = ?1",
                "DELETE FROM messages WHERE signal_id = ?1",
                "DELETE FROM inbox_messages WHERE signal_id = ?1",
                "DELETE FROM signals WHERE id = ?1",
                "DELETE FROM inbox_signals WHERE id = ?1",
            ] {
                tx.execute(sql, params![id])?;
            }
            let detail = format!("retention: status {status} older than {days} days");
            append_named(&tx, actor, ACTION, Some(&id), &detail)?;
            purged.signals += 1;
        }
    }
    tx.commit()?;
    Ok(purged)
}

/// Moves everything out of the WAL and truncates it, so the deleted bytes
/// (zeroed in the file by `secure_delete`) are nowhere in the folder.
pub fn scrub(conn: &Connection) -> Result<(), OpsError> {
    checkpoint(conn)
}

fn checkpoint(conn: &Connection) -> Result<(), OpsError> {
    // (busy, wal frames, frames checkpointed): busy = 1 means a reader held
    // the WAL; the deleted bytes may still be in it, so say so.
    let (busy, _, _): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if busy != 0 {
        return Err(OpsError::Database {
            path: DB_FILE.into(),
            problem: "could not be checkpointed because a reader held it; run signaal purge again"
                .into(),
        });
    }
    Ok(())
}

/// `today` minus `days`, as `YYYY-MM-DD` (received_on and feedback_on's form).
fn day_before(today: time::Date, days: u32) -> String {
    let day = today
        .checked_sub(time::Duration::days(i64::from(days)))
        .unwrap_or(time::Date::MIN);
    crate::signal::sealed::received_on(crate::config::Precision::Day, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_cutoff_is_counted_back_in_whole_days() {
        let today = time::macros::date!(2026 - 03 - 01);
        assert_eq!(day_before(today, 1), "2026-02-28");
        assert_eq!(day_before(today, 180), "2025-09-02");
    }
}
