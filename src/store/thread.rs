//! What is written about a signal after it arrived: the reviewers' internal
//! notes and the team's messages to the sender, read back sealed with the
//! signal's audit trail, and every message envelope for `export --thread`.
//!
//! Invariant: nothing here sees plaintext — notes and messages arrive sealed;
//! a note or a team message is stored with its audit row in the same
//! transaction, so no reviewer's action is kept without its trace.

use rusqlite::params;

use super::audit::trail_of;
use super::signals::{exists, today};
use super::{Store, StoreError};
use crate::audit::{self, Action, Entry};

/// A sealed note or message.
#[derive(Debug, Clone)]
pub struct SealedItem {
    /// Order within the signal.
    pub seq: i64,
    /// Reviewer name (notes), or `team` / `sender` (messages).
    pub author: String,
    /// Day written.
    pub day: String,
    /// Envelope format.
    pub format: String,
    /// The age file.
    pub envelope: Vec<u8>,
}

/// One stored message envelope, as `export --thread` writes it out.
#[derive(Debug)]
pub struct ThreadEnvelope {
    /// The signal it belongs to.
    pub signal_id: String,
    /// Its place in the thread.
    pub seq: i64,
    /// `team` or `sender`.
    pub author: String,
    /// The age file.
    pub envelope: Vec<u8>,
}

/// What a signal's page shows besides the signal: sealed notes, the sealed
/// thread, and the audit trail.
#[derive(Debug, Clone, Default)]
pub struct SignalExtras {
    /// Notes, in order.
    pub notes: Vec<SealedItem>,
    /// Messages, in order.
    pub messages: Vec<SealedItem>,
    /// The latest audit rows about this signal, newest first.
    pub trail: Vec<audit::Row>,
    /// All audit rows about this signal.
    pub trail_total: u64,
    /// The sender's messages not yet answered or handled.
    pub unanswered: i64,
}

impl Store {
    /// What a signal's page shows besides the signal itself, in one read:
    /// its notes, thread and trail, the domains in use, the team's labels and
    /// the hardships it is linked to.
    pub async fn signal_page_rows(&self, id: String) -> Result<PageRows, StoreError> {
        self.read(move |c| {
            Ok(PageRows {
                extras: extras_in(c, &id)?,
                domains: super::queue::domains_in(c)?,
                labels: super::signals::labels_in(c)?,
                hardships: super::hardships::hardships_in(c, &id)?,
            })
        })
        .await
    }

    /// Stores a sealed note with its audit row; `false` if no such signal.
    pub async fn add_note(
        &self,
        id: String,
        actor: String,
        format: &'static str,
        envelope: Vec<u8>,
    ) -> Result<bool, StoreError> {
        self.write(move |c| {
            if !exists(c, &id)? {
                return Ok(false);
            }
            let seq: i64 = c
                .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM notes WHERE signal_id = ?1")?
                .query_row(params![id], |r| r.get(0))?;
            c.prepare_cached(
                "INSERT INTO notes (id, signal_id, seq, author, day, format, envelope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                crate::crypto::random_id(),
                id,
                seq,
                actor,
                today(),
                format,
                envelope
            ])?;
            audit::append(
                c,
                &Entry::on(&actor, Action::Note, &id, format!("note {seq}")),
            )?;
            Ok(true)
        })
        .await
    }

    /// Stores a sealed message from the team to the sender, marks the sender's
    /// earlier messages answered, and counts as acknowledgement; `false` if no
    /// such signal.
    pub async fn add_team_message(
        &self,
        id: String,
        actor: String,
        format: &'static str,
        envelope: Vec<u8>,
    ) -> Result<bool, StoreError> {
        self.write(move |c| {
            if !exists(c, &id)? {
                return Ok(false);
            }
            let today = today();
            let seq: i64 = c
                .prepare_cached(
                    "SELECT coalesce(max(seq), 0) + 1 FROM all_messages WHERE signal_id = ?1",
                )?
                .query_row(params![id], |r| r.get(0))?;
            c.prepare_cached(
                "INSERT INTO messages (id, signal_id, seq, author, day, format, envelope, answered)
                 VALUES (?1, ?2, ?3, 'team', ?4, ?5, ?6, 1)",
            )?
            .execute(params![
                crate::crypto::random_id(),
                id,
                seq,
                today,
                format,
                envelope
            ])?;
            for table in ["messages", "inbox_messages"] {
                c.prepare_cached(&format!(
                    "UPDATE {table} SET answered = 1 WHERE signal_id = ?1 AND author = 'sender'"
                ))?
                .execute(params![id])?;
            }
            for table in ["signals", "inbox_signals"] {
                c.prepare_cached(&format!(
                    "UPDATE {table} SET acknowledged_on = coalesce(acknowledged_on, ?2) WHERE id = ?1"
                ))?
                .execute(params![id, today])?;
            }
            audit::append(
                c,
                &Entry::on(&actor, Action::Message, &id, format!("message {seq}")),
            )?;
            Ok(true)
        })
        .await
    }

    /// Marks the sender's messages on signal `id` handled without writing
    /// back ("reply handled"), with its audit row; `false` if no such signal.
    pub async fn mark_handled(&self, id: String, actor: String) -> Result<bool, StoreError> {
        self.write(move |c| {
            if !exists(c, &id)? {
                return Ok(false);
            }
            let mut handled = 0;
            for table in ["messages", "inbox_messages"] {
                handled += c
                    .prepare_cached(&format!(
                        "UPDATE {table} SET answered = 1
                         WHERE signal_id = ?1 AND author = 'sender' AND answered = 0"
                    ))?
                    .execute(params![id])?;
            }
            audit::append(
                c,
                &Entry::on(
                    &actor,
                    Action::Triage,
                    &id,
                    format!("replies handled={handled}"),
                ),
            )?;
            Ok(true)
        })
        .await
    }

    /// Every stored message envelope, by signal and order, for `export --thread`.
    pub fn thread_envelopes_blocking(&self) -> Result<Vec<ThreadEnvelope>, StoreError> {
        self.read_blocking(|c| {
            c.prepare(
                "SELECT signal_id, seq, author, envelope FROM all_messages ORDER BY signal_id, seq",
            )?
            .query_map([], |r| {
                Ok(ThreadEnvelope {
                    signal_id: r.get(0)?,
                    seq: r.get(1)?,
                    author: r.get(2)?,
                    envelope: r.get(3)?,
                })
            })?
            .collect()
        })
    }
}

/// See [`Store::signal_page_rows`].
#[derive(Debug)]
pub struct PageRows {
    /// Notes, thread and trail.
    pub extras: SignalExtras,
    /// The domains confirmed at triage.
    pub domains: Vec<String>,
    /// The team's labels.
    pub labels: Vec<String>,
    /// The hardships the signal is linked to.
    pub hardships: Vec<String>,
}

/// The sealed items of signal `id` in `table` (notes, messages), in order.
pub(super) fn sealed_items(
    c: &rusqlite::Connection,
    table: &str,
    id: &str,
) -> rusqlite::Result<Vec<SealedItem>> {
    let sql = format!(
        "SELECT seq, author, day, format, envelope FROM {table}
         WHERE signal_id = ?1 ORDER BY seq"
    );
    c.prepare_cached(&sql)?
        .query_map(params![id], |r| {
            Ok(SealedItem {
                seq: r.get(0)?,
                author: r.get(1)?,
                day: r.get(2)?,
                format: r.get(3)?,
                envelope: r.get(4)?,
            })
        })?
        .collect()
}

/// The sealed notes and the sealed thread of a signal, in order, and its audit trail.
fn extras_in(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<SignalExtras> {
    let notes = sealed_items(c, "notes", id)?;
    let messages = sealed_items(c, "all_messages", id)?;
    let (trail, trail_total) = trail_of(c, id)?;
    let unanswered = c
        .prepare_cached(
            "SELECT count(*) FROM all_messages
                 WHERE signal_id = ?1 AND author = 'sender' AND answered = 0",
        )?
        .query_row(params![id], |r| r.get(0))?;
    Ok(SignalExtras {
        notes,
        messages,
        trail,
        trail_total,
        unanswered,
    })
}
