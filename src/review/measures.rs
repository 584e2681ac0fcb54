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

use zeroize::Zeroizing;

use super::hardships::{MAX_LINE, refused, too_long};
use super::session::Reviewer;
use super::signals::{MAX_TEXT, checked_form, checked_id, team_recipients};
use super::{Face, Failure, ReviewError, ReviewState};
use crate::crypto;
use crate::signal::sealed::seal_fields;
use crate::store::hardships::NewMeasure;

/// Longest status note, in characters.
pub const MAX_NOTE: usize = 500;

pub use crate::store::hardships::{KINDS, LEVERS, MEASURE_STATUSES};

/// A measure's form as sent: what was chosen and typed, and what is wrong
/// with it (field, text key), so that a refused form comes back filled in.
#[derive(Debug, Default)]
pub struct MeasureForm {
    /// The kind chosen.
    pub kind: String,
    /// The lever chosen.
    pub lever: String,
    /// (name, text) of `text`, `organisation`, `source` and `target`, as typed.
    pub texts: Vec<(&'static str, Zeroizing<String>)>,
    /// (field, text key) of each problem.
    pub errors: Vec<(&'static str, &'static str)>,
}

impl MeasureForm {
    /// The text typed into `name`, or "".
    pub fn text(&self, name: &str) -> &str {
        self.texts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The text key of the problem with `field`, if one.
    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, k)| *k)
    }

    /// The answer's status: 422 when only something required is missing,
    /// 400 when a value is not one the form offers.
    fn status(&self) -> StatusCode {
        if self
            .errors
            .iter()
            .all(|(_, k)| *k == "review.measure.error.required")
        {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        }
    }
}

/// Reads a measure's form; what is wrong goes into `errors`.
fn read_measure(fields: &super::fields::Fields) -> MeasureForm {
    let mut f = MeasureForm {
        kind: fields.get("kind").trim().to_owned(),
        lever: fields.get("lever").trim().to_owned(),
        ..MeasureForm::default()
    };
    for name in ["text", "organisation", "source", "target"] {
        f.texts
            .push((name, Zeroizing::new(fields.get(name).trim().to_owned())));
    }
    if !KINDS.contains(&f.kind.as_str()) {
        f.errors.push(("kind", "review.measure.error.choice"));
    }
    if !LEVERS.contains(&f.lever.as_str()) {
        f.errors.push(("lever", "review.measure.error.choice"));
    }
    for (name, max) in [
        ("text", MAX_TEXT),
        ("organisation", MAX_LINE),
        ("source", MAX_LINE),
    ] {
        if too_long(f.text(name), max) {
            f.errors.push((name, "review.hardship.error.long"));
        }
    }
    for name in ["text", "organisation"] {
        if f.text(name).is_empty() {
            f.errors.push((name, "review.measure.error.required"));
        }
    }
    let target = f.text("target");
    if !target.is_empty() && !is_day(target) {
        f.errors.push(("target", "review.measure.error.target"));
    }
    f
}

/// `POST /hardships/{id}/measures`: a course of action or measure, its
/// texts sealed to the team, with its first status. A refused form comes
/// back on the hardship's page, filled in as sent and marked.
pub async fn add(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let form = read_measure(&fields);
    drop(fields);
    if !form.errors.is_empty() {
        let mut res = super::hardship_page::show(&state, face, &reviewer, &id, None, &form).await?;
        *res.status_mut() = form.status();
        return Ok(res);
    }
    let (kind, lever, target) = (form.kind.as_str(), form.lever.as_str(), form.text("target"));
    let (text, organisation, source) = (
        form.text("text"),
        form.text("organisation"),
        form.text("source"),
    );
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
