//! The monitoring overview on `GET /hardships`: every hardship with its
//! measures' status, the ones past their target flagged, filters by
//! organisation, domain, lever and status, and what changed since a day.
//!
//! Invariants:
//! - The audit row that says what is opened (the hardships' titles, and the
//!   measures' organisations when filtering by organisation) is durable
//!   before anything is decrypted.
//! - Opened texts live in the session's wiped cache ([`Opened`]) and the
//!   wiped response body; the filters in the address are lists' values, a
//!   day, and the organisation typed (a reviewer's word, not a sender's).

use std::collections::HashMap;

use super::hardships::HardshipForm;
use super::measures::{LEVERS, MEASURE_STATUSES, is_day};
use super::session::{Opened, OpenedTexts, Reviewer};
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::signal::questions;
use crate::store::overview::{OverviewHardship, OverviewMeasure, Sealed, StatusChange};
use crate::web;

/// Statuses that end a measure: past its target, it is not overdue.
const ENDED: &[&str] = &["implemented", "not_implemented", "withdrawn"];

/// Longest organisation filter, in characters.
const MAX_FILTER: usize = 100;

/// The overview's filters, from the address.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    /// Part of an organisation's name (the hardship's or a measure's).
    pub organisation: String,
    /// A domain value.
    pub domain: String,
    /// A lever value.
    pub lever: String,
    /// A status value.
    pub status: String,
    /// A day: only hardships changed on or after it.
    pub since: String,
    /// Only hardships with a measure past its target.
    pub overdue: bool,
}

impl Filters {
    /// Reads the filters of `query`; `None` if a value is not one of its list
    /// or `since` is not a day.
    pub fn parse(query: Option<&str>) -> Option<Self> {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let v = v.trim().to_owned();
            match k.as_ref() {
                "organisation" => f.organisation = v,
                "domain" => f.domain = v,
                "lever" => f.lever = v,
                "status" => f.status = v,
                "since" => f.since = v,
                "overdue" => f.overdue = v == "1",
                _ => {}
            }
        }
        let known = |v: &str, list: &[&str]| v.is_empty() || list.contains(&v);
        let domain_known = f.domain.is_empty() || questions::options("domain").contains(&f.domain);
        (domain_known
            && known(&f.lever, LEVERS)
            && known(&f.status, MEASURE_STATUSES)
            && (f.since.is_empty() || is_day(&f.since))
            && f.organisation.chars().count() <= MAX_FILTER)
            .then_some(f)
    }

    /// Whether any filter is set.
    pub fn any(&self) -> bool {
        !self.organisation.is_empty()
            || !self.domain.is_empty()
            || !self.lever.is_empty()
            || !self.status.is_empty()
            || !self.since.is_empty()
            || self.overdue
    }
}

/// The field named `name` of opened `texts`, or "".
fn text_of<'a>(texts: &'a [(String, zeroize::Zeroizing<String>)], name: &str) -> &'a str {
    texts
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Opens the envelopes of `records` (id, envelope) in the session's cache,
/// on two threads when there are many.
fn open_many(
    opened: &Opened,
    identity: &age::x25519::Identity,
    records: &[(&str, &[u8])],
) -> Vec<super::session::OpenedTexts> {
    let open = |part: &[(&str, &[u8])]| -> Vec<_> {
        part.iter()
            .map(|(id, e)| opened.fields(id, e, identity))
            .collect()
    };
    if records.len() < 64 {
        return open(records);
    }
    let (a, b) = records.split_at(records.len() / 2);
    std::thread::scope(|s| {
        let second = s.spawn(|| open(b));
        let mut first = open(a);
        match second.join() {
            Ok(rest) => first.extend(rest),
            Err(_) => first.extend(open(b)),
        }
        first
    })
}

/// Today, `YYYY-MM-DD` (UTC, as every stored day).
fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The opened texts of records `ids` of kind `of`: from the session's cache,
/// and for the ones it has not opened yet, read and decrypted now (call only
/// after the audit row that says what is opened is durable).
async fn texts_of(
    state: &ReviewState,
    reviewer: &Reviewer,
    of: Sealed,
    ids: Vec<String>,
) -> Result<HashMap<String, OpenedTexts>, ReviewError> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match reviewer.opened.cached(&id) {
            Some(texts) => {
                found.insert(id, texts);
            }
            None => missing.push(id),
        }
    }
    let envelopes = state.store.envelopes(of, missing).await?;
    if envelopes.is_empty() {
        return Ok(found);
    }
    let opened = std::sync::Arc::clone(&reviewer.opened);
    let identity = std::sync::Arc::clone(&reviewer.identity);
    let fresh = tokio::task::spawn_blocking(move || {
        let records: Vec<(&str, &[u8])> = envelopes
            .iter()
            .map(|(id, e)| (id.as_str(), e.as_slice()))
            .collect();
        let texts = open_many(&opened, &identity, &records);
        envelopes
            .iter()
            .map(|(id, _)| id.clone())
            .zip(texts)
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|_| ReviewError::Unavailable)?;
    found.extend(fresh);
    Ok(found)
}

/// Builds the overview's rows from what is stored and the opened texts of
/// the hardships (and, to filter by organisation, of the measures).
fn rows(
    hardships: &[OverviewHardship],
    measures: &[OverviewMeasure],
    filters: &Filters,
    hardship_texts: &HashMap<String, OpenedTexts>,
    measure_texts: &HashMap<String, OpenedTexts>,
    unreadable: &str,
) -> Vec<pages::OverviewRow> {
    let today = today();
    let none: OpenedTexts = std::sync::Arc::new(Vec::new());
    let wanted = filters.organisation.to_lowercase();
    let mut by_hardship: HashMap<&str, Vec<&OverviewMeasure>> = HashMap::new();
    for m in measures {
        by_hardship.entry(&m.hardship_id).or_default().push(m);
    }
    let mut out = Vec::new();
    for h in hardships {
        let texts = hardship_texts.get(&h.id).unwrap_or(&none);
        let title = match text_of(texts, "title") {
            "" => unreadable,
            t => t,
        };
        let own = by_hardship
            .get(h.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let overdue = own
            .iter()
            .filter(|m| {
                m.target_on.as_deref().is_some_and(|t| t < today.as_str())
                    && !ENDED.contains(&m.status.as_ref())
            })
            .count();
        let changed_on = [
            Some(h.created_on.as_str()),
            h.last_linked_on.as_deref(),
            h.published_on.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(own.iter().map(|m| m.changed_on.as_str()))
        .max()
        .unwrap_or(h.created_on.as_str())
        .to_owned();
        let organisation_matches = wanted.is_empty()
            || text_of(texts, "organisations")
                .to_lowercase()
                .contains(&wanted)
            || own.iter().any(|m| {
                measure_texts
                    .get(&m.id)
                    .is_some_and(|t| text_of(t, "organisation").to_lowercase().contains(&wanted))
            });
        let keep = organisation_matches
            && (filters.domain.is_empty() || h.domain.as_deref() == Some(filters.domain.as_str()))
            && (filters.lever.is_empty() || own.iter().any(|m| m.lever == filters.lever.as_str()))
            && (filters.status.is_empty()
                || own.iter().any(|m| m.status == filters.status.as_str()))
            && (!filters.overdue || overdue > 0)
            && (filters.since.is_empty() || changed_on >= filters.since);
        if !keep {
            continue;
        }
        let mut by_status: Vec<(&'static str, usize)> = Vec::new();
        for s in MEASURE_STATUSES {
            let n = own.iter().filter(|m| m.status == *s).count();
            if n > 0 {
                by_status.push((s, n));
            }
        }
        out.push(pages::OverviewRow {
            id: h.id.clone(),
            title: zeroize::Zeroizing::new(title.to_owned()),
            domain: h.domain.clone(),
            signals: h.signals,
            measures: own.len(),
            by_status,
            overdue,
            changed_on,
            published: h.published_on.is_some(),
        });
    }
    out
}

/// The overview page (with the new hardship's form as sent, when refused).
pub async fn page(
    state: &ReviewState,
    face: Face,
    reviewer: &Reviewer,
    filters: Filters,
    form: &HardshipForm,
    annual: &pages::AnnualForm,
) -> Result<axum::response::Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let (hardships, measures) = state.store.overview().await.map_err(|e| fail(e.into()))?;
    let changes = if filters.since.is_empty() {
        Vec::new()
    } else {
        state
            .store
            .status_changes_since(filters.since.clone())
            .await
            .map_err(|e| fail(e.into()))?
    };
    if !hardships.is_empty() {
        let detail = if filters.organisation.is_empty() {
            format!("overview: titles of {} hardships", hardships.len())
        } else {
            format!(
                "overview: titles of {} hardships, organisations of {} measures",
                hardships.len(),
                measures.len()
            )
        };
        state
            .store
            .audit(Entry::general(&reviewer.name, Action::HardshipView, detail))
            .await
            .map_err(|e| fail(e.into()))?;
    }
    let hardship_texts = texts_of(
        state,
        reviewer,
        Sealed::Hardship,
        hardships.iter().map(|h| h.id.clone()).collect(),
    )
    .await
    .map_err(fail)?;
    let measure_texts = if filters.organisation.is_empty() {
        HashMap::new()
    } else {
        texts_of(
            state,
            reviewer,
            Sealed::Measure,
            measures.iter().map(|m| m.id.clone()).collect(),
        )
        .await
        .map_err(fail)?
    };
    let unreadable = face.t("review.signal.undecryptable");
    let rows = rows(
        &hardships,
        &measures,
        &filters,
        &hardship_texts,
        &measure_texts,
        unreadable,
    );
    let shown: HashMap<&str, &pages::OverviewRow> =
        rows.iter().map(|r| (r.id.as_str(), r)).collect();
    // Each measure's place in the overview's order (by hardship, then as added).
    let place: HashMap<&str, (usize, &OverviewMeasure)> = measures
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), (i, m)))
        .collect();
    let mut kept: Vec<(StatusChange, usize, &OverviewMeasure, &pages::OverviewRow)> = changes
        .into_iter()
        .filter_map(|c| {
            let (at, m) = place.get(c.measure_id.as_str()).copied()?;
            let row = shown.get(m.hardship_id.as_str()).copied()?;
            Some((c, at, m, row))
        })
        .collect();
    kept.sort_by(|(a, at_a, ..), (b, at_b, ..)| {
        b.day
            .cmp(&a.day)
            .then(at_a.cmp(at_b))
            .then(a.seq.cmp(&b.seq))
    });
    let changes: Vec<pages::ChangeShown> = kept
        .into_iter()
        .map(|(c, _, m, row)| pages::ChangeShown {
            title: row.title.clone(),
            hardship_id: m.hardship_id.clone(),
            kind: m.kind.to_string(),
            lever: m.lever.to_string(),
            status: c.status,
            day: c.day,
        })
        .collect();
    let view = pages::OverviewView {
        rows: &rows,
        changes: &changes,
        filters: &filters,
        today: today(),
        annual,
    };
    let mut res = web::wiped(pages::hardships(face, reviewer, &view, form));
    if !form.errors.is_empty() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    } else if annual.bad_year {
        *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn filters_take_only_values_of_their_lists_and_a_day() {
        let f = Filters::parse(Some(
            "domain=benefits&lever=law&status=agreed&since=2026-01-31&overdue=1&organisation=+UWV+",
        ))
        .unwrap();
        assert_eq!(f.organisation, "UWV");
        assert!(f.overdue && f.any());
        assert!(!Filters::parse(None).unwrap().any());
        for bad in [
            "lever=magic",
            "status=done",
            "since=yesterday",
            "domain=elders",
        ] {
            assert!(Filters::parse(Some(bad)).is_none(), "{bad}");
        }
    }
}
