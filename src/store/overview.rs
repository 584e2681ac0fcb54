//! The monitoring overview's reading of hardships and measures: every
//! hardship with its counts and days, every measure with its categories and
//! the day of its last status, and the status changes since a day.
//!
//! Invariant: nothing here sees plaintext — texts stay sealed; of when, only
//! days are read.

use rusqlite::{OptionalExtension, params};

use super::hardships::{KINDS, LEVERS, MEASURE_STATUSES};
use super::{Store, StoreError};

/// A hardship as the overview reads it.
#[derive(Debug, Clone)]
pub struct OverviewHardship {
    /// Random id.
    pub id: String,
    /// Day it was created.
    pub created_on: String,
    /// Its domain, if chosen.
    pub domain: Option<String>,
    /// How many signals are linked to it.
    pub signals: u64,
    /// The day a signal was last linked to it.
    pub last_linked_on: Option<String>,
    /// The day it was last published, if it is public.
    pub published_on: Option<String>,
}

/// A measure as the overview reads it.
#[derive(Debug, Clone)]
pub struct OverviewMeasure {
    /// Random id.
    pub id: String,
    /// The hardship it is under.
    pub hardship_id: String,
    /// `recommendation`, `proposal` or `measure`.
    pub kind: Category,
    /// The lever it pulls.
    pub lever: Category,
    /// Its current status.
    pub status: Category,
    /// Its target day, if one.
    pub target_on: Option<String>,
    /// The day it was added.
    pub created_on: String,
    /// The day of its last status.
    pub changed_on: String,
}

/// A value of one of the measures' lists: the list's own string when it is
/// one (as every value the review face stores is), so that 5,000 rows of the
/// overview need not allocate three strings each.
pub type Category = std::borrow::Cow<'static, str>;

/// The value in column `i` of `r` as a [`Category`] of `list`.
fn category(r: &rusqlite::Row<'_>, i: usize, list: &[&'static str]) -> rusqlite::Result<Category> {
    let raw = r.get_ref(i)?.as_str()?;
    Ok(match list.iter().find(|v| **v == raw) {
        Some(known) => Category::Borrowed(known),
        None => Category::Owned(raw.to_owned()),
    })
}

/// The kinds of sealed record the overview opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    /// A hardship's texts.
    Hardship,
    /// A measure's texts.
    Measure,
}

/// A status set on or after a day.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// The measure.
    pub measure_id: String,
    /// The status set.
    pub status: String,
    /// The day it was set.
    pub day: String,
    /// Its place in the measure's history.
    pub seq: i64,
}

impl Store {
    /// Every hardship and every measure, for the overview, without their
    /// sealed texts (most of what the rows hold): those are read by
    /// [`Store::envelopes`] for the records a session has not opened yet.
    pub async fn overview(
        &self,
    ) -> Result<(Vec<OverviewHardship>, Vec<OverviewMeasure>), StoreError> {
        self.read(move |c| {
            let hardships = c
                .prepare_cached(
                    "SELECT h.id, h.created_on, h.domain,
                        (SELECT count(*) FROM hardship_signals l WHERE l.hardship_id = h.id),
                        (SELECT max(linked_on) FROM hardship_signals l WHERE l.hardship_id = h.id),
                        (SELECT published_on FROM publications p WHERE p.hardship_id = h.id)
                     FROM hardships h ORDER BY h.created_on DESC, h.id",
                )?
                .query_map([], |r| {
                    Ok(OverviewHardship {
                        id: r.get(0)?,
                        created_on: r.get(1)?,
                        domain: r.get(2)?,
                        signals: r.get(3)?,
                        last_linked_on: r.get(4)?,
                        published_on: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let measures = c
                .prepare_cached(
                    "SELECT m.id, m.hardship_id, m.kind, m.lever, m.status, m.target_on,
                        m.created_on, coalesce(m.changed_on, m.created_on)
                     FROM measures m INDEXED BY measures_overview
                     ORDER BY m.hardship_id, m.seq",
                )?
                .query_map([], |r| {
                    Ok(OverviewMeasure {
                        id: r.get(0)?,
                        hardship_id: r.get(1)?,
                        kind: category(r, 2, KINDS)?,
                        lever: category(r, 3, LEVERS)?,
                        status: category(r, 4, MEASURE_STATUSES)?,
                        target_on: r.get(5)?,
                        created_on: r.get(6)?,
                        changed_on: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((hardships, measures))
        })
        .await
    }

    /// The (id, envelope) of each record of `ids` of kind `of` that exists.
    pub async fn envelopes(
        &self,
        of: Sealed,
        ids: Vec<String>,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |c| {
            let mut stmt = c.prepare_cached(match of {
                Sealed::Hardship => "SELECT envelope FROM hardships WHERE id = ?1",
                Sealed::Measure => "SELECT envelope FROM measures WHERE id = ?1",
            })?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(envelope) = stmt
                    .query_row(params![id], |r| r.get::<_, Vec<u8>>(0))
                    .optional()?
                {
                    out.push((id, envelope));
                }
            }
            Ok(out)
        })
        .await
    }

    /// Every status set on or after `since` (`YYYY-MM-DD`), newest day first,
    /// read from the covering index alone (the rows carry sealed notes); the
    /// caller knows each measure's hardship from [`Store::overview`].
    pub async fn status_changes_since(
        &self,
        since: String,
    ) -> Result<Vec<StatusChange>, StoreError> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT measure_id, status, day, seq FROM measure_statuses
                 INDEXED BY measure_statuses_since
                 WHERE day >= ?1 ORDER BY day DESC, measure_id, seq",
            )?
            .query_map(params![since], |r| {
                Ok(StatusChange {
                    measure_id: r.get(0)?,
                    status: r.get(1)?,
                    day: r.get(2)?,
                    seq: r.get(3)?,
                })
            })?
            .collect()
        })
        .await
    }
}
