//! Hardships: `GET /hardships` (the list and the form of a new one),
//! `POST /hardships`, `GET /hardships/{id}` (drawn by [`super::hardship_page`]),
//! and linking and unlinking a signal from its page; the measures under a
//! hardship are in [`super::measures`].
//!
//! Invariants:
//! - Everything a reviewer writes here is sealed to every team recipient
//!   before it reaches the store, like a note; it is opened with the
//!   session's identity only after the audit row that says so is durable.
//! - Decrypted text exists only in wiped buffers and the wiped response body.
//! - Every value chosen from a list is checked against that list; a refused
//!   form is answered with a page that says why, in the reviewer's language.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroizing;

use super::fields::Fields;
use super::session::Reviewer;
use super::signals::{MAX_TEXT, checked_form, checked_id, team_recipients};
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::crypto;
use crate::signal::questions;
use crate::signal::sealed::seal_fields;
use crate::store::hardships::NewHardship;

/// Longest title, organisation, reference or source, in characters.
pub const MAX_LINE: usize = 300;
/// The sealed texts of a hardship, by the names its form sends.
pub const HARDSHIP_TEXTS: &[&str] = &[
    "title",
    "description",
    "cause",
    "reference",
    "organisations",
];

/// A hardship form as it was sent, and what is wrong with it.
#[derive(Default)]
pub struct HardshipForm {
    /// (name, text) of each text field, as typed.
    pub texts: Vec<(&'static str, Zeroizing<String>)>,
    /// The origin chosen.
    pub origin: String,
    /// The domain chosen.
    pub domain: String,
    /// (field, text key) of each problem.
    pub errors: Vec<(&'static str, &'static str)>,
}

impl HardshipForm {
    /// The text typed into `name`, or "".
    pub fn text(&self, name: &str) -> &str {
        self.texts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

pub(super) fn too_long(text: &str, max: usize) -> bool {
    text.chars().count() > max
}

/// Reads a hardship form; what is wrong goes into `errors`.
fn read_hardship(fields: &Fields) -> HardshipForm {
    let mut f = HardshipForm {
        origin: fields.get("origin").trim().to_owned(),
        domain: fields.get("domain").trim().to_owned(),
        ..HardshipForm::default()
    };
    for name in HARDSHIP_TEXTS {
        let text = fields.get(name).trim();
        let max = if matches!(*name, "description" | "cause") {
            MAX_TEXT
        } else {
            MAX_LINE
        };
        if too_long(text, max) {
            f.errors.push((name, "review.hardship.error.long"));
        }
        f.texts.push((name, Zeroizing::new(text.to_owned())));
    }
    for required in ["title", "description"] {
        if f.text(required).is_empty() {
            f.errors.push((required, "review.hardship.error.required"));
        }
    }
    if !f.origin.is_empty() && !questions::options("origin").contains(&f.origin) {
        f.errors.push(("origin", "review.hardship.error.origin"));
    }
    if !f.domain.is_empty() && !questions::options("domain").contains(&f.domain) {
        f.errors.push(("domain", "review.hardship.error.domain"));
    }
    f
}

/// Every hardship (id, title), its titles opened (through the session's
/// cache) after the audit row that names them; nothing is opened when there
/// are none.
pub async fn listed(
    state: &ReviewState,
    face: Face,
    reviewer: &Reviewer,
) -> Result<Vec<pages::HardshipLine>, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let records = state.store.hardships().await.map_err(|e| fail(e.into()))?;
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    state
        .store
        .audit(Entry::general(
            &reviewer.name,
            Action::HardshipView,
            format!("titles shown: {}", ids.join(" ")),
        ))
        .await
        .map_err(|e| fail(e.into()))?;
    let identity = std::sync::Arc::clone(&reviewer.identity);
    let opened = std::sync::Arc::clone(&reviewer.opened);
    let unreadable = face.t("review.signal.undecryptable");
    tokio::task::spawn_blocking(move || {
        records
            .into_iter()
            .map(|r| {
                let texts = opened.fields(&r.id, &r.envelope, &identity);
                let title = texts
                    .iter()
                    .find(|(n, _)| n == "title")
                    .map_or(unreadable, |(_, t)| t.as_str());
                pages::HardshipLine {
                    title: Zeroizing::new(title.to_owned()),
                    id: r.id,
                }
            })
            .collect()
    })
    .await
    .map_err(|_| fail(ReviewError::Unavailable))
}

/// `GET /hardships`: the monitoring overview, filtered as the address asks.
pub async fn list(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, Failure> {
    let filters = super::monitoring::Filters::parse(query.as_deref())
        .ok_or(Failure(face, ReviewError::BadRequest))?;
    super::monitoring::page(
        &state,
        face,
        &reviewer,
        filters,
        &HardshipForm::default(),
        &pages::AnnualForm::default(),
    )
    .await
}

/// `POST /hardships`: a new hardship, sealed to the team; 303 to its page.
pub async fn create(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    let fields = Fields::read_checked(body, &reviewer)
        .await
        .map_err(|e| Failure(face, e))?;
    let form = read_hardship(&fields);
    drop(fields);
    if !form.errors.is_empty() {
        let filters = super::monitoring::Filters::default();
        return super::monitoring::page(
            &state,
            face,
            &reviewer,
            filters,
            &form,
            &pages::AnnualForm::default(),
        )
        .await;
    }
    let team = team_recipients(&state, face)?;
    let texts: Vec<(&str, &str)> = form.texts.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let envelope =
        seal_fields(&texts, &team).map_err(|_| Failure(face, ReviewError::Unavailable))?;
    let new = NewHardship {
        origin: form.origin.clone(),
        domain: form.domain.clone(),
        format: crypto::FORMAT_AGE_X25519,
        envelope,
    };
    let id = state
        .store
        .add_hardship(reviewer.name.clone(), new)
        .await
        .map_err(|e| Failure(face, e.into()))?;
    Ok(Redirect::to(&format!("/hardships/{id}?done=hardship")).into_response())
}

/// `GET /hardships/{id}`.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, Failure> {
    let done = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "done")
            .and_then(|(_, v)| pages::HARDSHIP_DONE.iter().find(|d| **d == v).copied())
    });
    super::hardship_page::show(
        &state,
        face,
        &reviewer,
        &id,
        done,
        &super::measures::MeasureForm::default(),
    )
    .await
}

/// A refused form of a hardship's page: a short page that says why, with the
/// status that fits, and the way back to the hardship.
pub fn refused(face: Face, who: &Reviewer, status: StatusCode, key: &str, back: &str) -> Response {
    (status, pages::refused(face, who, face.t(key), back)).into_response()
}

/// `POST /signals/{id}/hardships`: links the signal to the hardship named
/// in `hardship`.
pub async fn link(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    linking(state, face, reviewer, id, body, true).await
}

/// `POST /signals/{id}/hardships/unlink`: unlinks the signal from the
/// hardship named in `hardship`.
pub async fn unlink(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    linking(state, face, reviewer, id, body, false).await
}

async fn linking(
    state: ReviewState,
    face: Face,
    reviewer: Reviewer,
    id: String,
    body: Body,
    link: bool,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let hardship = fields.get("hardship").trim().to_owned();
    if hardship.is_empty() {
        let back = format!("/signals/{id}#hardships");
        return Ok(refused(
            face,
            &reviewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "review.link.error.choose",
            &back,
        ));
    }
    checked_id(face, &hardship)?;
    let done = if link {
        state
            .store
            .link(id.clone(), hardship, reviewer.name.clone())
            .await
    } else {
        state
            .store
            .unlink(id.clone(), hardship, reviewer.name.clone())
            .await
    };
    match done {
        Ok(true) => {
            let what = if link { "link" } else { "unlink" };
            Ok(Redirect::to(&format!("/signals/{id}?done={what}#hardships")).into_response())
        }
        Ok(false) => Err(Failure(face, ReviewError::NotFound)),
        Err(e) => Err(Failure(face, e.into())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hardship_form_needs_a_title_and_a_description_and_known_categories() {
        let f = read_hardship(&Fields::parse(b"title=&description=x&origin=nope").unwrap());
        let fields: Vec<&str> = f.errors.iter().map(|(n, _)| *n).collect();
        assert_eq!(fields, ["title", "origin"]);
        let long = format!("title={}&description=x", "a".repeat(MAX_LINE + 1));
        let f = read_hardship(&Fields::parse(long.as_bytes()).unwrap());
        assert_eq!(f.errors, [("title", "review.hardship.error.long")]);
    }
}
