//! The report's counts: signals by month, domain, status and origin.
//!
//! Invariant: only plaintext metadata is counted and no envelope is read. The
//! counts come back unsuppressed; hiding small ones is the report's job.

use super::{Store, StoreError};

/// One cell of the report before suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCell {
    /// `YYYY-MM`.
    pub month: String,
    /// Domain or `-`.
    pub domain: String,
    /// Status.
    pub status: String,
    /// Origin or `-`.
    pub origin: String,
    /// Signals.
    pub count: u64,
}

impl Store {
    /// The report's counts by month, domain, status and origin (unsuppressed).
    pub fn report_cells_blocking(&self) -> Result<Vec<ReportCell>, StoreError> {
        self.read_blocking(|c| {
            c.prepare_cached(
                "SELECT substr(received_on, 1, 7), coalesce(domain, '-'), status,
                        coalesce(origin, '-'), count(*)
                 FROM all_signals GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            )?
            .query_map([], |r| {
                Ok(ReportCell {
                    month: r.get(0)?,
                    domain: r.get(1)?,
                    status: r.get(2)?,
                    origin: r.get(3)?,
                    count: r.get(4)?,
                })
            })?
            .collect()
        })
    }
}
