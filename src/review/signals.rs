//! One signal: `GET /signals/{id}` (decrypt and show), and the changes made
//! from its page: triage (with "save and next"), internal notes, messages to
//! the sender (standard texts and the one-click acknowledgement), marking
//! the sender's replies handled, and (in [`super::hardships`]) linking it to
//! hardships.
//!
//! Invariants:
//! - The view is audited (durably) before anything is decrypted.
//! - Decrypted text exists only in wiped buffers and the wiped response body.
//! - Notes are sealed to every team recipient; messages to the team and the
//!   signal's receipt-derived source recipient — before they reach the store.
//! - A refused triage shows the page again with what was chosen and why,
//!   never a dead end; a saved one redirects (post/redirect/get).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::{Zeroize, Zeroizing};

use super::fields::Fields;
use super::place::Place;
use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState, pages, reviewers};
use crate::crypto;
use crate::signal::STATUSES;
use crate::signal::sealed::{open_signal, open_text, seal_text};
use crate::store::signals::Triage;
use crate::views::{Lang, choice_label};
use crate::web;

/// Longest note or message, in characters.
pub const MAX_TEXT: usize = 10_000;
/// Longest label, in characters, and most labels on one signal.
pub const MAX_LABEL: usize = 40;
const MAX_LABELS: usize = crate::store::signals::MAX_LABELS;

/// The standard messages, by the key of their texts (`review.standard.KEY.*`).
pub const STANDARD: &[&str] = &["ack", "more", "close"];

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

/// What a signal's address asks for besides the signal.
#[derive(Debug, Default)]
pub struct Asked {
    /// Where in the queue it was opened.
    pub place: Option<Place>,
    /// What was just done (`triage`, `note`, …), for the confirmation.
    pub done: Option<&'static str>,
    /// The signal whose triage was saved before this one came next.
    pub of: Option<String>,
    /// A standard message to put in the message box.
    pub insert: Option<&'static str>,
    /// The text box that was sent empty (`note` or `message`).
    pub empty: Option<&'static str>,
}

const DONE: &[&str] = &[
    "triage", "note", "message", "handled", "ack", "link", "unlink",
];

impl Asked {
    fn read(query: Option<&str>, reviewer: &str) -> Self {
        let mut asked = Self::default();
        let (mut from, mut pos) = (None, None);
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "from" => from = Some(v.into_owned()),
                "pos" => pos = Some(v.into_owned()),
                "done" => asked.done = DONE.iter().find(|d| **d == v).copied(),
                "of" if valid_id(&v) => asked.of = Some(v.into_owned()),
                "insert" => asked.insert = STANDARD.iter().find(|d| **d == v).copied(),
                "empty" => asked.empty = ["note", "message"].into_iter().find(|d| *d == v),
                _ => {}
            }
        }
        if let (Some(from), Some(pos)) = (from, pos) {
            asked.place = Place::read(&from, &pos, reviewer);
        }
        asked
    }
}

/// A triage as it was sent, and what is wrong with it.
#[derive(Debug, Default, Clone)]
pub struct TriageForm {
    /// The status chosen.
    pub status: String,
    /// The domain chosen.
    pub domain: String,
    /// The origin chosen.
    pub origin: String,
    /// The labels.
    pub labels: Vec<String>,
    /// The labels typed to add, as typed.
    pub new_labels: String,
    /// The assignee chosen.
    pub assignee: String,
    /// (field, text key) of each problem.
    pub errors: Vec<(&'static str, &'static str)>,
}

/// `GET /signals/{id}`.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let asked = Asked::read(query.as_deref(), &reviewer.name);
    show(&state, face, &reviewer, &id, &asked, None).await
}

/// The signal's page: audited, decrypted, with the triage form as `form`
/// has it (a refused triage) or as stored.
async fn show(
    state: &ReviewState,
    face: Face,
    reviewer: &Reviewer,
    id: &str,
    asked: &Asked,
    form: Option<TriageForm>,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    if !valid_id(id) {
        return Err(fail(ReviewError::NotFound));
    }
    let record = state
        .store
        .signal_record(id.to_owned())
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ReviewError::NotFound))?;
    state
        .store
        .audit_view(&reviewer.name, id, &reviewer.session)
        .await
        .map_err(|e| fail(e.into()))?;
    let crate::store::thread::PageRows {
        extras,
        domains,
        labels: vocabulary,
        hardships: linked,
    } = state
        .store
        .signal_page_rows(id.to_owned())
        .await
        .map_err(|e| fail(e.into()))?;
    let neighbours = match &asked.place {
        Some(place) => place.neighbours(state, reviewer, id).await.map_err(fail)?,
        None => Default::default(),
    };
    let hardships = super::hardships::listed(state, face, reviewer).await?;
    let identity = &*reviewer.identity;
    let (sender_lang, opened) =
        open_signal(&record.envelope, identity).map_err(|_| fail(ReviewError::CannotDecrypt))?;
    // The sender's own choice of domain and origin, offered for the reviewer to confirm.
    let suggest = |field: &str| {
        opened
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, v)| v.as_str().to_owned())
    };
    let form = form.unwrap_or_else(|| TriageForm {
        status: record.status.clone(),
        domain: record
            .domain
            .clone()
            .or_else(|| suggest("domain"))
            .unwrap_or_default(),
        origin: record
            .origin
            .clone()
            .or_else(|| suggest("origin"))
            .unwrap_or_default(),
        labels: crate::store::queue::split_labels(&record.labels)
            .map(str::to_owned)
            .collect(),
        assignee: record.assignee.clone().unwrap_or_default(),
        ..TriageForm::default()
    });
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
    let sender_lang = Lang::parse(&sender_lang).unwrap_or(face.lang);
    let draft = asked.insert.map(|key| {
        Zeroizing::new(
            sender_lang
                .t(&format!("review.standard.{key}.text"))
                .to_owned(),
        )
    });
    let mut team = reviewers::list(&state.keys_dir);
    if !team.contains(&reviewer.name) {
        team.push(reviewer.name.clone());
    }
    let unanswered = extras.unanswered;
    let view = pages::SignalView {
        record: &record,
        answers: &answers,
        flags: &flags,
        form: &form,
        domains: &domains,
        vocabulary: &vocabulary,
        reviewers: &team,
        notes: &notes,
        thread: &thread,
        unanswered,
        draft: draft.as_ref().map(|d| d.as_str()),
        sender_lang,
        trail: &extras.trail,
        trail_total: extras.trail_total,
        place: asked.place.as_ref(),
        neighbours: &neighbours,
        done: asked.done,
        of: asked.of.as_deref(),
        empty: asked.empty,
        hardships: &hardships,
        linked: &linked,
    };
    let mut res = web::wiped(pages::signal(face, reviewer, &view));
    if !form.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// A 404 page for an id of a shape no record has.
pub(super) fn checked_id(face: Face, id: &str) -> Result<(), Failure> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(Failure(face, ReviewError::NotFound))
    }
}

/// The checked form of a POST about the record `id` (csrf and Origin by
/// [`Fields::read_checked`]), or the page that refuses it.
pub(super) async fn checked_form(
    face: Face,
    reviewer: &Reviewer,
    id: &str,
    body: Body,
) -> Result<Fields, Failure> {
    checked_id(face, id)?;
    Fields::read_checked(body, reviewer)
        .await
        .map_err(|e| Failure(face, e))
}

/// Where a form of the signal page goes back to: the signal in its place,
/// with the confirmation of what was done.
fn back_to(id: &str, place: Option<&Place>, done: &str) -> Response {
    back_with(id, place, &format!("done={done}"), "")
}

/// Back to the signal in its place with `pair` (`done=…`, `empty=…`) in the
/// address, at `anchor`.
fn back_with(id: &str, place: Option<&Place>, pair: &str, anchor: &str) -> Response {
    let mut q = match place {
        Some(p) => p.query_at(p.pos),
        None => String::new(),
    };
    if !q.is_empty() {
        q.push('&');
    }
    q.push_str(pair);
    Redirect::to(&format!("/signals/{id}?{q}{anchor}")).into_response()
}

/// After a note, message or other change: back to the signal, or the page
/// that says why nothing changed (no such signal, or the store failed).
fn back_after(
    face: Face,
    id: &str,
    place: Option<&Place>,
    done: &str,
    result: Result<bool, crate::store::StoreError>,
) -> Result<Response, Failure> {
    match result {
        Ok(true) => Ok(back_to(id, place, done)),
        Ok(false) => Err(Failure(face, ReviewError::NotFound)),
        Err(e) => Err(Failure(face, e.into())),
    }
}

fn place_of(fields: &Fields, reviewer: &Reviewer) -> Option<Place> {
    Place::read(fields.get("from"), fields.get("pos"), &reviewer.name)
}

/// A label as a reviewer may write it: short, no control characters or commas.
pub fn valid_label(l: &str) -> bool {
    let n = l.chars().count();
    (1..=MAX_LABEL).contains(&n) && !l.chars().any(|c| c.is_control() || c == ',')
}

/// Reads and checks a triage form; what is wrong goes into `errors`.
fn read_triage(fields: &Fields, reviewer: &Reviewer, allowed: &Allowed) -> TriageForm {
    let mut f = TriageForm {
        status: fields.get("status").trim().to_owned(),
        domain: fields.get("domain").trim().to_owned(),
        origin: fields.get("origin").trim().to_owned(),
        new_labels: fields.get("labels").trim().to_owned(),
        assignee: fields.get("assignee").trim().to_owned(),
        ..TriageForm::default()
    };
    if !fields.get("assign_me").is_empty() {
        f.assignee = reviewer.name.clone();
    }
    let mut labels: Vec<String> = Vec::new();
    let typed = f
        .new_labels
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty());
    for l in fields.all("label").into_iter().map(str::trim).chain(typed) {
        if !valid_label(l) {
            f.errors.push(("labels", "review.triage.error.labels"));
            break;
        }
        if !labels.iter().any(|x| x.eq_ignore_ascii_case(l)) {
            labels.push(l.to_owned());
        }
    }
    if labels.len() > MAX_LABELS {
        f.errors.push(("labels", "review.triage.error.labels"));
    }
    f.labels = labels;
    if !STATUSES.contains(&f.status.as_str()) {
        f.errors.push(("status", "review.triage.error.status"));
    }
    if !f.domain.is_empty() && !allowed.domains.contains(&f.domain) {
        f.errors.push(("domain", "review.triage.error.domain"));
    }
    if !f.origin.is_empty() && !allowed.origins.contains(&f.origin) {
        f.errors.push(("origin", "review.triage.error.origin"));
    }
    let known = reviewers::valid_name(&f.assignee) && allowed.assignees.contains(&f.assignee);
    if !f.assignee.is_empty() && !known {
        f.errors.push(("assignee", "review.triage.error.assignee"));
    }
    f
}

/// The values a triage may choose.
struct Allowed {
    domains: Vec<String>,
    origins: Vec<String>,
    assignees: Vec<String>,
}

async fn allowed(state: &ReviewState, id: &str) -> Result<Allowed, ReviewError> {
    let mut domains: Vec<String> = crate::signal::questions::options("domain").to_vec();
    domains.extend(state.store.domains_in_use().await?);
    let mut origins: Vec<String> = crate::signal::questions::options("origin").to_vec();
    let mut assignees = reviewers::list(&state.keys_dir);
    // What is stored already stays allowed (a removed reviewer, an older category).
    if let Some(r) = state.store.signal_record(id.to_owned()).await? {
        origins.extend(r.origin);
        assignees.extend(r.assignee);
    }
    Ok(Allowed {
        domains,
        origins,
        assignees,
    })
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
    let place = place_of(&fields, &reviewer);
    let mut allowed = allowed(&state, &id).await.map_err(|e| Failure(face, e))?;
    allowed.assignees.push(reviewer.name.clone());
    let form = read_triage(&fields, &reviewer, &allowed);
    if !form.errors.is_empty() {
        let asked = Asked {
            place,
            ..Asked::default()
        };
        return show(&state, face, &reviewer, &id, &asked, Some(form)).await;
    }
    let t = Triage {
        status: form.status.clone(),
        domain: form.domain.clone(),
        origin: form.origin.clone(),
        labels: form.labels.join(", "),
        assignee: form.assignee.clone(),
    };
    let done = state
        .store
        .triage(id.clone(), reviewer.name.clone(), t)
        .await;
    match done {
        Ok(true) => {}
        Ok(false) => return Err(Failure(face, ReviewError::NotFound)),
        Err(e) => return Err(Failure(face, e.into())),
    }
    if fields.get("then") == "next" {
        if let Some(place) = &place {
            let n = place
                .neighbours(&state, &reviewer, &id)
                .await
                .map_err(|e| Failure(face, e))?;
            if let Some((next, pos)) = n.next {
                let q = place.query_at(pos);
                return Ok(
                    Redirect::to(&format!("/signals/{next}?{q}&done=triage&of={id}"))
                        .into_response(),
                );
            }
        }
    }
    Ok(back_to(&id, place.as_ref(), "triage"))
}

/// The team's recipients, read now; a page that says the service is
/// unavailable when `team.pub` cannot be read.
pub(super) fn team_recipients(
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

/// The text of a note or message: `Ok(None)` when it was sent empty (the
/// page says so at the box), refused when longer than the box allows.
fn text_field(
    face: Face,
    fields: &Fields,
    name: &str,
) -> Result<Option<Zeroizing<String>>, Failure> {
    let text = fields.get(name);
    if text.chars().count() > MAX_TEXT {
        return Err(Failure(face, ReviewError::BadRequest));
    }
    Ok((!text.trim().is_empty()).then(|| Zeroizing::new(text.to_owned())))
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
    let place = place_of(&fields, &reviewer);
    let Some(mut text) = text_field(face, &fields, "note")? else {
        return Ok(back_with(&id, place.as_ref(), "empty=note", "#note"));
    };
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
    back_after(face, &id, place.as_ref(), "note", done)
}

/// Seals `text` to the team and the signal's sender and stores it as the
/// team's message; `false` if no such signal.
async fn send(
    state: &ReviewState,
    face: Face,
    reviewer: &Reviewer,
    id: &str,
    text: &str,
) -> Result<bool, Failure> {
    let Some(source) = state
        .store
        .source_recipient(id.to_owned())
        .await
        .map_err(|e| Failure(face, e.into()))?
    else {
        return Ok(false);
    };
    let source = crypto::parse_recipient(&source).ok_or(Failure(face, ReviewError::Unavailable))?;
    let team = team_recipients(state, face)?;
    let envelope = seal_text(text, &team, Some(&source))
        .map_err(|_| Failure(face, ReviewError::Unavailable))?;
    state
        .store
        .add_team_message(
            id.to_owned(),
            reviewer.name.clone(),
            crypto::FORMAT_AGE_X25519,
            envelope,
        )
        .await
        .map_err(|e| Failure(face, e.into()))
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
    let place = place_of(&fields, &reviewer);
    let Some(text) = text_field(face, &fields, "message")? else {
        return Ok(back_with(&id, place.as_ref(), "empty=message", "#message"));
    };
    drop(fields);
    let sent = send(&state, face, &reviewer, &id, &text).await?;
    drop(text);
    back_after(face, &id, place.as_ref(), "message", Ok(sent))
}

/// `POST /signals/{id}/acknowledge`: one click sends the standard
/// acknowledgement in the sender's language and moves a new signal to "in
/// progress".
pub async fn acknowledge(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let place = place_of(&fields, &reviewer);
    let record = state
        .store
        .signal_record(id.clone())
        .await
        .map_err(|e| Failure(face, e.into()))?
        .ok_or(Failure(face, ReviewError::NotFound))?;
    // The envelope is opened for the sender's language: a decryption, audited
    // like any other before it happens.
    state
        .store
        .audit_view(&reviewer.name, &id, &reviewer.session)
        .await
        .map_err(|e| Failure(face, e.into()))?;
    let lang = open_signal(&record.envelope, &reviewer.identity)
        .ok()
        .and_then(|(lang, _)| Lang::parse(&lang))
        .unwrap_or(face.lang);
    let text = lang.t("review.standard.ack.text");
    if !send(&state, face, &reviewer, &id, text).await? {
        return Err(Failure(face, ReviewError::NotFound));
    }
    if record.status == "new" {
        let t = Triage {
            status: "in_progress".to_owned(),
            domain: record.domain.unwrap_or_default(),
            origin: record.origin.unwrap_or_default(),
            labels: record.labels,
            assignee: record.assignee.unwrap_or_default(),
        };
        state
            .store
            .triage(id.clone(), reviewer.name.clone(), t)
            .await
            .map_err(|e| Failure(face, e.into()))?;
    }
    Ok(back_to(&id, place.as_ref(), "ack"))
}

/// `POST /signals/{id}/handled`: the sender's replies are handled without
/// writing back; the "new reply" flag clears.
pub async fn handled(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let place = place_of(&fields, &reviewer);
    let done = state
        .store
        .mark_handled(id.clone(), reviewer.name.clone())
        .await;
    back_after(face, &id, place.as_ref(), "handled", done)
}
