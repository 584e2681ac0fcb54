//! What the review face reads and writes: the queue (metadata only), one
//! signal with its notes, thread and audit trail, triage changes, notes,
//! messages, search batches and the report's counts.
//!
//! Invariant: every write that records a reviewer's action appends its audit
//! row in the same transaction, so an action is never stored without its trace;
//! nothing here ever sees plaintext — notes and messages arrive sealed.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::audit::{self, Action, Entry};
use crate::signal::FINAL_STATUSES;

/// Audit rows shown on a signal's page (the newest).
pub const TRAIL_SHOWN: u32 = 100;
/// Signals on one queue page.
pub const PER_PAGE: u32 = 50;

/// The order of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently received first.
    #[default]
    Newest,
    /// Longest waiting first.
    Oldest,
    /// By status, longest waiting first within each.
    Status,
}

impl Sort {
    /// Parses the `sort` query value; anything else is the default.
    pub fn parse(s: &str) -> Self {
        match s {
            "oldest" => Self::Oldest,
            "status" => Self::Status,
            _ => Self::Newest,
        }
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Status => "status",
        }
    }

    /// The ORDER BY terms, on the columns of table alias `t`. Ties are broken
    /// by the (random) rowid, which every index holds, and every column runs
    /// the same way, so an index is walked, never sorted.
    fn order_by(self, t: &str) -> String {
        match self {
            Self::Newest => format!("{t}.received_on DESC, {t}.rowid DESC"),
            Self::Oldest => format!("{t}.received_on ASC, {t}.rowid ASC"),
            Self::Status => format!("{t}.status ASC, {t}.received_on ASC, {t}.rowid ASC"),
        }
    }
}

/// Which part of the queue to show.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only this status (one of [`crate::signal::STATUSES`]).
    pub status: Option<String>,
    /// Only this domain.
    pub domain: Option<String>,
    /// The order.
    pub sort: Sort,
    /// Page number from 1.
    pub page: u32,
}

/// One line of the queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// The signal id.
    pub id: String,
    /// Coarsened arrival day.
    pub received_on: String,
    /// Status.
    pub status: String,
    /// Reviewer-assigned domain.
    pub domain: Option<String>,
    /// Reviewer labels (comma-separated).
    pub labels: String,
    /// Assigned reviewer.
    pub assignee: Option<String>,
    /// Days since arrival.
    pub days_open: i64,
    /// Messages from the sender the team has not answered yet.
    pub unanswered: i64,
    /// Not acknowledged within 7 days.
    pub ack_overdue: bool,
    /// No feedback within 3 months.
    pub feedback_overdue: bool,
}

/// A page of the queue and how many signals match in all.
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// The lines.
    pub rows: Vec<QueueRow>,
    /// Matching signals.
    pub total: u64,
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

/// One signal handed to a search.
#[derive(Debug, Clone)]
pub struct ScanItem {
    /// The id.
    pub id: String,
    /// Arrival day.
    pub received_on: String,
    /// Status.
    pub status: String,
    /// The age file.
    pub envelope: Vec<u8>,
    /// Its position for the next batch (random, never shown).
    pub rowid: i64,
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

/// One cell of the report before suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCell {
    /// `YYYY-MM`.
    pub month: String,
    /// Domain or `-`.
    pub domain: String,
    /// Status.
    pub status: String,
    /// Origin or `-`.
    pub origin: String,
    /// Signals.
    pub count: u64,
}

fn today() -> String {
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
    /// Appends one audit row on its own (logins, searches, reports).
    pub async fn audit(&self, entry: Entry) -> Result<(), StoreError> {
        self.write(move |c| audit::append(c, &entry)).await
    }

    /// Appends one audit row, on the calling thread (command-line tools).
    pub fn audit_blocking(&self, entry: Entry) -> Result<(), StoreError> {
        let handle = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|_| StoreError::Unavailable)?;
        handle.block_on(self.audit(entry))
    }

    /// A page of the queue, from plaintext metadata only.
    pub async fn queue(&self, filter: QueueFilter) -> Result<QueuePage, StoreError> {
        self.read(move |c| {
            let today = today();
            let page = filter.page.max(1);
            let offset = i64::from(page - 1) * i64::from(PER_PAGE);
            // Only the conditions in use, so SQLite can take the (status|domain,
            // received_on) index instead of scanning every row.
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            let mut columns = Vec::new();
            for (column, value) in [("status", &filter.status), ("domain", &filter.domain)] {
                if let Some(v) = value {
                    values.push(v.clone().into());
                    columns.push(column);
                }
            }
            // Placeholders numbered from `first`, one per column in use.
            let where_sql = |first: usize| {
                if columns.is_empty() {
                    return String::new();
                }
                let parts: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("p.{c} = ?{}", first + i))
                    .collect();
                format!("WHERE {}", parts.join(" AND "))
            };
            let total: u64 = c
                .prepare_cached(&format!("SELECT count(*) FROM signals p {}", where_sql(1)))?
                .query_row(rusqlite::params_from_iter(values.iter()), |r| r.get(0))?;
            let filter_sql = where_sql(4);
            let mut args: Vec<rusqlite::types::Value> =
                vec![today.into(), PER_PAGE.into(), offset.into()];
            args.extend(values);
            // The page's rowids come from an index alone (LIMIT/OFFSET there
            // skips index entries, not fat rows with their envelopes); only
            // those 50 rows are then read.
            let sql = format!(
                "SELECT s.id, s.received_on, s.status, s.domain, s.labels, s.assignee,
                    CAST(julianday(?1) - julianday(s.received_on) AS INTEGER),
                    (SELECT count(*) FROM messages m
                       WHERE m.signal_id = s.id AND m.author = 'sender' AND m.answered = 0),
                    s.acknowledged_on IS NULL AND s.received_on <= date(?1, '-7 days'),
                    s.feedback_on IS NULL AND s.received_on <= date(?1, '-3 months')
                 FROM (SELECT p.rowid AS rid FROM signals p {filter_sql}
                       ORDER BY {} LIMIT ?2 OFFSET ?3) AS page
                 JOIN signals s ON s.rowid = page.rid
                 ORDER BY {}",
                filter.sort.order_by("p"),
                filter.sort.order_by("s")
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok(QueueRow {
                        id: r.get(0)?,
                        received_on: r.get(1)?,
                        status: r.get(2)?,
                        domain: r.get(3)?,
                        labels: r.get(4)?,
                        assignee: r.get(5)?,
                        days_open: r.get(6)?,
                        unanswered: r.get(7)?,
                        ack_overdue: r.get(8)?,
                        feedback_overdue: r.get(9)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(QueuePage { rows, total })
        })
        .await
    }

    /// The domains in use, for the queue's filter.
    pub async fn domains_in_use(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            // One index seek per distinct domain instead of a walk over every signal.
            let mut stmt = c.prepare_cached(
                "WITH RECURSIVE d(v) AS (
                    SELECT min(domain) FROM signals WHERE domain IS NOT NULL
                    UNION ALL
                    SELECT (SELECT min(domain) FROM signals WHERE domain > d.v) FROM d
                    WHERE d.v IS NOT NULL
                 )
                 SELECT v FROM d WHERE v IS NOT NULL",
            )?;
            stmt.query_map([], |r| r.get(0))?.collect()
        })
        .await
    }

    /// One signal with its envelope, if it exists.
    pub async fn signal_record(&self, id: String) -> Result<Option<SignalRecord>, StoreError> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, received_on, status, domain, origin, labels, assignee,
                        source_recipient, format, envelope
                 FROM signals WHERE id = ?1",
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
            c.prepare_cached("SELECT source_recipient FROM signals WHERE id = ?1")?
                .query_row(params![id], |r| r.get(0))
                .optional()
        })
        .await
    }

    /// The sealed notes and the sealed thread of a signal, in order, and its audit trail.
    pub async fn signal_extras(&self, id: String) -> Result<SignalExtras, StoreError> {
        self.read(move |c| {
            let sealed = |table: &str| -> rusqlite::Result<Vec<SealedItem>> {
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
            };
            let notes = sealed("notes")?;
            let messages = sealed("messages")?;
            let trail = c
                .prepare_cached(
                    "SELECT seq, at, actor, action, signal_id, detail, prev_hash, hash
                     FROM audit WHERE signal_id = ?1 ORDER BY seq DESC LIMIT ?2",
                )?
                .query_map(params![id, TRAIL_SHOWN], audit::read_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let trail_total: u64 = c
                .prepare_cached("SELECT count(*) FROM audit WHERE signal_id = ?1")?
                .query_row(params![id], |r| r.get(0))?;
            Ok(SignalExtras {
                notes,
                messages,
                trail,
                trail_total,
            })
        })
        .await
    }

    /// Records that `actor` decrypts signal `id`; returns once the row is durable.
    pub async fn audit_view(&self, actor: &str, id: &str) -> Result<(), StoreError> {
        self.audit(Entry::on(actor, Action::View, id, "")).await
    }

    /// Applies a triage decision with its audit row; `false` if no such signal.
    pub async fn triage(&self, id: String, actor: String, t: Triage) -> Result<bool, StoreError> {
        self.write(move |c| {
            let today = today();
            let is_final = FINAL_STATUSES.contains(&t.status.as_str());
            let changed = c
                .prepare_cached(
                    "UPDATE signals SET status = ?2, domain = ?3, origin = ?4, labels = ?5,
                        assignee = ?6,
                        acknowledged_on = CASE WHEN ?2 <> 'new'
                            THEN coalesce(acknowledged_on, ?7) ELSE acknowledged_on END,
                        feedback_on = CASE WHEN ?8 THEN coalesce(feedback_on, ?7) ELSE feedback_on END
                     WHERE id = ?1",
                )?
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
            Ok(true)
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
                    "SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE signal_id = ?1",
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
            c.prepare_cached(
                "UPDATE messages SET answered = 1 WHERE signal_id = ?1 AND author = 'sender'",
            )?
            .execute(params![id])?;
            c.prepare_cached(
                "UPDATE signals SET acknowledged_on = coalesce(acknowledged_on, ?2) WHERE id = ?1",
            )?
            .execute(params![id, today])?;
            audit::append(
                c,
                &Entry::on(&actor, Action::Message, &id, format!("message {seq}")),
            )?;
            Ok(true)
        })
        .await
    }

    /// Up to `limit` signals received before `(after_day, after_rowid)`
    /// (newest first) with their envelopes: one batch of a search.
    pub fn search_batch_blocking(
        &self,
        after: Option<(String, i64)>,
        limit: u32,
    ) -> Result<Vec<ScanItem>, StoreError> {
        self.read_blocking(move |c| {
            // A row-value bound walks the (received_on, rowid) index backwards.
            let (day, rowid) = after.unwrap_or_else(|| ("9999-12-31".to_owned(), i64::MAX));
            c.prepare_cached(
                "SELECT id, received_on, status, envelope, rowid FROM signals
                 WHERE (received_on, rowid) < (?1, ?2)
                 ORDER BY received_on DESC, rowid DESC LIMIT ?3",
            )?
            .query_map(params![day, rowid, limit], |r| {
                Ok(ScanItem {
                    id: r.get(0)?,
                    received_on: r.get(1)?,
                    status: r.get(2)?,
                    envelope: r.get(3)?,
                    rowid: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    /// The report's counts by month, domain, status and origin (unsuppressed).
    pub fn report_cells_blocking(&self) -> Result<Vec<ReportCell>, StoreError> {
        self.read_blocking(|c| {
            c.prepare_cached(
                "SELECT substr(received_on, 1, 7), coalesce(domain, '-'), status,
                        coalesce(origin, '-'), count(*)
                 FROM signals GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            )?
            .query_map([], |r| {
                Ok(ReportCell {
                    month: r.get(0)?,
                    domain: r.get(1)?,
                    status: r.get(2)?,
                    origin: r.get(3)?,
                    count: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    /// The envelopes of the signals named in `ids` that exist.
    pub async fn envelopes_of(
        &self,
        ids: Vec<String>,
    ) -> Result<Vec<super::StoredEnvelope>, StoreError> {
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT id, format, envelope FROM signals WHERE id = ?1")?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(env) = stmt
                    .query_row(params![id], |r| {
                        Ok(super::StoredEnvelope {
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

    /// Records that `reviewer` used TOTP time step `step`; `false` if that step
    /// or a later one was used before. Kept in the database, so a restart does
    /// not reopen the replay window.
    pub async fn claim_totp_step(&self, reviewer: &str, step: u64) -> Result<bool, StoreError> {
        let key = format!("totp_last_step/{reviewer}");
        self.write(move |c| {
            let last: Option<Vec<u8>> = c
                .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row(params![key], |r| r.get(0))
                .optional()?;
            let last = last
                .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
                .map(u64::from_be_bytes);
            if last.is_some_and(|l| step <= l) {
                return Ok(false);
            }
            c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                .execute(params![key, step.to_be_bytes().as_slice()])?;
            Ok(true)
        })
        .await
    }

    /// Checks the audit chain.
    pub fn verify_audit_blocking(&self) -> Result<audit::Verdict, StoreError> {
        self.read_blocking(audit::verify)
    }
}

fn exists(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM signals WHERE id = ?1")?
        .query_row(params![id], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::store::NewSignal;

    async fn store_with(days: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (i, day) in days.iter().enumerate() {
            let mut tag = [0u8; 32];
            tag[..8].copy_from_slice(&(i as u64).to_be_bytes());
            store
                .insert_signal(NewSignal {
                    id: crate::crypto::random_id(),
                    received_on: (*day).to_owned(),
                    lookup_tag: tag,
                    source_recipient: String::new(),
                    format: crate::crypto::FORMAT_AGE_X25519,
                    envelope: vec![0; 8],
                })
                .await
                .unwrap();
        }
        (dir, store)
    }

    #[tokio::test]
    async fn search_batches_visit_every_signal_once_newest_first() {
        let days: Vec<&str> = (0..230)
            .map(|i| ["2026-01-01", "2026-02-01", "2026-03-01"][i % 3])
            .collect();
        let (_dir, store) = store_with(&days).await;
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let batch = store.search_batch_blocking(after.take(), 40).unwrap();
            let Some(last) = batch.last() else { break };
            after = Some((last.received_on.clone(), last.rowid));
            seen.extend(batch.into_iter().map(|i| (i.received_on, i.id)));
        }
        assert_eq!(seen.len(), 230);
        let mut ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 230, "no signal twice");
        assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");
    }

    #[tokio::test]
    async fn queue_pages_cover_every_signal_once_in_each_order() {
        let days: Vec<&str> = (0..120)
            .map(|i| ["2026-05-01", "2026-04-01"][i % 2])
            .collect();
        let (_dir, store) = store_with(&days).await;
        for sort in [Sort::Newest, Sort::Oldest, Sort::Status] {
            let mut ids = Vec::new();
            for page in 1..=3 {
                let p = store
                    .queue(QueueFilter {
                        sort,
                        page,
                        ..QueueFilter::default()
                    })
                    .await
                    .unwrap();
                assert_eq!(p.total, 120);
                ids.extend(p.rows.into_iter().map(|r| r.id));
            }
            assert_eq!(ids.len(), 120);
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 120, "{sort:?}: no signal twice");
        }
    }
}
