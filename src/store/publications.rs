//! What the team published of its hardships: the public title, summary and
//! cause of a hardship, and the public text of the measures under it.
//!
//! Invariants: publishing is an explicit act with its audit row in the same
//! transaction; only what a reviewer wrote for the public and confirmed is
//! stored in the clear, and only from that moment; unpublishing deletes it
//! (with `secure_delete`, its cells are zeroed). A measure's progress is read
//! from the measure itself, so it shows without publishing again. What is read
//! here for the public never holds a signal's id or text: of the signals only
//! their number.

use std::sync::atomic::Ordering;

use rusqlite::{OptionalExtension, params};

use super::signals::today;
use super::{Store, StoreError};
use crate::audit::{self, Action, Entry};

/// A publication to store: the public texts, and for each measure it names
/// (by id) its public text, organisation and source.
#[derive(Debug, Clone, Default)]
pub struct NewPublication {
    /// The public title.
    pub title: String,
    /// The public summary: the pattern, for whom.
    pub summary: String,
    /// The public cause: the rule or practice, or empty.
    pub cause: String,
    /// (measure id, text, organisation, source) of each measure published.
    pub measures: Vec<(String, String, String, String)>,
}

/// A measure as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicMeasure {
    /// The measure's id (the review face links to it; public pages show none).
    pub id: String,
    /// `recommendation`, `proposal` or `measure`.
    pub kind: String,
    /// The lever it pulls.
    pub lever: String,
    /// Its current status.
    pub status: String,
    /// Its target day, if one.
    pub target_on: Option<String>,
    /// The public text.
    pub text: String,
    /// The responsible organisation.
    pub organisation: String,
    /// Where it comes from (a report, a year), or empty.
    pub source: String,
    /// Every (status, day) it had, oldest first.
    pub history: Vec<(String, String)>,
}

/// A published hardship.
#[derive(Debug, Clone)]
pub struct PublicHardship {
    /// The hardship's id (for the review face; public pages show none).
    pub id: String,
    /// The day it was last published.
    pub published_on: String,
    /// Who published it.
    pub published_by: String,
    /// The public title.
    pub title: String,
    /// The public summary.
    pub summary: String,
    /// The public cause, or empty.
    pub cause: String,
    /// The hardship's domain, if chosen.
    pub domain: Option<String>,
    /// The hardship's origin, if chosen.
    pub origin: Option<String>,
    /// How many signals are linked to it now.
    pub signals: u64,
    /// Its published measures, in the order they were added.
    pub measures: Vec<PublicMeasure>,
}

const PUBLISHED: &str = "SELECT p.hardship_id, p.published_on, p.published_by, p.title,
        p.summary, p.cause, h.domain, h.origin,
        (SELECT count(*) FROM hardship_signals l WHERE l.hardship_id = p.hardship_id)
     FROM publications p JOIN hardships h ON h.id = p.hardship_id";

fn published_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublicHardship> {
    Ok(PublicHardship {
        id: r.get(0)?,
        published_on: r.get(1)?,
        published_by: r.get(2)?,
        title: r.get(3)?,
        summary: r.get(4)?,
        cause: r.get(5)?,
        domain: r.get(6)?,
        origin: r.get(7)?,
        signals: r.get(8)?,
        measures: Vec::new(),
    })
}

/// Fills in the published measures of each hardship, with their history.
fn with_measures(
    c: &rusqlite::Connection,
    mut found: Vec<PublicHardship>,
) -> rusqlite::Result<Vec<PublicHardship>> {
    let mut measures = c.prepare_cached(
        "SELECT m.id, m.kind, m.lever, m.status, m.target_on, p.text, p.organisation, p.source
         FROM published_measures p JOIN measures m ON m.id = p.measure_id
         WHERE p.hardship_id = ?1 ORDER BY m.seq",
    )?;
    let mut history = c.prepare_cached(
        "SELECT status, day FROM measure_statuses WHERE measure_id = ?1 ORDER BY seq",
    )?;
    for h in &mut found {
        h.measures = measures
            .query_map(params![h.id], |r| {
                Ok(PublicMeasure {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    lever: r.get(2)?,
                    status: r.get(3)?,
                    target_on: r.get(4)?,
                    text: r.get(5)?,
                    organisation: r.get(6)?,
                    source: r.get(7)?,
                    history: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for m in &mut h.measures {
            m.history = history
                .query_map(params![m.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
    }
    Ok(found)
}

impl Store {
    /// How many changes to what the public sees of hardships this process
    /// has made: a page drawn from [`Store::published`] stays right until
    /// this number moves (or another process changes the database).
    pub fn public_changes(&self) -> u64 {
        self.0.public_changes.load(Ordering::Acquire)
    }

    pub(super) fn public_changed(&self) {
        self.0.public_changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Publishes hardship `hardship` (again): its public texts and those of
    /// the measures named, each of which must be the hardship's, with the
    /// audit row. `false` if there is no such hardship or a measure is not
    /// one of its own; then nothing is stored.
    pub async fn publish(
        &self,
        hardship: String,
        actor: String,
        new: NewPublication,
    ) -> Result<bool, StoreError> {
        let done = self
            .write(move |c| {
                let known = c
                    .prepare_cached("SELECT 1 FROM hardships WHERE id = ?1")?
                    .query_row(params![hardship], |_| Ok(()))
                    .optional()?
                    .is_some();
                if !known {
                    return Ok(false);
                }
                let mut own =
                    c.prepare_cached("SELECT 1 FROM measures WHERE id = ?1 AND hardship_id = ?2")?;
                for (id, ..) in &new.measures {
                    if own
                        .query_row(params![id, hardship], |_| Ok(()))
                        .optional()?
                        .is_none()
                    {
                        return Ok(false);
                    }
                }
                c.prepare_cached(
                    "INSERT OR REPLACE INTO publications
                       (hardship_id, published_on, published_by, title, summary, cause)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    hardship,
                    today(),
                    actor,
                    new.title,
                    new.summary,
                    new.cause
                ])?;
                c.prepare_cached("DELETE FROM published_measures WHERE hardship_id = ?1")?
                    .execute(params![hardship])?;
                let mut insert = c.prepare_cached(
                    "INSERT INTO published_measures
                       (measure_id, hardship_id, text, organisation, source)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (id, text, organisation, source) in &new.measures {
                    insert.execute(params![id, hardship, text, organisation, source])?;
                }
                audit::append(
                    c,
                    &Entry::general(
                        &actor,
                        Action::Publish,
                        format!("hardship {hardship} measures {}", new.measures.len()),
                    ),
                )?;
                Ok(true)
            })
            .await?;
        self.public_changed();
        Ok(done)
    }

    /// Takes back the publication of hardship `hardship`, with the audit row;
    /// `false` if it was not published.
    pub async fn unpublish(&self, hardship: String, actor: String) -> Result<bool, StoreError> {
        let done = self
            .write(move |c| {
                let gone = c
                    .prepare_cached("DELETE FROM publications WHERE hardship_id = ?1")?
                    .execute(params![hardship])?;
                if gone == 0 {
                    return Ok(false);
                }
                c.prepare_cached("DELETE FROM published_measures WHERE hardship_id = ?1")?
                    .execute(params![hardship])?;
                audit::append(
                    c,
                    &Entry::general(&actor, Action::Unpublish, format!("hardship {hardship}")),
                )?;
                Ok(true)
            })
            .await?;
        self.public_changed();
        Ok(done)
    }

    /// Every published hardship, by public title.
    pub async fn published(&self) -> Result<Vec<PublicHardship>, StoreError> {
        self.read(|c| {
            let found = c
                .prepare_cached(&format!("{PUBLISHED} ORDER BY p.title, p.hardship_id"))?
                .query_map([], published_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            with_measures(c, found)
        })
        .await
    }

    /// The publication of hardship `hardship`, if it is published.
    pub async fn publication(
        &self,
        hardship: String,
    ) -> Result<Option<PublicHardship>, StoreError> {
        self.read(move |c| {
            let found = c
                .prepare_cached(&format!("{PUBLISHED} WHERE p.hardship_id = ?1"))?
                .query_row(params![hardship], published_row)
                .optional()?;
            Ok(with_measures(c, found.into_iter().collect())?.pop())
        })
        .await
    }

    /// The published hardships signal `signal` is linked to, by public title.
    pub async fn published_for_signal(
        &self,
        signal: String,
    ) -> Result<Vec<PublicHardship>, StoreError> {
        self.read(move |c| {
            let found = c
                .prepare_cached(&format!(
                    "{PUBLISHED} JOIN hardship_signals s ON s.hardship_id = p.hardship_id
                     WHERE s.signal_id = ?1 ORDER BY p.title, p.hardship_id"
                ))?
                .query_map(params![signal], published_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            with_measures(c, found)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::store::hardships::{NewHardship, NewMeasure};
    use crate::store::testing::store_with;

    async fn hardship_with_measure(store: &Store) -> (String, String) {
        let h = store
            .add_hardship(
                "anna".into(),
                NewHardship {
                    origin: String::new(),
                    domain: "benefits".into(),
                    format: "age",
                    envelope: b"sealed".to_vec(),
                },
            )
            .await
            .unwrap();
        let m = store
            .add_measure(
                h.clone(),
                "anna".into(),
                NewMeasure {
                    kind: "measure".into(),
                    lever: "law".into(),
                    target_on: String::new(),
                    format: "age",
                    envelope: b"sealed".to_vec(),
                    note: b"sealed".to_vec(),
                },
            )
            .await
            .unwrap()
            .unwrap();
        (h, m)
    }

    #[tokio::test]
    async fn a_publication_holds_the_public_texts_and_follows_the_measure_and_goes_whole() {
        let (_dir, store) = store_with(&[]).await;
        let (h, m) = hardship_with_measure(&store).await;
        let (other, foreign) = hardship_with_measure(&store).await;
        let before = store.public_changes();
        let new = |measure: &str| NewPublication {
            title: "Young carers pay twice".into(),
            summary: "The cost-sharing rule".into(),
            cause: String::new(),
            measures: vec![(
                measure.into(),
                "Change the rule".into(),
                "SZW".into(),
                String::new(),
            )],
        };
        // A measure of another hardship is refused, and nothing is stored.
        assert!(
            !store
                .publish(h.clone(), "anna".into(), new(&foreign))
                .await
                .unwrap()
        );
        assert!(store.publication(h.clone()).await.unwrap().is_none());
        assert!(
            store
                .publish(h.clone(), "anna".into(), new(&m))
                .await
                .unwrap()
        );
        assert!(store.public_changes() > before);
        store
            .set_measure_status(
                h.clone(),
                m.clone(),
                "agreed".into(),
                "anna".into(),
                b"n".to_vec(),
            )
            .await
            .unwrap();
        let p = store.publication(h.clone()).await.unwrap().unwrap();
        assert_eq!(p.title, "Young carers pay twice");
        assert_eq!(p.measures.len(), 1);
        assert_eq!(
            p.measures[0].status, "agreed",
            "progress shows without publishing again"
        );
        let statuses: Vec<&str> = p.measures[0]
            .history
            .iter()
            .map(|(s, _)| s.as_str())
            .collect();
        assert_eq!(statuses, ["proposed", "agreed"]);
        assert_eq!(store.published().await.unwrap().len(), 1);
        assert!(!store.unpublish(other, "anna".into()).await.unwrap());
        assert!(store.unpublish(h.clone(), "anna".into()).await.unwrap());
        assert!(store.published().await.unwrap().is_empty());
        let left: i64 = store
            .read(|c| c.query_row("SELECT count(*) FROM published_measures", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(left, 0, "unpublishing takes the measures' public texts too");
    }
}
