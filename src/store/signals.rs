//! The signal rows: a new signal written durably, one signal read back with
//! its envelope, the envelopes an export or an operator command reads, and a
//! reviewer's triage of a signal.
//!
//! Invariant: a row holds the envelope and plaintext metadata that says nothing
//! about the sender (a random id and rowid, the coarsened day, status and the
//! reviewer's categories); a triage change is stored with its audit row in the
//! same transaction.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, random_rowid};
use crate::audit::{self, Action, Entry};
use crate::signal::FINAL_STATUSES;

/// A signal as it is written: everything the sender wrote is inside `envelope`.
#[derive(Debug)]
pub struct NewSignal {
    /// Random identifier.
    pub id: String,
    /// Coarsened day of arrival, `YYYY-MM-DD`.
    pub received_on: String,
    /// HKDF tag derived from the receipt code.
    pub lookup_tag: [u8; 32],
    /// age recipient derived from the receipt code.
    pub source_recipient: String,
    /// Envelope format, e.g. [`crate::crypto::FORMAT_AGE_X25519`].
    pub format: &'static str,
    /// The age file.
    pub envelope: Vec<u8>,
}

/// A stored envelope, as `export` writes it out.
#[derive(Debug)]
pub struct StoredEnvelope {
    /// The signal's id (the file name of its export).
    pub id: String,
    /// The envelope format.
    pub format: String,
    /// The age file.
    pub envelope: Vec<u8>,
}

/// One signal as stored, envelope included.
#[derive(Debug, Clone)]
pub struct SignalRecord {
    /// The id.
    pub id: String,
    /// Arrival day.
    pub received_on: String,
    /// Status.
    pub status: String,
    /// Domain.
    pub domain: Option<String>,
    /// Reviewer-confirmed origin of the hardship.
    pub origin: Option<String>,
    /// Labels.
    pub labels: String,
    /// Assignee.
    pub assignee: Option<String>,
    /// The receipt-derived recipient that replies are also sealed to.
    pub source_recipient: String,
    /// Envelope format.
    pub format: String,
    /// The age file.
    pub envelope: Vec<u8>,
}

/// A triage decision.
#[derive(Debug, Clone)]
pub struct Triage {
    /// One of [`crate::signal::STATUSES`].
    pub status: String,
    /// Domain (empty clears).
    pub domain: String,
    /// Origin (empty clears).
    pub origin: String,
    /// Labels, comma-separated.
    pub labels: String,
    /// Assignee (empty clears).
    pub assignee: String,
}

/// Today, as the day a change is kept under.
pub(super) fn today() -> String {
    crate::signal::sealed::received_on(
        crate::config::Precision::Day,
        time::OffsetDateTime::now_utc().date(),
    )
}

fn none_if_empty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

impl Store {
    /// Stores a new signal; returns once it is durable.
    pub async fn insert_signal(&self, signal: NewSignal) -> Result<(), StoreError> {
        self.arrived();
        self.write(move |c| {
            super::mix::mark_unmixed(c)?;
            c.prepare_cached(
                "INSERT INTO inbox_signals (rowid, id, received_on, status, lookup_tag, source_recipient, format, envelope)
                 VALUES (?1, ?2, ?3, 'new', ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                random_rowid(),
                signal.id,
                signal.received_on,
                signal.lookup_tag.as_slice(),
                signal.source_recipient,
                signal.format,
                signal.envelope
            ])?;
            Ok(())
        })
        .await
    }

    /// Number of stored signals.
    pub async fn count_signals(&self) -> Result<u64, StoreError> {
        self.read(|c| c.query_row("SELECT count(*) FROM all_signals", [], |r| r.get(0)))
            .await
    }

    /// Every stored signal envelope, for `export`.
    pub fn envelopes_blocking(&self) -> Result<Vec<StoredEnvelope>, StoreError> {
        self.read_blocking(|c| {
            let mut stmt = c.prepare("SELECT id, format, envelope FROM all_signals ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(StoredEnvelope {
                    id: r.get(0)?,
                    format: r.get(1)?,
                    envelope: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    /// The envelope of one signal, if it exists.
    pub async fn envelope(&self, id: String) -> Result<Option<StoredEnvelope>, StoreError> {
        self.read(move |c| {
            c.query_row(
                "SELECT id, format, envelope FROM all_signals WHERE id = ?1",
                params![id],
                |r| {
                    Ok(StoredEnvelope {
                        id: r.get(0)?,
                        format: r.get(1)?,
                        envelope: r.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// The envelopes of the signals named in `ids` that exist.
    pub async fn envelopes_of(&self, ids: Vec<String>) -> Result<Vec<StoredEnvelope>, StoreError> {
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT id, format, envelope FROM all_signals WHERE id = ?1")?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(env) = stmt
                    .query_row(params![id], |r| {
                        Ok(StoredEnvelope {
                            id: r.get(0)?,
                            format: r.get(1)?,
                            envelope: r.get(2)?,
                        })
                    })
                    .optional()?
                {
                    out.push(env);
                }
            }
            Ok(out)
        })
        .await
    }

    /// One signal with its envelope, if it exists.
    pub async fn signal_record(&self, id: String) -> Result<Option<SignalRecord>, StoreError> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, received_on, status, domain, origin, labels, assignee,
                        source_recipient, format, envelope
                 FROM all_signals WHERE id = ?1",
            )?
            .query_row(params![id], |r| {
                Ok(SignalRecord {
                    id: r.get(0)?,
                    received_on: r.get(1)?,
                    status: r.get(2)?,
                    domain: r.get(3)?,
                    origin: r.get(4)?,
                    labels: r.get(5)?,
                    assignee: r.get(6)?,
                    source_recipient: r.get(7)?,
                    format: r.get(8)?,
                    envelope: r.get(9)?,
                })
            })
            .optional()
        })
        .await
    }

    /// The source recipient of a signal (what a message to its sender is also
    /// sealed to), if the signal exists.
    pub async fn source_recipient(&self, id: String) -> Result<Option<String>, StoreError> {
        self.read(move |c| {
            c.prepare_cached("SELECT source_recipient FROM all_signals WHERE id = ?1")?
                .query_row(params![id], |r| r.get(0))
                .optional()
        })
        .await
    }

    /// Applies a triage decision with its audit row; `false` if no such signal.
    pub async fn triage(&self, id: String, actor: String, t: Triage) -> Result<bool, StoreError> {
        self.write(move |c| {
            let today = today();
            let is_final = FINAL_STATUSES.contains(&t.status.as_str());
            // The signal is in the inbox (today's) or in the main table.
            let mut changed = 0;
            for table in ["signals", "inbox_signals"] {
                changed += c
                    .prepare_cached(&format!(
                        "UPDATE {table} SET status = ?2, domain = ?3, origin = ?4, labels = ?5,
                            assignee = ?6,
                            acknowledged_on = CASE WHEN ?2 <> 'new'
                                THEN coalesce(acknowledged_on, ?7) ELSE acknowledged_on END,
                            feedback_on = CASE WHEN ?8 THEN coalesce(feedback_on, ?7) ELSE feedback_on END
                         WHERE id = ?1"
                    ))?
                    .execute(params![
                        id,
                        t.status,
                        none_if_empty(&t.domain),
                        none_if_empty(&t.origin),
                        t.labels.trim(),
                        none_if_empty(&t.assignee),
                        today,
                        is_final
                    ])?;
            }
            if changed == 0 {
                return Ok(false);
            }
            let detail = format!(
                "status={} domain={} origin={} labels={} assignee={}",
                t.status,
                t.domain.trim(),
                t.origin.trim(),
                t.labels.trim(),
                t.assignee.trim()
            );
            audit::append(c, &Entry::on(&actor, Action::Triage, &id, detail))?;
            for label in super::queue::split_labels(&t.labels) {
                add_label(c, label, &actor)?;
            }
            Ok(true)
        })
        .await
    }
}

/// A change made to many signals at once.
#[derive(Debug, Clone, Default)]
pub struct Bulk {
    /// A new status (one of [`crate::signal::STATUSES`]).
    pub status: Option<String>,
    /// A new assignee (`Some("")` clears).
    pub assignee: Option<String>,
    /// A label to add.
    pub label: Option<String>,
}

/// Most labels on one signal (a bulk change adds none past it).
pub const MAX_LABELS: usize = 10;

impl Store {
    /// Applies `change` to each signal in `ids` that exists, with an audit row
    /// per signal, in one transaction; returns how many changed.
    pub async fn bulk(
        &self,
        ids: Vec<String>,
        actor: String,
        change: Bulk,
    ) -> Result<usize, StoreError> {
        self.write(move |c| {
            let today = today();
            let mut done = 0;
            for id in &ids {
                let mut changed = 0;
                for table in ["signals", "inbox_signals"] {
                    changed += c
                        .prepare_cached(&format!(
                            "UPDATE {table} SET
                                status = coalesce(?2, status),
                                assignee = CASE WHEN ?3 IS NULL THEN assignee
                                    WHEN ?3 = '' THEN NULL ELSE ?3 END,
                                labels = CASE WHEN ?4 IS NULL
                                    OR instr(',' || replace(labels, ', ', ',') || ',', ',' || ?4 || ',') > 0
                                    OR (labels <> '' AND length(labels) - length(replace(labels, ',', '')) + 1 >= ?6)
                                    THEN labels
                                    WHEN labels = '' THEN ?4 ELSE labels || ', ' || ?4 END,
                                acknowledged_on = CASE WHEN coalesce(?2, status) <> 'new'
                                    THEN coalesce(acknowledged_on, ?5) ELSE acknowledged_on END,
                                feedback_on = CASE WHEN ?2 IN ('forwarded', 'closed', 'not_admissible')
                                    THEN coalesce(feedback_on, ?5) ELSE feedback_on END
                             WHERE id = ?1"
                        ))?
                        .execute(params![
                            id,
                            change.status,
                            change.assignee,
                            change.label,
                            today,
                            i64::try_from(MAX_LABELS).unwrap_or(i64::MAX)
                        ])?;
                }
                if changed == 0 {
                    continue;
                }
                done += 1;
                let mut detail = vec!["bulk".to_owned()];
                if let Some(s) = &change.status {
                    detail.push(format!("status={s}"));
                }
                if let Some(a) = &change.assignee {
                    detail.push(format!("assignee={a}"));
                }
                if let Some(l) = &change.label {
                    detail.push(format!("label+={l}"));
                }
                audit::append(c, &Entry::on(&actor, Action::Triage, id, detail.join(" ")))?;
            }
            if let Some(l) = &change.label {
                add_label(c, l, &actor)?;
            }
            Ok(done)
        })
        .await
    }

    /// The labels the team has made, sorted.
    pub async fn labels(&self) -> Result<Vec<String>, StoreError> {
        self.read(labels_in).await
    }
}

/// The team's labels, in the order the lists show them.
pub(super) fn labels_in(c: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    c.prepare_cached("SELECT name FROM labels ORDER BY name COLLATE NOCASE")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Adds `label` to the team's list (if it is not there yet).
pub(super) fn add_label(
    c: &rusqlite::Connection,
    label: &str,
    actor: &str,
) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT OR IGNORE INTO labels (name, added_by) VALUES (?1, ?2)")?
        .execute(params![label, actor])?;
    Ok(())
}

pub(super) fn exists(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM all_signals WHERE id = ?1")?
        .query_row(params![id], |_| Ok(()))
        .optional()?
        .is_some())
}
