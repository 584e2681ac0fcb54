//! Batches of a decrypt-and-scan search: the signals a search may look at,
//! newest first, a batch at a time, with their envelopes, their notes'
//! envelopes and their labels.
//!
//! Invariant: a batch is bounded by the (day, random rowid) of the last one
//! and walks the queue's indexes with the queue's filters, so
//! a search visits each signal once and its batches reveal no order of arrival.

use rusqlite::{OptionalExtension, params};

use super::queue::QueueFilter;
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

impl Store {
    /// Up to `limit` signals that `filter` lets through (the queue's filters;
    /// its `before` says where the last batch ended), newest first, with
    /// their envelopes and notes: one batch of a search.
    pub fn search_batch_blocking(
        &self,
        limit: u32,
        filter: &QueueFilter,
    ) -> Result<Vec<ScanItem>, StoreError> {
        let filter = filter.clone();
        self.read_blocking(move |c| {
            let rids = super::queue::batch_rids(c, &filter, u64::from(limit))?;
            let mut row = c.prepare_cached(&super::queue::both(
                "SELECT id, received_on, status, labels, envelope, rowid FROM {t} WHERE rowid = ?1",
            ))?;
            let mut notes = c.prepare_cached("SELECT envelope FROM notes WHERE signal_id = ?1")?;
            let mut items = Vec::with_capacity(rids.len());
            for rid in rids {
                let Some(mut item) = row
                    .query_row([rid], |r| {
                        Ok(ScanItem {
                            id: r.get(0)?,
                            received_on: r.get(1)?,
                            status: r.get(2)?,
                            labels: r.get(3)?,
                            envelope: r.get(4)?,
                            notes: Vec::new(),
                            rowid: r.get(5)?,
                        })
                    })
                    .optional()?
                else {
                    continue;
                };
                item.notes = notes
                    .query_map(params![item.id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                items.push(item);
            }
            Ok(items)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::store::queue::QueueFilter;
    use crate::store::testing::store_with;

    #[tokio::test]
    async fn search_batches_visit_every_signal_once_newest_first() {
        let days: Vec<&str> = (0..230)
            .map(|i| ["2026-01-01", "2026-02-01", "2026-03-01"][i % 3])
            .collect();
        let (_dir, store) = store_with(&days).await;
        let mut seen = Vec::new();
        let mut filter = QueueFilter::default();
        loop {
            let batch = store.search_batch_blocking(40, &filter).unwrap();
            let Some(last) = batch.last() else { break };
            filter.before = Some((last.received_on.clone(), last.rowid));
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
                40,
                &QueueFilter {
                    status: Some("closed".into()),
                    ..QueueFilter::default()
                },
            )
            .unwrap();
        assert!(closed.is_empty());
    }
}
