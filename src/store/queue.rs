//! The review queue: pages of signals by status, domain and order, from
//! plaintext metadata only, and the domains in use for its filter.
//!
//! Invariant: the queue never reads an envelope; the order of equal days is
//! that of the random rowid, never that of arrival.

use super::signals::today;
use super::{Store, StoreError};

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

    /// The ORDER BY terms, on the columns `rid`, `received_on` and `status`
    /// of alias `t` (or, with `t` empty, of a compound select's result). Ties
    /// are broken by the (random) rowid, which every index holds, and every
    /// column runs the same way, so each table's index is walked, never
    /// sorted, and the main table and the inbox are merged.
    fn order_by(self, t: &str) -> String {
        let t = if t.is_empty() {
            String::new()
        } else {
            format!("{t}.")
        };
        match self {
            Self::Newest => format!("{t}received_on DESC, {t}rid DESC"),
            Self::Oldest => format!("{t}received_on ASC, {t}rid ASC"),
            Self::Status => format!("{t}status ASC, {t}received_on ASC, {t}rid ASC"),
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

impl Store {
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
                    .map(|(i, c)| format!("{c} = ?{}", first + i))
                    .collect();
                format!("WHERE {}", parts.join(" AND "))
            };
            let total: u64 = c
                .prepare_cached(&format!(
                    "SELECT sum(n) FROM ({})",
                    both(&format!("SELECT count(*) AS n FROM {{t}} {}", where_sql(1)))
                ))?
                .query_row(rusqlite::params_from_iter(values.iter()), |r| {
                    Ok(r.get::<_, Option<u64>>(0)?.unwrap_or(0))
                })?;
            let filter_sql = where_sql(4);
            let mut args: Vec<rusqlite::types::Value> =
                vec![today.into(), PER_PAGE.into(), offset.into()];
            args.extend(values);
            // The page's rowids come from the indexes alone (LIMIT/OFFSET there
            // skips index entries, not fat rows with their envelopes), merged
            // from the main table and the inbox; only those 50 rows are then read.
            let page_sql = both(&format!(
                "SELECT rowid AS rid, received_on, status FROM {{t}} {filter_sql}"
            ));
            let sql = format!(
                "SELECT s.id, s.received_on, s.status, s.domain, s.labels, s.assignee,
                    CAST(julianday(?1) - julianday(s.received_on) AS INTEGER),
                    (SELECT count(*) FROM all_messages m
                       WHERE m.signal_id = s.id AND m.author = 'sender' AND m.answered = 0),
                    s.acknowledged_on IS NULL AND s.received_on <= date(?1, '-7 days'),
                    s.feedback_on IS NULL AND s.received_on <= date(?1, '-3 months')
                 FROM ({page_sql} ORDER BY {} LIMIT ?2 OFFSET ?3) AS page
                 JOIN all_signals s ON s.rid = page.rid
                 ORDER BY {}",
                filter.sort.order_by(""),
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
                 SELECT v FROM d WHERE v IS NOT NULL
                 UNION
                 SELECT DISTINCT domain FROM inbox_signals WHERE domain IS NOT NULL
                 ORDER BY 1",
            )?;
            stmt.query_map([], |r| r.get(0))?.collect()
        })
        .await
    }
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
