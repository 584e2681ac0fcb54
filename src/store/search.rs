//! Batches of a decrypt-and-scan search: the signals a search may look at,
//! newest first, a batch at a time, with their envelopes, their notes'
//! envelopes and their labels.
//!
//! Invariant: a batch is bounded by the (day, random rowid) of the last one, so
//! a search visits each signal once and its batches reveal no order of arrival.

use rusqlite::params;

use super::{Store, StoreError};

/// One signal handed to a search.
#[derive(Debug, Clone)]
pub struct ScanItem {
    /// The id.
    pub id: String,
    /// Arrival day.
    pub received_on: String,
    /// Status.
    pub status: String,
    /// The reviewers' labels.
    pub labels: String,
    /// The age file.
    pub envelope: Vec<u8>,
    /// The envelopes of its internal notes.
    pub notes: Vec<Vec<u8>>,
    /// Its position for the next batch (random, never shown).
    pub rowid: i64,
}

/// Which signals a search looks at (the queue's filters).
#[derive(Debug, Clone, Default)]
pub struct ScanFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this domain (as confirmed at triage).
    pub domain: Option<String>,
}

impl Store {
    /// Up to `limit` signals received before `(after_day, after_rowid)`
    /// (newest first) that `filter` lets through, with their envelopes and
    /// notes: one batch of a search.
    pub fn search_batch_blocking(
        &self,
        after: Option<(String, i64)>,
        limit: u32,
        filter: &ScanFilter,
    ) -> Result<Vec<ScanItem>, StoreError> {
        let filter = filter.clone();
        self.read_blocking(move |c| {
            // A row-value bound walks the (received_on, rowid) index backwards.
            let (day, rowid) = after.unwrap_or_else(|| ("9999-12-31".to_owned(), i64::MAX));
            // Both tables' indexes, merged.
            let mut items: Vec<ScanItem> = c
                .prepare_cached(&format!(
                    "{} ORDER BY received_on DESC, rid DESC LIMIT ?3",
                    super::queue::both(
                        "SELECT id, received_on, status, labels, envelope, rowid AS rid FROM {t}
                         WHERE (received_on, rowid) < (?1, ?2)
                           AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR domain = ?5)"
                    )
                ))?
                .query_map(
                    params![day, rowid, limit, filter.status, filter.domain],
                    |r| {
                        Ok(ScanItem {
                            id: r.get(0)?,
                            received_on: r.get(1)?,
                            status: r.get(2)?,
                            labels: r.get(3)?,
                            envelope: r.get(4)?,
                            notes: Vec::new(),
                            rowid: r.get(5)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<_>>()?;
            let mut notes = c.prepare_cached("SELECT envelope FROM notes WHERE signal_id = ?1")?;
            for item in &mut items {
                item.notes = notes
                    .query_map(params![item.id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(items)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::ScanFilter;
    use crate::store::testing::store_with;

    #[tokio::test]
    async fn search_batches_visit_every_signal_once_newest_first() {
        let days: Vec<&str> = (0..230)
            .map(|i| ["2026-01-01", "2026-02-01", "2026-03-01"][i % 3])
            .collect();
        let (_dir, store) = store_with(&days).await;
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let batch = store
                .search_batch_blocking(after.take(), 40, &ScanFilter::default())
                .unwrap();
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
        let closed = store
            .search_batch_blocking(
                None,
                40,
                &ScanFilter {
                    status: Some("closed".into()),
                    domain: None,
                },
            )
            .unwrap();
        assert!(closed.is_empty());
    }
}
