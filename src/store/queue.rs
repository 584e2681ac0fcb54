//! The review queue: pages of signals by status, domain, assignee, label and
//! order, and the domains in use for its filter.
//!
//! Invariants: the queue reads envelopes only to hand them to the review face,
//! which decrypts the rows it shows (and audits that); the order of equal days
//! is that of the random rowid, never that of arrival. Every page is a merge
//! of LIMIT-ed index walks over the main table and the inbox, and the count
//! stops at [`COUNT_CAP`], so a page costs the same at a million signals as
//! at a thousand.

use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use super::signals::today;
use super::{Store, StoreError};
use crate::signal::{FINAL_STATUSES, STATUSES};

/// Signals on one queue page.
pub const PER_PAGE: u32 = 25;

/// Matching signals are counted up to this many; past it the page says "more than".
pub const COUNT_CAP: u64 = 10_000;

/// Untriaged signals whose sealed choice of domain a domain filter reads, newest first.
pub const UNTRIAGED_SCAN: u32 = 500;

/// The order of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently received first.
    #[default]
    Newest,
    /// Longest waiting first.
    Oldest,
    /// Open signals (new, in progress) first, longest waiting first: the
    /// deadlines to acknowledge and to give feedback run from arrival.
    Urgent,
    /// By status in workflow order (new, in progress, forwarded, closed, not
    /// admissible), longest waiting first within each.
    Status,
}

impl Sort {
    /// Every order, as the filter offers them.
    pub const ALL: [Sort; 4] = [Sort::Newest, Sort::Oldest, Sort::Urgent, Sort::Status];

    /// Parses the `sort` query value; anything else is the default.
    pub fn parse(s: &str) -> Self {
        match s {
            "oldest" => Self::Oldest,
            "urgent" => Self::Urgent,
            "status" => Self::Status,
            _ => Self::Newest,
        }
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Urgent => "urgent",
            Self::Status => "status",
        }
    }

    fn descending(self) -> bool {
        self == Self::Newest
    }

    /// The groups a page is merged from: (group number, status or none). Each
    /// group is walked in its own index's order, and the compound select
    /// merges them by (group, day, rowid), so no order needs a sort.
    fn groups(self, status: Option<&str>) -> Vec<(usize, Option<&'static str>)> {
        let only = |s: &str| status.is_none_or(|want| want == s);
        match self {
            Self::Newest | Self::Oldest => match status {
                None => vec![(0, None)],
                Some(_) => STATUSES
                    .iter()
                    .filter(|s| only(s))
                    .map(|s| (0, Some(*s)))
                    .collect(),
            },
            Self::Urgent => STATUSES
                .iter()
                .filter(|s| only(s))
                .map(|s| (usize::from(FINAL_STATUSES.contains(s)), Some(*s)))
                .collect(),
            Self::Status => STATUSES
                .iter()
                .enumerate()
                .filter(|(_, s)| only(s))
                .map(|(i, s)| (i, Some(*s)))
                .collect(),
        }
    }
}

/// `select` (with `{t}` for the table) once on the main table of signals and
/// once on the inbox, as one compound select.
pub(super) fn both(select: &str) -> String {
    format!(
        "{} UNION ALL {}",
        select.replace("{t}", "signals"),
        select.replace("{t}", "inbox_signals")
    )
}

/// Whose signals to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// Assigned to this reviewer.
    To(String),
    /// Assigned to no one.
    Nobody,
}

/// Which part of the queue to show.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only this status (one of [`crate::signal::STATUSES`]).
    pub status: Option<String>,
    /// Only this domain: confirmed at triage, or (for the untriaged signals
    /// in [`QueueFilter::chosen`]) chosen by the sender.
    pub domain: Option<String>,
    /// Untriaged signals (rowids) whose sender chose [`QueueFilter::domain`],
    /// as the review face read them from their envelopes.
    pub chosen: Vec<i64>,
    /// Whether there are more untriaged signals than the newest
    /// [`UNTRIAGED_SCAN`] whose choice was read (the older ones show under a
    /// domain once triage confirms it).
    pub chosen_partly: bool,
    /// Only signals assigned so.
    pub assigned: Option<Assigned>,
    /// Only signals with this label.
    pub label: Option<String>,
    /// Only signals that need attention: a new reply, or a deadline passed.
    pub attention: bool,
    /// Only signals before this (day, rowid) in the newest-first order: where
    /// the next batch of a search starts.
    pub before: Option<(String, i64)>,
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
    /// Messages from the sender the team has not answered or handled yet.
    pub unanswered: i64,
    /// Not acknowledged within 7 days.
    pub ack_overdue: bool,
    /// No feedback within 3 months.
    pub feedback_overdue: bool,
    /// The envelope, for the snippet the review face decrypts.
    pub envelope: Vec<u8>,
}

impl QueueRow {
    /// The labels, one by one.
    pub fn label_list(&self) -> impl Iterator<Item = &str> {
        split_labels(&self.labels)
    }
}

/// The labels of a stored `labels` value, one by one.
pub fn split_labels(labels: &str) -> impl Iterator<Item = &str> {
    labels.split(',').map(str::trim).filter(|l| !l.is_empty())
}

/// A page of the queue and how many signals match in all.
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// The lines.
    pub rows: Vec<QueueRow>,
    /// Matching signals, counted up to [`COUNT_CAP`] (then more than that).
    pub total: u64,
    /// Whether more than [`COUNT_CAP`] match.
    pub more: bool,
    /// Whether a next page has signals.
    pub next: bool,
}

/// A signal's non-content metadata, for the CSV of the queue.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The id.
    pub id: String,
    /// Arrival day.
    pub received_on: String,
    /// Status.
    pub status: String,
    /// Domain confirmed at triage.
    pub domain: Option<String>,
    /// Origin confirmed at triage.
    pub origin: Option<String>,
    /// Labels.
    pub labels: String,
    /// Assignee.
    pub assignee: Option<String>,
    /// The sender's messages not answered or handled.
    pub unanswered: i64,
    /// Not acknowledged within 7 days.
    pub ack_overdue: bool,
    /// No feedback within 3 months.
    pub feedback_overdue: bool,
}

/// An untriaged signal whose sealed choice of domain a filter must read.
#[derive(Debug, Clone)]
pub struct Untriaged {
    /// Its rowid (what [`QueueFilter::chosen`] holds).
    pub rid: i64,
    /// Its id (for the audit row, and what a session keeps its choice by).
    pub id: String,
}

/// The WHERE conditions of one part of a page (on table `{t}`), with their
/// values numbered from `?4` (`?1` is today, `?2` the limit, `?3` the offset).
struct Conditions {
    values: Vec<Value>,
}

impl Conditions {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("?{}", self.values.len() + 3)
    }

    /// The conditions of `filter` but its domain and status, on `{t}`.
    fn common(&mut self, filter: &QueueFilter) -> Vec<String> {
        let mut out = Vec::new();
        match &filter.assigned {
            Some(Assigned::To(name)) => {
                let p = self.bind(name.clone());
                out.push(format!("{{t}}.assignee = {p}"));
            }
            Some(Assigned::Nobody) => out.push("{t}.assignee IS NULL".to_owned()),
            None => {}
        }
        if let Some(label) = &filter.label {
            // The distinct label lists in use that hold the label, one index
            // seek each; then the signals of those lists, by index.
            // `instr`, not LIKE: a label's `%` or `_` is itself.
            let p = self.bind(format!(",{label},"));
            out.push(format!(
                "{{t}}.labels <> '' AND {{t}}.labels IN (
                    WITH RECURSIVE d(v) AS (
                        SELECT min(labels) FROM {{t}} WHERE labels <> ''
                        UNION ALL
                        SELECT (SELECT min(labels) FROM {{t}} WHERE labels <> '' AND labels > d.v) FROM d
                        WHERE d.v IS NOT NULL
                    )
                    SELECT v FROM d WHERE v IS NOT NULL
                      AND instr(',' || replace(v, ', ', ',') || ',', {p}) > 0)"
            ));
        }
        if let Some((day, rowid)) = &filter.before {
            let (d, r) = (self.bind(day.clone()), self.bind(*rowid));
            out.push(format!("({{t}}.received_on, {{t}}.rowid) < ({d}, {r})"));
        }
        out
    }
}

/// The parts of "needs attention", disjoint so that their walks add up
/// (each by its own index alone): not acknowledged in time; else no feedback
/// in time (a signal that old and not acknowledged is in the first part, so
/// here it is one that was); else a sender's reply not yet answered or handled.
fn attention_arms() -> [String; 3] {
    let ack = ACK_OVERDUE.replace("s.", "{t}.");
    let feedback = FEEDBACK_OVERDUE.replace("s.", "{t}.");
    let reply = "{t}.id IN (SELECT signal_id FROM messages WHERE author = 'sender' AND answered = 0
                  UNION ALL SELECT signal_id FROM inbox_messages WHERE author = 'sender' AND answered = 0)";
    [
        ack.clone(),
        format!("{feedback} AND {{t}}.acknowledged_on IS NOT NULL"),
        format!("{reply} AND NOT {ack} AND NOT {feedback}"),
    ]
}

/// Not acknowledged within 7 days (on alias `s`).
const ACK_OVERDUE: &str = "(s.acknowledged_on IS NULL AND s.received_on <= date(?1, '-7 days'))";
/// No feedback within 3 months (on alias `s`).
const FEEDBACK_OVERDUE: &str = "(s.feedback_on IS NULL AND s.received_on <= date(?1, '-3 months'))";

/// The groups of a page in their order, each a compound select of
/// `SELECT rid, received_on` over both tables (and, for a domain filter, the
/// sender's choices), and the values they bind.
fn page_parts(filter: &QueueFilter) -> (Vec<String>, Vec<Value>) {
    let mut c = Conditions { values: Vec::new() };
    let common = c.common(filter);
    // The domain: as confirmed at triage, or the untriaged signals the sender
    // filed under it.
    let mut domains: Vec<String> = Vec::new();
    if let Some(d) = &filter.domain {
        let p = c.bind(d.clone());
        domains.push(format!("{{t}}.domain = {p}"));
        if !filter.chosen.is_empty() {
            let list = serde_json::to_string(&filter.chosen).unwrap_or_else(|_| "[]".into());
            let p = c.bind(list);
            domains.push(format!(
                "{{t}}.domain IS NULL AND {{t}}.rowid IN (SELECT value FROM json_each({p}))"
            ));
        }
    } else {
        domains.push(String::new());
    }
    let attention: Vec<String> = if filter.attention {
        attention_arms().into()
    } else {
        vec![String::new()]
    };
    let mut groups: Vec<(usize, Vec<String>)> = Vec::new();
    for (group, status) in filter.sort.groups(filter.status.as_deref()) {
        let mut arms = Vec::new();
        for (domain, part) in domains
            .iter()
            .flat_map(|d| attention.iter().map(move |a| (d, a)))
        {
            let mut conds = common.clone();
            if let Some(s) = status {
                conds.push(format!("{{t}}.status = '{s}'"));
            }
            if !domain.is_empty() {
                conds.push(domain.clone());
            }
            if !part.is_empty() {
                conds.push(part.clone());
            }
            let where_sql = if conds.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conds.join(" AND "))
            };
            arms.push(both(&format!(
                "SELECT {{t}}.rowid AS rid, {{t}}.received_on AS received_on FROM {{t}} {where_sql}"
            )));
        }
        match groups.last_mut() {
            Some((g, parts)) if *g == group => parts.extend(arms),
            _ => groups.push((group, arms)),
        }
    }
    let sqls = groups
        .into_iter()
        .map(|(_, arms)| arms.join(" UNION ALL "))
        .collect();
    (sqls, c.values)
}

/// The arguments of a page's statements: `?1` today, `?2` the limit, `?3`
/// the offset, then the conditions' values.
fn args(limit: u64, offset: u64, values: &[Value]) -> Vec<Value> {
    let mut args: Vec<Value> = vec![
        today().into(),
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
        i64::try_from(offset).unwrap_or(i64::MAX).into(),
    ];
    args.extend_from_slice(values);
    args
}

/// How many rows compound select `g` has, counted up to `cap` (an index
/// walk that stops there).
fn bounded_count(
    c: &rusqlite::Connection,
    g: &str,
    cap: u64,
    values: &[Value],
) -> rusqlite::Result<u64> {
    c.prepare_cached(&format!(
        "SELECT count(*) FROM (SELECT 1 FROM ({g}) LIMIT ?2 OFFSET ?3)"
    ))?
    .query_row(
        rusqlite::params_from_iter(args(cap, 0, values).iter()),
        |r| r.get(0),
    )
}

/// How many signals `filter` matches, counted up to `cap`.
fn count(c: &rusqlite::Connection, filter: &QueueFilter, cap: u64) -> rusqlite::Result<u64> {
    let (groups, values) = page_parts(filter);
    let mut n = 0;
    for g in groups {
        if n >= cap {
            break;
        }
        n += bounded_count(c, &g, cap - n, &values)?;
    }
    Ok(n)
}

/// The rowids of the next `limit` signals that `filter` matches, newest
/// first, before `filter.before`: one batch of a search, walked in the
/// queue's own way.
pub(super) fn batch_rids(
    c: &rusqlite::Connection,
    filter: &QueueFilter,
    limit: u64,
) -> rusqlite::Result<Vec<i64>> {
    let newest = QueueFilter {
        sort: Sort::Newest,
        ..filter.clone()
    };
    page_rids(c, &newest, 0, limit)
}

/// The rowids at `offset..offset + limit` of the queue shown with `filter`:
/// group after group, each a LIMIT-ed merge of index walks (each table's
/// index holds the day and the random rowid in the page's order); a group
/// that lies wholly before the page is skipped by its bounded count.
fn page_rids(
    c: &rusqlite::Connection,
    filter: &QueueFilter,
    offset: u64,
    limit: u64,
) -> rusqlite::Result<Vec<i64>> {
    let (groups, values) = page_parts(filter);
    let dir = if filter.sort.descending() {
        "DESC"
    } else {
        "ASC"
    };
    let (mut skip, mut left) = (offset, limit);
    let mut out = Vec::new();
    let last = groups.len().saturating_sub(1);
    for (i, g) in groups.into_iter().enumerate() {
        if left == 0 {
            break;
        }
        // The last group needs no count: an offset past its end reads nothing.
        if skip > 0 && i < last {
            let size = bounded_count(c, &g, skip, &values)?;
            if size < skip {
                skip -= size;
                continue;
            }
        }
        let rids: Vec<i64> = c
            .prepare_cached(&format!(
                "SELECT rid FROM ({g} ORDER BY received_on {dir}, rid {dir} LIMIT ?2 OFFSET ?3)"
            ))?
            .query_map(
                rusqlite::params_from_iter(args(left, skip, &values).iter()),
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        skip = 0;
        left = left.saturating_sub(rids.len() as u64);
        out.extend(rids);
    }
    Ok(out)
}

/// The columns of a queue row, on alias `s` (`?1` is today).
const ROW_COLUMNS: &str = "s.id, s.received_on, s.status, s.domain, s.labels, s.assignee,
    CAST(julianday(?1) - julianday(s.received_on) AS INTEGER),
    (SELECT count(*) FROM all_messages m
       WHERE m.signal_id = s.id AND m.author = 'sender' AND m.answered = 0)";

impl Store {
    /// A page of the queue: the rows with their envelopes.
    pub async fn queue(&self, filter: QueueFilter) -> Result<QueuePage, StoreError> {
        self.read(move |c| {
            let page = filter.page.max(1);
            let offset = u64::from(page - 1) * u64::from(PER_PAGE);
            // The count walks at most COUNT_CAP + 1 index entries.
            let counted = count(c, &filter, COUNT_CAP + 1)?;
            // The page's rowids come from the indexes alone (LIMIT/OFFSET there
            // skips index entries, not fat rows with their envelopes); only
            // those rows are then read, each by its rowid.
            let rids = page_rids(c, &filter, offset, u64::from(PER_PAGE) + 1)?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS}, {ACK_OVERDUE}, {FEEDBACK_OVERDUE}, s.envelope
                 FROM signals s WHERE s.rowid = ?2
                 UNION ALL
                 SELECT {ROW_COLUMNS}, {ACK_OVERDUE}, {FEEDBACK_OVERDUE}, s.envelope
                 FROM inbox_signals s WHERE s.rowid = ?2"
            ))?;
            let today = today();
            let mut rows = Vec::with_capacity(rids.len());
            for rid in rids {
                let row = stmt
                    .query_row(rusqlite::params![today, rid], |r| {
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
                            envelope: r.get(10)?,
                        })
                    })
                    .optional()?;
                rows.extend(row);
            }
            let next = rows.len() > PER_PAGE as usize;
            rows.truncate(PER_PAGE as usize);
            Ok(QueuePage {
                rows,
                total: counted.min(COUNT_CAP),
                more: counted > COUNT_CAP,
                next,
            })
        })
        .await
    }

    /// The non-content metadata of the signals in `ids` that exist, in that order.
    pub async fn metadata(&self, ids: Vec<String>) -> Result<Vec<Metadata>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT s.id, s.received_on, s.status, s.domain, s.origin, s.labels, s.assignee,
                    (SELECT count(*) FROM all_messages m
                       WHERE m.signal_id = s.id AND m.author = 'sender' AND m.answered = 0),
                    {ACK_OVERDUE}, {FEEDBACK_OVERDUE}
                 FROM all_signals s WHERE s.id = ?2"
            ))?;
            let today = today();
            let mut out = Vec::new();
            for id in ids {
                let row = stmt
                    .query_row(rusqlite::params![today, id], |r| {
                        Ok(Metadata {
                            id: r.get(0)?,
                            received_on: r.get(1)?,
                            status: r.get(2)?,
                            domain: r.get(3)?,
                            origin: r.get(4)?,
                            labels: r.get(5)?,
                            assignee: r.get(6)?,
                            unanswered: r.get(7)?,
                            ack_overdue: r.get(8)?,
                            feedback_overdue: r.get(9)?,
                        })
                    })
                    .optional()?;
                out.extend(row);
            }
            Ok(out)
        })
        .await
    }

    /// The ids at `offset..offset + limit` of the queue shown with `filter`
    /// (for "previous" and "next" on a signal's page).
    pub async fn queue_ids(
        &self,
        filter: QueueFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.read(move |c| {
            let rids = page_rids(c, &filter, offset, u64::from(limit))?;
            let mut stmt = c.prepare_cached(
                "SELECT id FROM signals WHERE rowid = ?1
                 UNION ALL SELECT id FROM inbox_signals WHERE rowid = ?1",
            )?;
            let mut out = Vec::with_capacity(rids.len());
            for rid in rids {
                out.extend(stmt.query_row([rid], |r| r.get(0)).optional()?);
            }
            Ok(out)
        })
        .await
    }

    /// The untriaged signals (no domain confirmed) that a domain filter must
    /// know the sender's choice of, newest first, at most [`UNTRIAGED_SCAN`],
    /// of `status` if given (without their envelopes: see
    /// [`Store::envelopes_at`]); and whether there are more.
    pub async fn untriaged(
        &self,
        status: Option<String>,
    ) -> Result<(Vec<Untriaged>, bool), StoreError> {
        self.read(move |c| {
            let only = if status.is_some() {
                "AND status = ?1"
            } else {
                "AND ?1 IS NULL"
            };
            c.prepare_cached(&format!(
                "{} ORDER BY received_on DESC, rid DESC LIMIT {}",
                both(&format!(
                    "SELECT rowid AS rid, id, received_on FROM {{t}}
                     WHERE domain IS NULL {only}"
                )),
                UNTRIAGED_SCAN + 1
            ))?
            .query_map(rusqlite::params![status], |r| {
                Ok(Untriaged {
                    rid: r.get(0)?,
                    id: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map(|mut rows| {
                let more = rows.len() > UNTRIAGED_SCAN as usize;
                rows.truncate(UNTRIAGED_SCAN as usize);
                (rows, more)
            })
        })
        .await
    }

    /// The envelopes of the signals with rowids `rids`, in that order (`None`
    /// for one no longer there).
    pub async fn envelopes_at(&self, rids: Vec<i64>) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&both("SELECT envelope FROM {t} WHERE rowid = ?1"))?;
            rids.iter()
                .map(|rid| stmt.query_row([rid], |r| r.get(0)).optional())
                .collect()
        })
        .await
    }

    /// The ids that start with `prefix` (a typed reference), at most 20.
    pub async fn ids_starting(&self, prefix: String) -> Result<Vec<String>, StoreError> {
        self.read(move |c| {
            // A range on the id index: every id starting so sorts between these.
            let end = format!("{prefix}~");
            c.prepare_cached(&format!(
                "{} ORDER BY 1 LIMIT 20",
                both("SELECT id FROM {t} WHERE id >= ?1 AND id < ?2")
            ))?
            .query_map(rusqlite::params![prefix, end], |r| r.get(0))?
            .collect()
        })
        .await
    }

    /// The domains confirmed at triage, for the queue's filter.
    pub async fn domains_in_use(&self) -> Result<Vec<String>, StoreError> {
        self.read(domains_in).await
    }
}

/// The domains confirmed at triage.
pub(super) fn domains_in(c: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    // One index seek per distinct domain instead of a walk over every signal.
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE d(v) AS (
            SELECT min(domain) FROM signals WHERE domain IS NOT NULL
            UNION ALL
            SELECT (SELECT min(domain) FROM signals WHERE domain > d.v) FROM d
            WHERE d.v IS NOT NULL
         )
         SELECT v FROM d WHERE v IS NOT NULL
         UNION
         SELECT DISTINCT domain FROM inbox_signals WHERE domain IS NOT NULL
         ORDER BY 1",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::store::testing::store_with;

    #[tokio::test]
    async fn queue_pages_cover_every_signal_once_in_each_order() {
        let days: Vec<&str> = (0..120)
            .map(|i| ["2026-05-01", "2026-04-01"][i % 2])
            .collect();
        let (_dir, store) = store_with(&days).await;
        // Every status, so that a page starts inside a group or after whole groups.
        store
            .write(|c| {
                c.execute(
                    "UPDATE inbox_signals SET status = CASE abs(rowid) % 5
                        WHEN 0 THEN 'new' WHEN 1 THEN 'in_progress' WHEN 2 THEN 'forwarded'
                        WHEN 3 THEN 'closed' ELSE 'not_admissible' END",
                    [],
                )
            })
            .await
            .unwrap();
        for sort in Sort::ALL {
            let mut ids = Vec::new();
            for page in 1..=5 {
                let p = store
                    .queue(QueueFilter {
                        sort,
                        page,
                        ..QueueFilter::default()
                    })
                    .await
                    .unwrap();
                assert_eq!(p.total, 120);
                assert_eq!(p.next, page < 5, "{sort:?} page {page}");
                ids.extend(p.rows.into_iter().map(|r| (r.received_on, r.id)));
            }
            assert_eq!(ids.len(), 120);
            let days: Vec<&String> = ids.iter().map(|(d, _)| d).collect();
            if matches!(sort, Sort::Status | Sort::Urgent) {
                // Ordered by group first; its order is checked below.
            } else if sort == Sort::Newest {
                assert!(days.windows(2).all(|w| w[0] >= w[1]), "newest first");
            } else {
                assert!(
                    days.windows(2).all(|w| w[0] <= w[1]),
                    "{sort:?}: oldest first"
                );
            }
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 120, "{sort:?}: no signal twice");
        }
    }

    #[tokio::test]
    async fn status_order_follows_the_workflow_and_urgent_puts_open_signals_first() {
        let days: Vec<&str> = (0..10).map(|_| "2026-05-01").collect();
        let (_dir, store) = store_with(&days).await;
        let all = store.queue(QueueFilter::default()).await.unwrap();
        for (i, row) in all.rows.iter().enumerate() {
            let status = STATUSES[i % STATUSES.len()];
            store
                .write({
                    let id = row.id.clone();
                    move |c| {
                        c.execute(
                            "UPDATE inbox_signals SET status = ?2 WHERE id = ?1",
                            rusqlite::params![id, status],
                        )
                    }
                })
                .await
                .unwrap();
        }
        let order = |sort| {
            let store = store.clone();
            async move {
                store
                    .queue(QueueFilter {
                        sort,
                        ..QueueFilter::default()
                    })
                    .await
                    .unwrap()
                    .rows
                    .into_iter()
                    .map(|r| r.status)
                    .collect::<Vec<_>>()
            }
        };
        let by_status = order(Sort::Status).await;
        let rank = |s: &String| STATUSES.iter().position(|x| x == s).unwrap();
        assert!(
            by_status.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
            "{by_status:?}"
        );
        let urgent = order(Sort::Urgent).await;
        let open = |s: &String| !FINAL_STATUSES.contains(&s.as_str());
        assert!(urgent[..4].iter().all(open), "{urgent:?}");
        assert!(!urgent[4..].iter().any(open), "{urgent:?}");
    }

    /// Moves every signal of the inbox into the main table (as a mix would),
    /// where the work filters' indexes are.
    async fn into_main(store: &Store) {
        store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO signals (rowid, id, received_on, status, domain, lookup_tag,
                        source_recipient, format, envelope, origin, labels, assignee,
                        acknowledged_on, feedback_on)
                     SELECT rowid, id, received_on, status, domain, lookup_tag,
                        source_recipient, format, envelope, origin, labels, assignee,
                        acknowledged_on, feedback_on FROM inbox_signals;
                     DELETE FROM inbox_signals;",
                )
            })
            .await
            .unwrap();
    }

    fn ids_of(page: &QueuePage) -> Vec<String> {
        let mut ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn the_label_and_attention_filters_find_exactly_theirs_by_index() {
        let now = time::OffsetDateTime::now_utc().date();
        let day = |ago: i64| (now - time::Duration::days(ago)).to_string();
        let days: Vec<String> = (0..12).map(|i| day(2 + 20 * i)).collect();
        let refs: Vec<&str> = days.iter().map(String::as_str).collect();
        let (_dir, store) = store_with(&refs).await;
        into_main(&store).await;
        let all = store.queue(QueueFilter::default()).await.unwrap();
        // By age, youngest first: the queue's default order.
        let ids: Vec<String> = all.rows.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids.len(), 12);
        // Labels: a list holding "spoed", one holding a longer word, one
        // holding it second; everything acknowledged and answered but
        // signal 3 (not acknowledged, 62 days), 9 (no feedback, 182 days)
        // and 11 (a reply not yet handled, and also no feedback).
        let set = |sql: &'static str, id: String| {
            let store = store.clone();
            async move {
                store.write(move |c| c.execute(sql, [id])).await.unwrap();
            }
        };
        store
            .write(|c| {
                c.execute(
                    "UPDATE signals SET acknowledged_on = received_on, feedback_on = received_on",
                    [],
                )
            })
            .await
            .unwrap();
        set(
            "UPDATE signals SET labels = 'spoed' WHERE id = ?1",
            ids[0].clone(),
        )
        .await;
        set(
            "UPDATE signals SET labels = 'spoedeisend' WHERE id = ?1",
            ids[1].clone(),
        )
        .await;
        set(
            "UPDATE signals SET labels = 'kinderopvang, spoed' WHERE id = ?1",
            ids[2].clone(),
        )
        .await;
        set(
            "UPDATE signals SET labels = 'kinderopvang' WHERE id = ?1",
            ids[4].clone(),
        )
        .await;
        set(
            "UPDATE signals SET labels = '5_%' WHERE id = ?1",
            ids[6].clone(),
        )
        .await;
        set(
            "UPDATE signals SET acknowledged_on = NULL WHERE id = ?1",
            ids[3].clone(),
        )
        .await;
        set(
            "UPDATE signals SET feedback_on = NULL WHERE id = ?1",
            ids[9].clone(),
        )
        .await;
        set(
            "UPDATE signals SET feedback_on = NULL WHERE id = ?1",
            ids[11].clone(),
        )
        .await;
        for (n, id) in [ids[11].clone(), ids[5].clone()].into_iter().enumerate() {
            let answered = i64::from(n == 1);
            store
                .write(move |c| {
                    c.execute(
                        "INSERT INTO messages (id, signal_id, seq, author, day, format, envelope, answered)
                         VALUES (?1, ?2, 1, 'sender', '2026-01-01', 'age', x'00', ?3)",
                        rusqlite::params![format!("m{n}"), id, answered],
                    )
                })
                .await
                .unwrap();
        }
        let filtered = |f: QueueFilter| {
            let store = store.clone();
            async move { ids_of(&store.queue(f).await.unwrap()) }
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let spoed = QueueFilter {
            label: Some("spoed".into()),
            ..QueueFilter::default()
        };
        assert_eq!(
            filtered(spoed.clone()).await,
            sorted(vec![ids[0].clone(), ids[2].clone()])
        );
        // A label's `%` and `_` are themselves, not wildcards.
        for (label, want) in [
            ("5_%", vec![ids[6].clone()]),
            ("5__", vec![]),
            ("%", vec![]),
        ] {
            let got = filtered(QueueFilter {
                label: Some(label.into()),
                ..QueueFilter::default()
            })
            .await;
            assert_eq!(got, want, "{label}");
        }
        let attention = QueueFilter {
            attention: true,
            ..QueueFilter::default()
        };
        let needs = filtered(attention.clone()).await;
        assert_eq!(
            needs,
            sorted(vec![ids[3].clone(), ids[9].clone(), ids[11].clone()]),
            "each once, the answered reply not"
        );
        for sort in Sort::ALL {
            let got = filtered(QueueFilter {
                sort,
                ..attention.clone()
            })
            .await;
            assert_eq!(got, needs, "{sort:?}");
        }
        let both = QueueFilter {
            label: Some("kinderopvang".into()),
            attention: true,
            ..QueueFilter::default()
        };
        assert!(filtered(both).await.is_empty());
        assert_eq!(store.queue(attention.clone()).await.unwrap().total, 3);
        // Each walks its own index, never the whole table.
        for (filter, index) in [
            (spoed, "signals_by_labels"),
            (attention.clone(), "signals_unacknowledged"),
            (attention.clone(), "signals_without_feedback"),
            (attention, "messages_unanswered"),
        ] {
            let (groups, values) = page_parts(&filter);
            let plans: Vec<String> = store
                .read(move |c| {
                    let mut out = Vec::new();
                    for g in groups {
                        let sql = format!(
                            "EXPLAIN QUERY PLAN SELECT rid FROM ({g} ORDER BY received_on DESC, rid DESC LIMIT ?2 OFFSET ?3)"
                        );
                        let mut stmt = c.prepare(&sql)?;
                        let rows = stmt.query_map(
                            rusqlite::params_from_iter(args(25, 0, &values).iter()),
                            |r| r.get::<_, String>(3),
                        )?;
                        for r in rows {
                            out.push(r?);
                        }
                    }
                    Ok(out)
                })
                .await
                .unwrap();
            assert!(
                plans.iter().any(|p| p.contains(index)),
                "{index}: {plans:#?}"
            );
            assert!(
                !plans
                    .iter()
                    .any(|p| p == "SCAN signals" || p.starts_with("SCAN signals ")),
                "{plans:#?}"
            );
        }
    }
}
