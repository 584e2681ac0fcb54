//! One signal: `GET /signals/{id}` (decrypt and show), and the changes made
//! from its page: triage, internal notes, messages to the sender.
//!
//! Invariants:
//! - The view is audited (durably) before anything is decrypted.
//! - Decrypted text exists only in wiped buffers and the wiped response body.
//! - Notes are sealed to every team recipient; messages to the team and the
//!   signal's receipt-derived source recipient — before they reach the store.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::{Zeroize, Zeroizing};

use super::fields::Fields;
use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState, pages, reviewers};
use crate::crypto;
use crate::signal::STATUSES;
use crate::signal::sealed::{open_answers, open_text, seal_text};
use crate::store::signals::Triage;
use crate::views::choice_label;
use crate::web;

/// Longest note or message, in characters.
pub const MAX_TEXT: usize = 10_000;

/// Whether `id` looks like a signal id (keeps junk out of queries and the log).
pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The form's wording of question `name`; the name itself for an answer to a
/// question this signaal no longer asks.
fn label(face: Face, name: &str) -> String {
    face.lang
        .get(&format!("q.{name}.label"))
        .unwrap_or(name)
        .to_owned()
}

/// `GET /signals/{id}`.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    if !valid_id(&id) {
        return Err(fail(ReviewError::NotFound));
    }
    let record = state
        .store
        .signal_record(id.clone())
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ReviewError::NotFound))?;
    state
        .store
        .audit_view(&reviewer.name, &id)
        .await
        .map_err(|e| fail(e.into()))?;
    let extras = state
        .store
        .signal_extras(id)
        .await
        .map_err(|e| fail(e.into()))?;
    let identity = &*reviewer.identity;
    let opened =
        open_answers(&record.envelope, identity).map_err(|_| fail(ReviewError::CannotDecrypt))?;
    // The sender's own choice of domain and origin, offered for the reviewer to confirm.
    let suggest = |field: &str| {
        opened
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, v)| v.as_str().to_owned())
    };
    let suggested = (suggest("domain"), suggest("origin"));
    let answers: Vec<(String, Zeroizing<String>)> = opened
        .into_iter()
        .map(|(name, text)| {
            // A choice reads as the form showed it to the sender, not as its code.
            let shown = match choice_label(face.lang, &name, &text) {
                Some(choice) => Zeroizing::new(choice.to_owned()),
                None => text,
            };
            (label(face, &name), shown)
        })
        .collect();
    // What the intake's personal-data guard would flag, so the reviewer sees it at once.
    let flags: Vec<Vec<&'static str>> = answers
        .iter()
        .map(|(_, text)| {
            crate::signal::guard::kinds_in(text)
                .into_iter()
                .map(|k| k.key())
                .collect()
        })
        .collect();
    let unseal = |items: Vec<crate::store::thread::SealedItem>| {
        items
            .into_iter()
            .map(|n| {
                let text = open_text(&n.envelope, identity).unwrap_or_else(|_| {
                    Zeroizing::new(face.t("review.signal.undecryptable").into())
                });
                (n.author, n.day, text)
            })
            .collect::<Vec<_>>()
    };
    let notes = unseal(extras.notes);
    let thread = unseal(extras.messages);
    let trail = extras.trail;
    let view = pages::SignalView {
        record: &record,
        answers: &answers,
        flags: &flags,
        suggested_domain: suggested.0.as_deref(),
        suggested_origin: suggested.1.as_deref(),
        notes: &notes,
        thread: &thread,
        trail: &trail,
        trail_total: extras.trail_total,
    };
    Ok(web::wiped(pages::signal(face, &reviewer, &view)))
}

async fn checked_form(
    face: Face,
    reviewer: &Reviewer,
    id: &str,
    body: Body,
) -> Result<Fields, Failure> {
    if !valid_id(id) {
        return Err(Failure(face, ReviewError::NotFound));
    }
    Fields::read_checked(body, reviewer)
        .await
        .map_err(|e| Failure(face, e))
}

/// After a triage, note or message: back to the signal, or the page that says
/// why nothing changed (no such signal, or the store failed).
fn back_to_after(
    face: Face,
    id: &str,
    done: Result<bool, crate::store::StoreError>,
) -> Result<Response, Failure> {
    match done {
        Ok(true) => Ok(back_to(id)),
        Ok(false) => Err(Failure(face, ReviewError::NotFound)),
        Err(e) => Err(Failure(face, e.into())),
    }
}

fn back_to(id: &str) -> Response {
    Redirect::to(&format!("/signals/{id}")).into_response()
}

fn short(s: &str, max: usize) -> Option<String> {
    let s = s.trim();
    (s.chars().count() <= max && !s.chars().any(char::is_control)).then(|| s.to_owned())
}

/// `POST /signals/{id}/triage`.
pub async fn triage(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let bad = || Failure(face, ReviewError::BadRequest);
    let status = fields.get("status");
    if !STATUSES.contains(&status) {
        return Err(bad());
    }
    let assignee = short(fields.get("assignee"), 32).ok_or_else(bad)?;
    if !assignee.is_empty() && !reviewers::valid_name(&assignee) {
        return Err(bad());
    }
    let t = Triage {
        status: status.to_owned(),
        domain: short(fields.get("domain"), 64).ok_or_else(bad)?,
        origin: short(fields.get("origin"), 64).ok_or_else(bad)?,
        labels: short(fields.get("labels"), 200).ok_or_else(bad)?,
        assignee,
    };
    let done = state
        .store
        .triage(id.clone(), reviewer.name.clone(), t)
        .await;
    back_to_after(face, &id, done)
}

fn team_recipients(
    state: &ReviewState,
    face: Face,
) -> Result<Vec<age::x25519::Recipient>, Failure> {
    crate::keys::load_team(&state.keys_dir)
        .map(|t| t.recipients)
        .map_err(|e| {
            tracing::error!(error = %e, "team.pub cannot be read");
            Failure(face, ReviewError::Unavailable)
        })
}

fn text_field(face: Face, fields: &Fields, name: &str) -> Result<Zeroizing<String>, Failure> {
    let text = fields.get(name);
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT {
        return Err(Failure(face, ReviewError::BadRequest));
    }
    Ok(Zeroizing::new(text.to_owned()))
}

/// A note or message posted after the session ended (idle timeout, logout in
/// another tab, a restart): nothing is saved or sent, and the page gives the
/// text back, so the reviewer logs in again and pastes it instead of losing it.
async fn unsaved(face: Face, refused: Failure, body: Body, field: &str) -> Response {
    if !matches!(refused.1, ReviewError::NoSession { .. }) {
        return refused.into_response();
    }
    let Some(fields) = Fields::read(body).await else {
        return refused.into_response();
    };
    let mut res = web::wiped(pages::unsaved(face, fields.get(field)));
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res
}

/// `POST /signals/{id}/notes`.
pub async fn note(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Result<Reviewer, Failure>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let reviewer = match reviewer {
        Ok(reviewer) => reviewer,
        Err(refused) => return Ok(unsaved(face, refused, body, "note").await),
    };
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let mut text = text_field(face, &fields, "note")?;
    drop(fields);
    let team = team_recipients(&state, face)?;
    let envelope =
        seal_text(&text, &team, None).map_err(|_| Failure(face, ReviewError::Unavailable))?;
    text.zeroize();
    let done = state
        .store
        .add_note(
            id.clone(),
            reviewer.name.clone(),
            crypto::FORMAT_AGE_X25519,
            envelope,
        )
        .await;
    back_to_after(face, &id, done)
}

/// `POST /signals/{id}/messages`: a message to the sender, sealed to the team
/// and to the signal's source recipient (the sender opens it with the receipt).
pub async fn message(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Result<Reviewer, Failure>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let reviewer = match reviewer {
        Ok(reviewer) => reviewer,
        Err(refused) => return Ok(unsaved(face, refused, body, "message").await),
    };
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let text = text_field(face, &fields, "message")?;
    drop(fields);
    let source = state
        .store
        .source_recipient(id.clone())
        .await
        .map_err(|e| Failure(face, e.into()))?
        .ok_or(Failure(face, ReviewError::NotFound))?;
    let source = crypto::parse_recipient(&source).ok_or(Failure(face, ReviewError::Unavailable))?;
    let team = team_recipients(&state, face)?;
    let envelope = seal_text(&text, &team, Some(&source))
        .map_err(|_| Failure(face, ReviewError::Unavailable))?;
    drop(text);
    let done = state
        .store
        .add_team_message(
            id.clone(),
            reviewer.name.clone(),
            crypto::FORMAT_AGE_X25519,
            envelope,
        )
        .await;
    back_to_after(face, &id, done)
}
