//! What a sender reaches with their receipt code: their signal, found by the
//! lookup tag the code derives, with its thread, and the messages they add.
//!
//! Invariant: the receipt code never reaches this module — only its HKDF tag —
//! and nothing here sees plaintext: messages arrive sealed. A sender's message
//! is stored without an audit row, because an audit row carries the exact time
//! and would say when the sender came back; a withdrawal's row waits in the
//! audit inbox with its day only ([`Store::audit_for_sender`]).

use rusqlite::{OptionalExtension, params};

use super::thread::SealedItem;
use super::{Store, StoreError};
use crate::audit::{Action, Entry};

/// Who a sender's own audit rows name.
pub const SENDER_ACTOR: &str = "(sender)";

/// What a withdrawal deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Withdrawn {
    /// Messages of the thread, both sides.
    pub messages: u64,
    /// The team's internal notes.
    pub notes: u64,
    /// Its links to hardships.
    pub links: u64,
}

/// A signal as its sender may see it (still sealed).
#[derive(Debug, Clone)]
pub struct SenderRecord {
    /// The signal id (never shown to the sender; used to add a message).
    pub id: String,
    /// Status, one of [`crate::signal::STATUSES`].
    pub status: String,
    /// Arrival day.
    pub received_on: String,
    /// Day of the team's first acknowledgement, if any.
    pub acknowledged_on: Option<String>,
    /// Day of the team's feedback (a final status), if any.
    pub feedback_on: Option<String>,
    /// The receipt-derived recipient.
    pub source_recipient: String,
    /// The signal's age file.
    pub envelope: Vec<u8>,
    /// The thread, in order.
    pub messages: Vec<SealedItem>,
}

impl SenderRecord {
    /// The latest day on which anything about this signal changed.
    pub fn last_change(&self) -> &str {
        std::iter::once(self.received_on.as_str())
            .chain(self.acknowledged_on.as_deref())
            .chain(self.feedback_on.as_deref())
            .chain(self.messages.iter().map(|m| m.day.as_str()))
            .max()
            .unwrap_or_default()
    }
}

impl Store {
    /// The signal whose lookup tag is `tag`, with its thread. The same two
    /// queries run whether or not it exists (the second on an id that matches
    /// nothing), so the cost does not depend on the answer.
    pub async fn sender_record(&self, tag: [u8; 32]) -> Result<Option<SenderRecord>, StoreError> {
        self.read(move |c| {
            let found = c
                .prepare_cached(
                    "SELECT id, status, received_on, acknowledged_on, feedback_on,
                            source_recipient, envelope
                     FROM all_signals WHERE lookup_tag = ?1",
                )?
                .query_row(params![tag.as_slice()], |r| {
                    Ok(SenderRecord {
                        id: r.get(0)?,
                        status: r.get(1)?,
                        received_on: r.get(2)?,
                        acknowledged_on: r.get(3)?,
                        feedback_on: r.get(4)?,
                        source_recipient: r.get(5)?,
                        envelope: r.get(6)?,
                        messages: Vec::new(),
                    })
                })
                .optional()?;
            let id = found.as_ref().map_or("", |f| f.id.as_str()).to_owned();
            let messages = super::thread::sealed_items(c, "all_messages", &id)?;
            Ok(found.map(|f| SenderRecord { messages, ..f }))
        })
        .await
    }

    /// Whether a signal with lookup tag `tag` is kept (not withdrawn, not
    /// purged).
    pub async fn signal_kept(&self, tag: [u8; 32]) -> Result<bool, StoreError> {
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM all_signals WHERE lookup_tag = ?1")?
                    .query_row(params![tag.as_slice()], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
        .await
    }

    /// Stores a sealed message from the sender, unanswered (so the review
    /// queue shows the signal as having a new reply); returns once durable.
    /// `false` if the signal is gone.
    pub async fn add_sender_message(
        &self,
        id: String,
        day: String,
        format: &'static str,
        envelope: Vec<u8>,
    ) -> Result<bool, StoreError> {
        self.arrived();
        self.write(move |c| {
            super::mix::mark_unmixed(c)?;
            let exists = c
                .prepare_cached("SELECT 1 FROM all_signals WHERE id = ?1")?
                .query_row(params![id], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Ok(false);
            }
            let seq: i64 = c
                .prepare_cached(
                    "SELECT coalesce(max(seq), 0) + 1 FROM all_messages WHERE signal_id = ?1",
                )?
                .query_row(params![id], |r| r.get(0))?;
            // The inbox: a sender's message is mixed like a signal.
            c.prepare_cached(
                "INSERT INTO inbox_messages (id, signal_id, seq, author, day, format, envelope, answered)
                 VALUES (?1, ?2, ?3, 'sender', ?4, ?5, ?6, 0)",
            )?
            .execute(params![
                crate::crypto::random_id(),
                id,
                seq,
                day,
                format,
                envelope
            ])?;
            Ok(true)
        })
        .await
    }

    /// Withdraws signal `id` at its sender's request: the signal, its thread
    /// the team's notes and its links to hardships are deleted as `purge` deletes them (the
    /// connection's `secure_delete` zeroes the cells, and the next mix
    /// truncates the WAL that still holds the old pages), and an audit row
    /// "withdrawn" waits with only `day`. `None` if the signal is gone.
    pub async fn withdraw(&self, id: String, day: String) -> Result<Option<Withdrawn>, StoreError> {
        self.arrived();
        self.write(move |c| {
            super::mix::mark_unmixed(c)?;
            let exists = c
                .prepare_cached("SELECT 1 FROM all_signals WHERE id = ?1")?
                .query_row(params![id], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Ok(None);
            }
            // Its links to hardships go with it; the hardships stay.
            let links = c
                .prepare_cached("DELETE FROM hardship_signals WHERE signal_id = ?1")?
                .execute(params![id])?;
            let mut deleted = [0u64; 5];
            for (n, sql) in [
                "DELETE FROM notes WHERE signal_id = ?1",
                "DELETE FROM messages WHERE signal_id = ?1",
                "DELETE FROM inbox_messages WHERE signal_id = ?1",
                "DELETE FROM signals WHERE id = ?1",
                "DELETE FROM inbox_signals WHERE id = ?1",
            ]
            .into_iter()
            .zip(deleted.iter_mut())
            .map(|(sql, n)| (n, sql))
            {
                *n = c.prepare_cached(sql)?.execute(params![id])? as u64;
            }
            let [notes, messages, inbox_messages, _, _] = deleted;
            let gone = Withdrawn {
                messages: messages + inbox_messages,
                notes,
                links: links as u64,
            };
            Store::audit_for_sender(
                c,
                &day,
                &Entry::on(
                    SENDER_ACTOR,
                    Action::Withdrawn,
                    &id,
                    "withdrawn by the sender",
                ),
            )?;
            Ok(Some(gone))
        })
        .await
        .inspect(|gone| {
            // A published hardship's count of signals may have moved.
            if gone.as_ref().is_some_and(|g| g.links > 0) {
                self.public_changed();
            }
        })
    }
}
