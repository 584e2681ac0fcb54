//! The courses of action and measures under a hardship:
//! `POST /hardships/{id}/measures` and
//! `POST /hardships/{id}/measures/{mid}/status`, each measure with a dated
//! status history.
//!
//! Invariants: a measure's texts and every status note are sealed to every
//! team recipient before they reach the store; kind, lever and status are
//! checked against their lists, a target is a day; a refused form is
//! answered with a page that says why, in the reviewer's language.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::hardships::{MAX_LINE, refused, too_long};
use super::session::Reviewer;
use super::signals::{MAX_TEXT, checked_form, checked_id, team_recipients};
use super::{Face, Failure, ReviewError, ReviewState};
use crate::crypto;
use crate::signal::sealed::seal_fields;
use crate::store::hardships::NewMeasure;

/// Longest status note, in characters.
pub const MAX_NOTE: usize = 500;

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

/// `POST /hardships/{id}/measures`: a course of action or measure, its
/// texts sealed to the team, with its first status.
pub async fn add(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let back = format!("/hardships/{id}#measures");
    let refuse = |status, key| Ok(refused(face, &reviewer, status, key, &back));
    let kind = fields.get("kind").trim();
    let lever = fields.get("lever").trim();
    if !KINDS.contains(&kind) || !LEVERS.contains(&lever) {
        return refuse(StatusCode::BAD_REQUEST, "review.measure.error.choice");
    }
    let (text, organisation, source) = (
        fields.get("text").trim(),
        fields.get("organisation").trim(),
        fields.get("source").trim(),
    );
    if too_long(text, MAX_TEXT) || too_long(organisation, MAX_LINE) || too_long(source, MAX_LINE) {
        return refuse(StatusCode::BAD_REQUEST, "review.hardship.error.long");
    }
    if text.is_empty() || organisation.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "review.measure.error.required",
        );
    }
    let target = fields.get("target").trim();
    if !target.is_empty() && !is_day(target) {
        return refuse(StatusCode::BAD_REQUEST, "review.measure.error.target");
    }
    let team = team_recipients(&state, face)?;
    let sealed = seal_fields(
        &[
            ("text", text),
            ("organisation", organisation),
            ("source", source),
        ],
        &team,
    );
    let note = seal_fields(&[("note", "")], &team);
    let (Ok(envelope), Ok(note)) = (sealed, note) else {
        return Err(Failure(face, ReviewError::Unavailable));
    };
    let new = NewMeasure {
        kind: kind.to_owned(),
        lever: lever.to_owned(),
        target_on: target.to_owned(),
        format: crypto::FORMAT_AGE_X25519,
        envelope,
        note,
    };
    drop(fields);
    match state
        .store
        .add_measure(id.clone(), reviewer.name.clone(), new)
        .await
    {
        Ok(Some(_)) => {
            Ok(Redirect::to(&format!("/hardships/{id}?done=measure#measures")).into_response())
        }
        Ok(None) => Err(Failure(face, ReviewError::NotFound)),
        Err(e) => Err(Failure(face, e.into())),
    }
}

/// `POST /hardships/{id}/measures/{mid}/status`: a measure's next status,
/// kept with its day and a short sealed note.
pub async fn status(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path((id, mid)): Path<(String, String)>,
    body: Body,
) -> Result<Response, Failure> {
    checked_id(face, &id)?;
    let fields = checked_form(face, &reviewer, &mid, body).await?;
    let back = format!("/hardships/{id}#measures");
    let status = fields.get("status").trim();
    if !MEASURE_STATUSES.contains(&status) {
        return Ok(refused(
            face,
            &reviewer,
            StatusCode::BAD_REQUEST,
            "review.measure.error.status",
            &back,
        ));
    }
    let note = fields.get("note").trim();
    if too_long(note, MAX_NOTE) {
        return Ok(refused(
            face,
            &reviewer,
            StatusCode::BAD_REQUEST,
            "review.hardship.error.long",
            &back,
        ));
    }
    let team = team_recipients(&state, face)?;
    let sealed = seal_fields(&[("note", note)], &team)
        .map_err(|_| Failure(face, ReviewError::Unavailable))?;
    let status = status.to_owned();
    drop(fields);
    match state
        .store
        .set_measure_status(id.clone(), mid, status, reviewer.name.clone(), sealed)
        .await
    {
        Ok(true) => {
            Ok(Redirect::to(&format!("/hardships/{id}?done=status#measures")).into_response())
        }
        Ok(false) => Err(Failure(face, ReviewError::NotFound)),
        Err(e) => Err(Failure(face, e.into())),
    }
}

/// Whether `s` is a day as `YYYY-MM-DD`.
pub fn is_day(s: &str) -> bool {
    let bytes = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u16>().ok())
    };
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let Ok(month) = time::Month::try_from(u8::try_from(month).unwrap_or(0)) else {
        return false;
    };
    time::Date::from_calendar_date(i32::from(year), month, u8::try_from(day).unwrap_or(0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_day_and_nothing_else() {
        assert!(is_day("2027-06-01"));
        for bad in ["2027-13-01", "2027-6-1", "morgen", "2027-06-01T00:00", ""] {
            assert!(!is_day(bad), "{bad}");
        }
    }
}
