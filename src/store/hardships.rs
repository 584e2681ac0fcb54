//! Hardships and what solves them: a hardship (a pattern several signals
//! share), the signals linked to it, the courses of action and measures under
//! it, and each measure's dated status history.
//!
//! Invariants: nothing here sees plaintext — every text a reviewer wrote
//! arrives sealed; each change is stored with its audit row in the same
//! transaction, so no change is kept without its trace. Of when, only the
//! day is kept: a link holds the day it was made and nothing else about the
//! signal, so linking dates no signal beyond its day.

use rusqlite::{OptionalExtension, params};

use super::signals::{exists, today};
use super::{Store, StoreError};
use crate::audit::{self, Action, Entry};

/// A hardship as stored: its categories in the clear, its texts sealed.
#[derive(Debug, Clone)]
pub struct HardshipRecord {
    /// Random id.
    pub id: String,
    /// Day it was created.
    pub created_on: String,
    /// The reviewer who created it.
    pub author: String,
    /// One of the form's origin values, if chosen.
    pub origin: Option<String>,
    /// One of the form's domain values, if chosen.
    pub domain: Option<String>,
    /// How many signals are linked to it.
    pub signals: u64,
    /// Envelope format.
    pub format: String,
    /// The age file of its texts.
    pub envelope: Vec<u8>,
}

/// A new hardship, sealed.
#[derive(Debug, Clone)]
pub struct NewHardship {
    /// One of the form's origin values, or empty.
    pub origin: String,
    /// One of the form's domain values, or empty.
    pub domain: String,
    /// Envelope format.
    pub format: &'static str,
    /// The age file of its texts.
    pub envelope: Vec<u8>,
}

/// A signal linked to a hardship, as its page lists it.
#[derive(Debug, Clone)]
pub struct LinkedSignal {
    /// The signal's id.
    pub id: String,
    /// Its received day.
    pub received_on: String,
    /// Its domain confirmed at triage, if any.
    pub domain: Option<String>,
    /// Its envelope, for the snippet.
    pub envelope: Vec<u8>,
}

/// One status of a measure, with its day and sealed note.
#[derive(Debug, Clone)]
pub struct StatusRecord {
    /// The status.
    pub status: String,
    /// The day it was set.
    pub day: String,
    /// Who set it.
    pub author: String,
    /// The age file of its note.
    pub envelope: Vec<u8>,
}

/// A measure as stored, with its history (oldest first).
#[derive(Debug, Clone)]
pub struct MeasureRecord {
    /// Random id.
    pub id: String,
    /// `recommendation`, `proposal` or `measure`.
    pub kind: String,
    /// The lever it pulls.
    pub lever: String,
    /// Its current status.
    pub status: String,
    /// Its target day, if one.
    pub target_on: Option<String>,
    /// Day it was added.
    pub created_on: String,
    /// The age file of its texts.
    pub envelope: Vec<u8>,
    /// Every status it had, oldest first.
    pub history: Vec<StatusRecord>,
}

/// A new measure, sealed.
#[derive(Debug, Clone)]
pub struct NewMeasure {
    /// `recommendation`, `proposal` or `measure`.
    pub kind: String,
    /// The lever it pulls.
    pub lever: String,
    /// Its target day (`YYYY-MM-DD`), or empty.
    pub target_on: String,
    /// Envelope format.
    pub format: &'static str,
    /// The age file of its texts.
    pub envelope: Vec<u8>,
    /// The age file of its first status's note.
    pub note: Vec<u8>,
}

/// What a hardship's page shows.
#[derive(Debug, Clone)]
pub struct HardshipPage {
    /// The hardship.
    pub record: HardshipRecord,
    /// Its signals, by day.
    pub signals: Vec<LinkedSignal>,
    /// Its measures, in the order they were added.
    pub measures: Vec<MeasureRecord>,
}

/// The first status of every measure.
pub const FIRST_STATUS: &str = "proposed";

/// What a course of action is.
pub const KINDS: &[&str] = &["recommendation", "proposal", "measure"];
/// What a measure changes.
pub const LEVERS: &[&str] = &[
    "law",
    "policy_rule",
    "discretion",
    "practice",
    "cooperation",
    "other",
];
/// Where a measure stands.
pub const MEASURE_STATUSES: &[&str] = &[
    "proposed",
    "agreed",
    "in_progress",
    "implemented",
    "not_implemented",
    "withdrawn",
];

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<HardshipRecord> {
    Ok(HardshipRecord {
        id: r.get(0)?,
        created_on: r.get(1)?,
        author: r.get(2)?,
        origin: r.get(3)?,
        domain: r.get(4)?,
        signals: r.get(5)?,
        format: r.get(6)?,
        envelope: r.get(7)?,
    })
}

const RECORD: &str = "SELECT h.id, h.created_on, h.author, h.origin, h.domain,
        (SELECT count(*) FROM hardship_signals l WHERE l.hardship_id = h.id),
        h.format, h.envelope FROM hardships h";

fn hardship_exists(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM hardships WHERE id = ?1")?
        .query_row(params![id], |_| Ok(()))
        .optional()?
        .is_some())
}

fn none_if_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Store {
    /// Stores a new hardship with its audit row; returns its id.
    pub async fn add_hardship(
        &self,
        actor: String,
        new: NewHardship,
    ) -> Result<String, StoreError> {
        self.write(move |c| {
            let id = crate::crypto::random_id();
            c.prepare_cached(
                "INSERT INTO hardships (id, created_on, author, origin, domain, format, envelope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                id,
                today(),
                actor,
                none_if_empty(new.origin),
                none_if_empty(new.domain),
                new.format,
                new.envelope
            ])?;
            audit::append(
                c,
                &Entry::general(&actor, Action::HardshipNew, format!("hardship {id}")),
            )?;
            Ok(id)
        })
        .await
    }

    /// Every hardship, newest day first.
    pub async fn hardships(&self) -> Result<Vec<HardshipRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!("{RECORD} ORDER BY h.created_on DESC, h.id"))?
                .query_map([], record)?
                .collect()
        })
        .await
    }

    /// The hardships signal `id` is linked to.
    pub async fn hardships_of(&self, id: String) -> Result<Vec<String>, StoreError> {
        self.read(move |c| hardships_in(c, &id)).await
    }

    /// A hardship with its signals and measures; `None` if there is no such hardship.
    pub async fn hardship_page(&self, id: String) -> Result<Option<HardshipPage>, StoreError> {
        self.read(move |c| {
            let Some(record) = c
                .prepare_cached(&format!("{RECORD} WHERE h.id = ?1"))?
                .query_row(params![id], record)
                .optional()?
            else {
                return Ok(None);
            };
            let signals = c
                .prepare_cached(
                    "SELECT s.id, s.received_on, s.domain, s.envelope
                     FROM hardship_signals l JOIN all_signals s ON s.id = l.signal_id
                     WHERE l.hardship_id = ?1 ORDER BY s.received_on, s.id",
                )?
                .query_map(params![id], |r| {
                    Ok(LinkedSignal {
                        id: r.get(0)?,
                        received_on: r.get(1)?,
                        domain: r.get(2)?,
                        envelope: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut measures = c
                .prepare_cached(
                    "SELECT id, kind, lever, status, target_on, created_on, envelope
                     FROM measures WHERE hardship_id = ?1 ORDER BY seq",
                )?
                .query_map(params![id], |r| {
                    Ok(MeasureRecord {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        lever: r.get(2)?,
                        status: r.get(3)?,
                        target_on: r.get(4)?,
                        created_on: r.get(5)?,
                        envelope: r.get(6)?,
                        history: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut history = c.prepare_cached(
                "SELECT status, day, author, envelope FROM measure_statuses
                 WHERE measure_id = ?1 ORDER BY seq",
            )?;
            for m in &mut measures {
                m.history = history
                    .query_map(params![m.id], |r| {
                        Ok(StatusRecord {
                            status: r.get(0)?,
                            day: r.get(1)?,
                            author: r.get(2)?,
                            envelope: r.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(Some(HardshipPage {
                record,
                signals,
                measures,
            }))
        })
        .await
    }

    /// Links signal `signal` to hardship `hardship` with its audit row;
    /// `false` if either does not exist. Linking twice changes nothing but
    /// the audit trail.
    pub async fn link(
        &self,
        signal: String,
        hardship: String,
        actor: String,
    ) -> Result<bool, StoreError> {
        let done = self
            .write(move |c| {
                if !exists(c, &signal)? || !hardship_exists(c, &hardship)? {
                    return Ok(false);
                }
                c.prepare_cached(
                    "INSERT OR IGNORE INTO hardship_signals (hardship_id, signal_id, linked_on)
                 VALUES (?1, ?2, ?3)",
                )?
                .execute(params![hardship, signal, today()])?;
                audit::append(
                    c,
                    &Entry::on(
                        &actor,
                        Action::Link,
                        &signal,
                        format!("hardship {hardship}"),
                    ),
                )?;
                Ok(true)
            })
            .await;
        self.public_changed();
        done
    }

    /// Unlinks signal `signal` from hardship `hardship` with its audit row;
    /// `false` if they were not linked.
    pub async fn unlink(
        &self,
        signal: String,
        hardship: String,
        actor: String,
    ) -> Result<bool, StoreError> {
        let done = self
            .write(move |c| {
                let gone = c
                    .prepare_cached(
                        "DELETE FROM hardship_signals WHERE hardship_id = ?1 AND signal_id = ?2",
                    )?
                    .execute(params![hardship, signal])?;
                if gone == 0 {
                    return Ok(false);
                }
                audit::append(
                    c,
                    &Entry::on(
                        &actor,
                        Action::Unlink,
                        &signal,
                        format!("hardship {hardship}"),
                    ),
                )?;
                Ok(true)
            })
            .await;
        self.public_changed();
        done
    }

    /// Adds a measure under hardship `hardship`, with its first status
    /// ([`FIRST_STATUS`]) and its audit row; `None` if no such hardship.
    pub async fn add_measure(
        &self,
        hardship: String,
        actor: String,
        new: NewMeasure,
    ) -> Result<Option<String>, StoreError> {
        self.write(move |c| {
            if !hardship_exists(c, &hardship)? {
                return Ok(None);
            }
            let id = crate::crypto::random_id();
            let seq: i64 = c
                .prepare_cached(
                    "SELECT coalesce(max(seq), 0) + 1 FROM measures WHERE hardship_id = ?1",
                )?
                .query_row(params![hardship], |r| r.get(0))?;
            let day = today();
            c.prepare_cached(
                "INSERT INTO measures (id, hardship_id, seq, kind, lever, status, target_on,
                    created_on, changed_on, format, envelope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
            )?
            .execute(params![
                id,
                hardship,
                seq,
                new.kind,
                new.lever,
                FIRST_STATUS,
                none_if_empty(new.target_on),
                day,
                new.format,
                new.envelope
            ])?;
            insert_status(c, &id, FIRST_STATUS, &actor, new.format, &new.note)?;
            audit::append(
                c,
                &Entry::general(
                    &actor,
                    Action::Measure,
                    format!(
                        "hardship {hardship} measure {id} kind={} lever={}",
                        new.kind, new.lever
                    ),
                ),
            )?;
            Ok(Some(id))
        })
        .await
    }

    /// Sets measure `measure` of hardship `hardship` to `status`, with its
    /// sealed note, its day and its audit row; `false` if no such measure.
    pub async fn set_measure_status(
        &self,
        hardship: String,
        measure: String,
        status: String,
        actor: String,
        note: Vec<u8>,
    ) -> Result<bool, StoreError> {
        let done = self
            .write(move |c| {
                let changed = c
                    .prepare_cached(
                        "UPDATE measures SET status = ?3, changed_on = ?4
                         WHERE id = ?2 AND hardship_id = ?1",
                    )?
                    .execute(params![hardship, measure, status, today()])?;
                if changed == 0 {
                    return Ok(false);
                }
                insert_status(
                    c,
                    &measure,
                    &status,
                    &actor,
                    crate::crypto::FORMAT_AGE_X25519,
                    &note,
                )?;
                audit::append(
                    c,
                    &Entry::general(
                        &actor,
                        Action::MeasureStatus,
                        format!("hardship {hardship} measure {measure} status={status}"),
                    ),
                )?;
                Ok(true)
            })
            .await;
        self.public_changed();
        done
    }
}

fn insert_status(
    c: &rusqlite::Connection,
    measure: &str,
    status: &str,
    actor: &str,
    format: &str,
    note: &[u8],
) -> rusqlite::Result<()> {
    let seq: i64 = c
        .prepare_cached(
            "SELECT coalesce(max(seq), 0) + 1 FROM measure_statuses WHERE measure_id = ?1",
        )?
        .query_row(params![measure], |r| r.get(0))?;
    c.prepare_cached(
        "INSERT INTO measure_statuses (id, measure_id, seq, status, day, author, format, envelope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        crate::crypto::random_id(),
        measure,
        seq,
        status,
        today(),
        actor,
        format,
        note
    ])?;
    Ok(())
}

/// The hardships signal `id` is linked to, by id.
pub(super) fn hardships_in(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<Vec<String>> {
    c.prepare_cached(
        "SELECT hardship_id FROM hardship_signals WHERE signal_id = ?1 ORDER BY hardship_id",
    )?
    .query_map(params![id], |r| r.get(0))?
    .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::store::testing::store_with;

    fn ids(store: &Store, sql: &'static str) -> Vec<String> {
        store
            .read_blocking(|c| {
                c.prepare(sql)?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .unwrap()
    }

    #[tokio::test]
    async fn a_withdrawn_signal_takes_its_links_with_it_and_the_hardship_stays() {
        let (_dir, store) = store_with(&["2026-11-02", "2026-11-03"]).await;
        let signals = ids(&store, "SELECT id FROM all_signals ORDER BY id");
        let hardship = store
            .add_hardship(
                "ann".into(),
                NewHardship {
                    origin: "law".into(),
                    domain: String::new(),
                    format: crate::crypto::FORMAT_AGE_X25519,
                    envelope: vec![1; 8],
                },
            )
            .await
            .unwrap();
        for s in &signals {
            assert!(
                store
                    .link(s.clone(), hardship.clone(), "ann".into())
                    .await
                    .unwrap()
            );
        }
        assert!(
            !store
                .link("nosuchsignal".into(), hardship.clone(), "ann".into())
                .await
                .unwrap()
        );
        store
            .withdraw(signals[0].clone(), "2026-11-04".into())
            .await
            .unwrap()
            .unwrap();
        let page = store
            .hardship_page(hardship.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.record.signals, 1);
        assert_eq!(page.signals.len(), 1);
        assert_eq!(page.signals[0].id, signals[1]);
        assert_eq!(page.record.origin.as_deref(), Some("law"));
        assert_eq!(page.record.domain, None);
        assert!(
            store
                .hardships_of(signals[0].clone())
                .await
                .unwrap()
                .is_empty()
        );
        store.close();
    }

    #[tokio::test]
    async fn a_measure_starts_proposed_and_keeps_every_status_with_its_day() {
        let (_dir, store) = store_with(&[]).await;
        let hardship = store
            .add_hardship(
                "ann".into(),
                NewHardship {
                    origin: String::new(),
                    domain: String::new(),
                    format: crate::crypto::FORMAT_AGE_X25519,
                    envelope: vec![1; 8],
                },
            )
            .await
            .unwrap();
        let new = NewMeasure {
            kind: "measure".into(),
            lever: "law".into(),
            target_on: "2027-06-01".into(),
            format: crate::crypto::FORMAT_AGE_X25519,
            envelope: vec![2; 8],
            note: vec![3; 8],
        };
        let measure = store
            .add_measure(hardship.clone(), "ann".into(), new.clone())
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .add_measure("nosuch".into(), "ann".into(), new)
                .await
                .unwrap()
                .is_none()
        );
        for status in ["agreed", "implemented"] {
            assert!(
                store
                    .set_measure_status(
                        hardship.clone(),
                        measure.clone(),
                        status.into(),
                        "bob".into(),
                        vec![4; 8],
                    )
                    .await
                    .unwrap()
            );
        }
        assert!(
            !store
                .set_measure_status(
                    "other".into(),
                    measure.clone(),
                    "agreed".into(),
                    "bob".into(),
                    vec![4; 8],
                )
                .await
                .unwrap(),
            "a measure is changed only under its own hardship"
        );
        let page = store.hardship_page(hardship).await.unwrap().unwrap();
        let m = &page.measures[0];
        assert_eq!(m.status, "implemented");
        assert_eq!(m.target_on.as_deref(), Some("2027-06-01"));
        let steps: Vec<&str> = m.history.iter().map(|h| h.status.as_str()).collect();
        assert_eq!(steps, ["proposed", "agreed", "implemented"]);
        assert!(m.history.iter().all(|h| h.day.len() == 10));
        assert!(matches!(
            store.verify_audit_blocking(&[]).unwrap(),
            crate::audit::Verdict::Intact { .. }
        ));
        store.close();
    }
}
