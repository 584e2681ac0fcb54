//! Batches of a decrypt-and-scan search: every signal, newest first, a batch
//! at a time, with its envelope.
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
    /// The age file.
    pub envelope: Vec<u8>,
    /// Its position for the next batch (random, never shown).
    pub rowid: i64,
}

impl Store {
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
            // Both tables' indexes, merged.
            c.prepare_cached(&format!(
                "{} ORDER BY received_on DESC, rid DESC LIMIT ?3",
                super::queue::both(
                    "SELECT id, received_on, status, envelope, rowid AS rid FROM {t}
                     WHERE (received_on, rowid) < (?1, ?2)"
                )
            ))?
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
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
}
