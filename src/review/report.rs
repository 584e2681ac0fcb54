//! The aggregate report: signals by month × domain × status × origin, for the
//! programme's annual report, as a page (`GET /report`), as CSV
//! (`GET /report.csv`) and from the command line (`signaal report --csv`).
//!
//! Invariant: in what may leave the team (the CSV, the command line, the
//! page's "for publication" column) every count below [`crate::views::export::SUPPRESS_BELOW`] is
//! `<5`, so no published figure points at a person; the page shows the team
//! the exact counts beside them. The report reads plaintext metadata only:
//! `domain` and `origin` are the reviewer-confirmed categories set at triage,
//! so making it needs no decryption and no unlocked key.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::store::report::ReportCell;
use crate::views::export::{csv_field, shown};

/// The report as CSV, suppression applied.
pub fn to_csv(cells: &[ReportCell]) -> String {
    let mut out = String::from("month,domain,status,origin,count\n");
    for c in cells {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&c.month),
            csv_field(&c.domain),
            csv_field(&c.status),
            csv_field(&c.origin),
            shown(c.count)
        ));
    }
    out
}

async fn cells(state: &ReviewState, face: Face, who: &str) -> Result<Vec<ReportCell>, Failure> {
    let fail = |e: crate::store::StoreError| Failure(face, ReviewError::from(e));
    state
        .store
        .audit(Entry::general(who, Action::Report, ""))
        .await
        .map_err(fail)?;
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.report_cells_blocking())
        .await
        .map_err(|_| Failure(face, ReviewError::Unavailable))?
        .map_err(fail)
}

/// `GET /report`.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
) -> Result<Response, Failure> {
    let cells = cells(&state, face, &reviewer.name).await?;
    Ok(pages::report(face, &reviewer, &cells).into_response())
}

/// `GET /report.csv`.
pub async fn csv(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
) -> Result<Response, Failure> {
    let cells = cells(&state, face, &reviewer.name).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"signaal-report.csv\"",
            ),
        ],
        to_csv(&cells),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cell(domain: &str, count: u64) -> ReportCell {
        ReportCell {
            month: "2026-11".into(),
            domain: domain.into(),
            status: "new".into(),
            origin: "-".into(),
            count,
        }
    }

    #[test]
    fn small_counts_are_suppressed_and_formulas_defused() {
        let csv = to_csv(&[cell("taxes", 4), cell("=cmd|calc", 5), cell("a,b", 12)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.first(), Some(&"month,domain,status,origin,count"));
        assert_eq!(lines.get(1), Some(&"2026-11,taxes,new,-,<5"));
        assert_eq!(lines.get(2), Some(&"2026-11,\"'=cmd|calc\",new,-,5"));
        assert_eq!(lines.get(3), Some(&"2026-11,\"a,b\",new,-,12"));
    }
}
