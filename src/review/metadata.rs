//! `POST /queue.csv`: the non-content metadata of the selected signals (or,
//! with none selected, of the queue as filtered, up to 10,000) as CSV:
//! reference, day, status, domain, origin, labels, assignee and flags.
//!
//! Invariants: nothing a sender wrote is in it (nothing is decrypted); every
//! download is audited before it is sent; a value that a spreadsheet would
//! read as a formula is written as text.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::fields::Fields;
use super::glance::reference;
use super::queue::parse_filter;
use super::session::Reviewer;
use super::signals::valid_id;
use super::{Face, Failure, ReviewError, ReviewState};
use crate::audit::{Action, Entry};
use crate::store::queue::COUNT_CAP;

/// One CSV field: quoted, quotes doubled, and a leading `=`, `+`, `-`, `@`
/// or tab made text with a `'`.
pub fn field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// `POST /queue.csv`.
pub async fn csv(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let fields = Fields::read_checked(body, &reviewer).await.map_err(fail)?;
    let mut ids: Vec<String> = fields
        .all("id")
        .into_iter()
        .filter(|id| valid_id(id))
        .take(usize::try_from(COUNT_CAP).unwrap_or(usize::MAX))
        .map(str::to_owned)
        .collect();
    let what = if ids.is_empty() {
        let mut filter = parse_filter(Some(fields.get("back")), &reviewer.name).filter;
        super::queue::sender_choices(&state, &reviewer, &mut filter)
            .await
            .map_err(fail)?;
        ids = state
            .store
            .queue_ids(filter, 0, u32::try_from(COUNT_CAP).unwrap_or(u32::MAX))
            .await
            .map_err(|e| fail(e.into()))?;
        "filtered"
    } else {
        "selected"
    };
    let rows = state
        .store
        .metadata(ids)
        .await
        .map_err(|e| fail(e.into()))?;
    state
        .store
        .audit(Entry::general(
            &reviewer.name,
            Action::Export,
            format!("metadata csv of {} {what} signals", rows.len()),
        ))
        .await
        .map_err(|e| fail(e.into()))?;
    let mut out =
        String::from("reference,id,received_on,status,domain,origin,labels,assignee,flags\n");
    for r in rows {
        let mut flags = Vec::new();
        if r.unanswered > 0 {
            flags.push("reply");
        }
        if r.ack_overdue {
            flags.push("ack");
        }
        if r.feedback_overdue {
            flags.push("feedback");
        }
        let line = [
            reference(&r.id),
            r.id,
            r.received_on,
            r.status,
            r.domain.unwrap_or_default(),
            r.origin.unwrap_or_default(),
            r.labels,
            r.assignee.unwrap_or_default(),
            flags.join(" "),
        ]
        .iter()
        .map(|v| field(v))
        .collect::<Vec<_>>()
        .join(",");
        out.push_str(&line);
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"signals.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_field_is_quoted_and_a_formula_is_made_text() {
        assert_eq!(field("spoed"), "\"spoed\"");
        assert_eq!(field("a \"b\", c"), "\"a \"\"b\"\", c\"");
        assert_eq!(field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(field("-1"), "\"'-1\"");
    }
}
