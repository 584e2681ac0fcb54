//! The annual report's reading: every hardship that belongs to a year, with
//! its measures and their statuses up to the year's last day.
//!
//! Invariants: nothing here opens an envelope. A published hardship comes
//! with the texts the team published and only its published measures; an
//! unpublished one comes with its envelopes only when the caller asks for
//! them (a reviewer's report), and is left out otherwise. Of the signals only
//! the number linked on or before the year's last day is read: never an id,
//! a day or a text of one.

use std::collections::HashMap;

use rusqlite::params;

use super::{Store, StoreError};

/// What the team published of a hardship, if it did so by the year's end.
#[derive(Debug, Clone)]
pub struct YearPublication {
    /// The day it was (last) published.
    pub published_on: String,
    /// The public title.
    pub title: String,
    /// The public summary.
    pub summary: String,
    /// The public cause, or empty.
    pub cause: String,
}

/// A measure as the annual report reads it.
#[derive(Debug, Clone)]
pub struct YearMeasure {
    /// `recommendation`, `proposal` or `measure`.
    pub kind: String,
    /// The lever it pulls.
    pub lever: String,
    /// Its target day, if one.
    pub target_on: Option<String>,
    /// Its published (text, organisation, source), if published.
    pub public: Option<(String, String, String)>,
    /// Its sealed texts, when unpublished texts were asked for.
    pub envelope: Option<Vec<u8>>,
    /// Every (status, day) it had up to the year's last day, oldest first.
    pub history: Vec<(String, String)>,
}

/// A hardship as the annual report reads it.
#[derive(Debug, Clone)]
pub struct YearHardship {
    /// The day it was created.
    pub created_on: String,
    /// Its domain, if chosen.
    pub domain: Option<String>,
    /// Its origin, if chosen.
    pub origin: Option<String>,
    /// How many signals were linked to it on or before the year's last day
    /// (and are still linked).
    pub signals: u64,
    /// What was published of it by the year's last day.
    pub publication: Option<YearPublication>,
    /// Its sealed texts, for an unpublished hardship when asked for.
    pub envelope: Option<Vec<u8>>,
    /// Its measures added by the year's last day, in the order they were
    /// added: the published ones of a published hardship, every one of an
    /// unpublished one.
    pub measures: Vec<YearMeasure>,
}

type MeasureRow = (String, YearMeasure);

impl Store {
    /// The hardships of the year that ends on `last_day` (`YYYY-MM-DD`):
    /// those published on or before it, and with `unpublished` also those
    /// created on or before it and not published by then, with their
    /// envelopes.
    pub fn hardships_of_year_blocking(
        &self,
        last_day: String,
        unpublished: bool,
    ) -> Result<Vec<YearHardship>, StoreError> {
        self.read_blocking(move |c| {
            let mut hardships: Vec<(String, YearHardship)> = c
                .prepare(
                    "SELECT h.id, h.created_on, h.domain, h.origin,
                        p.published_on, p.title, p.summary, p.cause,
                        CASE WHEN ?2 AND p.hardship_id IS NULL THEN h.envelope END
                     FROM hardships h LEFT JOIN publications p
                       ON p.hardship_id = h.id AND p.published_on <= ?1
                     WHERE h.created_on <= ?1 AND (?2 OR p.hardship_id IS NOT NULL)",
                )?
                .query_map(params![last_day, unpublished], |r| {
                    let publication = match r.get::<_, Option<String>>(4)? {
                        Some(published_on) => Some(YearPublication {
                            published_on,
                            title: r.get(5)?,
                            summary: r.get(6)?,
                            cause: r.get(7)?,
                        }),
                        None => None,
                    };
                    Ok((
                        r.get(0)?,
                        YearHardship {
                            created_on: r.get(1)?,
                            domain: r.get(2)?,
                            origin: r.get(3)?,
                            signals: 0,
                            publication,
                            envelope: r.get(8)?,
                            measures: Vec::new(),
                        },
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let counts: HashMap<String, u64> = c
                .prepare(
                    "SELECT hardship_id, count(*) FROM hardship_signals
                     WHERE linked_on <= ?1 GROUP BY hardship_id",
                )?
                .query_map(params![last_day], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut measures = measures_of_year(c, &last_day, unpublished)?;
            for (id, h) in &mut hardships {
                h.signals = counts.get(id.as_str()).copied().unwrap_or(0);
                let published = h.publication.is_some();
                h.measures = measures
                    .remove(id.as_str())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, m)| m)
                    .filter(|m| !published || m.public.is_some())
                    .collect();
            }
            Ok(hardships.into_iter().map(|(_, h)| h).collect())
        })
    }
}

/// Every measure added on or before `last_day`, by hardship id, in the order
/// they were added, with its statuses up to that day; with `envelopes`, the
/// sealed texts of the measures of hardships not published by that day (a
/// published one shows only its public texts).
fn measures_of_year(
    c: &rusqlite::Connection,
    last_day: &str,
    envelopes: bool,
) -> rusqlite::Result<HashMap<String, Vec<MeasureRow>>> {
    // The statuses come from the covering index `measure_statuses_since`
    // (day, measure_id, status, seq): the rows with their sealed notes are
    // never read.
    let mut statuses: HashMap<String, Vec<(i64, String, String)>> = HashMap::new();
    let mut read =
        c.prepare("SELECT measure_id, seq, status, day FROM measure_statuses WHERE day <= ?1")?;
    let mut rows = read.query(params![last_day])?;
    while let Some(r) = rows.next()? {
        statuses
            .entry(r.get(0)?)
            .or_default()
            .push((r.get(1)?, r.get(2)?, r.get(3)?));
    }
    let mut by_hardship: HashMap<String, Vec<(i64, MeasureRow)>> = HashMap::new();
    let mut read = c.prepare(
        "SELECT m.id, m.hardship_id, m.seq, m.kind, m.lever, m.target_on,
            pm.text, pm.organisation, pm.source,
            CASE WHEN ?2 AND NOT EXISTS (SELECT 1 FROM publications p
                 WHERE p.hardship_id = m.hardship_id AND p.published_on <= ?1)
            THEN m.envelope END
         FROM measures m LEFT JOIN published_measures pm ON pm.measure_id = m.id
         WHERE m.created_on <= ?1",
    )?;
    let mut rows = read.query(params![last_day, envelopes])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let mut history = statuses.remove(&id).unwrap_or_default();
        history.sort_by_key(|(seq, ..)| *seq);
        let public = match r.get::<_, Option<String>>(6)? {
            Some(text) => Some((text, r.get(7)?, r.get(8)?)),
            None => None,
        };
        let measure = YearMeasure {
            kind: r.get(3)?,
            lever: r.get(4)?,
            target_on: r.get(5)?,
            public,
            envelope: r.get(9)?,
            history: history.into_iter().map(|(_, s, d)| (s, d)).collect(),
        };
        by_hardship
            .entry(r.get(1)?)
            .or_default()
            .push((r.get(2)?, (id, measure)));
    }
    Ok(by_hardship
        .into_iter()
        .map(|(h, mut ms)| {
            ms.sort_by_key(|(seq, _)| *seq);
            (h, ms.into_iter().map(|(_, m)| m).collect())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::store::hardships::{NewHardship, NewMeasure};
    use crate::store::publications::NewPublication;
    use crate::store::testing::store_with;

    #[tokio::test]
    async fn a_year_holds_the_published_and_asked_for_the_unpublished_with_statuses_to_its_end() {
        let (_dir, store) = store_with(&["2026-11-02"]).await;
        let new_hardship = || NewHardship {
            origin: String::new(),
            domain: "benefits".into(),
            format: crate::crypto::FORMAT_AGE_X25519,
            envelope: b"sealed hardship".to_vec(),
        };
        let new_measure = || NewMeasure {
            kind: "measure".into(),
            lever: "law".into(),
            target_on: String::new(),
            format: crate::crypto::FORMAT_AGE_X25519,
            envelope: b"sealed measure".to_vec(),
            note: b"n".to_vec(),
        };
        let public = store
            .add_hardship("ann".into(), new_hardship())
            .await
            .unwrap();
        let internal = store
            .add_hardship("ann".into(), new_hardship())
            .await
            .unwrap();
        let shown = store
            .add_measure(public.clone(), "ann".into(), new_measure())
            .await
            .unwrap()
            .unwrap();
        store
            .add_measure(public.clone(), "ann".into(), new_measure())
            .await
            .unwrap()
            .unwrap();
        store
            .add_measure(internal.clone(), "ann".into(), new_measure())
            .await
            .unwrap()
            .unwrap();
        store
            .set_measure_status(
                public.clone(),
                shown.clone(),
                "agreed".into(),
                "ann".into(),
                b"n".to_vec(),
            )
            .await
            .unwrap();
        let signal: String = store
            .read(|c| c.query_row("SELECT id FROM all_signals", [], |r| r.get(0)))
            .await
            .unwrap();
        store
            .link(signal, public.clone(), "ann".into())
            .await
            .unwrap();
        let publication = NewPublication {
            title: "Public title".into(),
            summary: "Public summary".into(),
            cause: String::new(),
            measures: vec![(shown, "Change it".into(), "SZW".into(), String::new())],
        };
        store
            .publish(public, "ann".into(), publication)
            .await
            .unwrap();
        let this_year = crate::store::signals::today()[..4].to_owned();
        let end = format!("{this_year}-12-31");
        let only_public = store
            .hardships_of_year_blocking(end.clone(), false)
            .unwrap();
        assert_eq!(only_public.len(), 1);
        let h = &only_public[0];
        assert_eq!(h.publication.as_ref().unwrap().title, "Public title");
        assert_eq!(h.signals, 1);
        assert!(h.envelope.is_none());
        assert_eq!(h.measures.len(), 1, "only the published measure");
        assert!(h.measures[0].envelope.is_none());
        let steps: Vec<&str> = h.measures[0]
            .history
            .iter()
            .map(|(s, _)| s.as_str())
            .collect();
        assert_eq!(steps, ["proposed", "agreed"]);
        let all = store.hardships_of_year_blocking(end, true).unwrap();
        assert_eq!(all.len(), 2);
        let inner = all.iter().find(|h| h.publication.is_none()).unwrap();
        assert_eq!(inner.envelope.as_deref(), Some(&b"sealed hardship"[..]));
        assert_eq!(inner.measures.len(), 1);
        assert!(inner.measures[0].envelope.is_some());
        // The year before: nothing existed yet.
        let before = format!("{}-12-31", this_year.parse::<i32>().unwrap() - 1);
        assert!(
            store
                .hardships_of_year_blocking(before, true)
                .unwrap()
                .is_empty()
        );
        store.close();
    }
}
