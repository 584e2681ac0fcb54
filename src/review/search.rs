//! Search: decrypt-and-scan in memory, newest first, bounded in time and count.
//!
//! Invariants: no plaintext index is ever written; the search terms travel
//! in a POST body (never a URL, a log line or the audit row); every decrypted
//! answer is wiped as soon as it has been compared; the search is audited
//! before the first decryption.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use zeroize::Zeroizing;

use super::fields::Fields;
use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::signal::sealed::open_answers;
use crate::store::search::ScanItem;
use crate::views::fill;

/// Signals scanned when the form does not say.
pub const DEFAULT_SCOPE: u32 = 10_000;
/// Time after which a search stops and says how far it got.
pub const TIME_BOUND: Duration = Duration::from_secs(8);
const BATCH: u32 = 500;

/// What a search found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Matching signals: (id, received day, status).
    pub hits: Vec<(String, String, String)>,
    /// Signals decrypted and scanned.
    pub scanned: u64,
    /// Whether the time bound stopped it.
    pub timed_out: bool,
}

/// Threads that decrypt at once: the machine's cores, at most four.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Scans up to `scope` signals, newest first, for `needle` (case-insensitive),
/// each batch split over [`workers`] threads.
pub fn scan(
    store: &crate::store::Store,
    identity: &age::x25519::Identity,
    needle: &str,
    scope: u32,
    deadline: Instant,
) -> Result<Outcome, crate::store::StoreError> {
    let needle = Zeroizing::new(needle.to_lowercase());
    let mut out = Outcome::default();
    let mut after = None;
    let mut left = scope;
    while left > 0 && !out.timed_out {
        let batch = store.search_batch_blocking(after.take(), BATCH.min(left))?;
        let Some(last) = batch.last() else { break };
        after = Some((last.received_on.clone(), last.rowid));
        left = left.saturating_sub(u32::try_from(batch.len()).unwrap_or(u32::MAX));
        let per_worker = batch.len().div_ceil(workers()).max(1);
        let parts: Vec<Outcome> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .chunks(per_worker)
                .map(|part| s.spawn(|| scan_part(part, identity, &needle, deadline)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for part in parts {
            out.scanned += part.scanned;
            out.timed_out |= part.timed_out;
            out.hits.extend(part.hits);
        }
    }
    Ok(out)
}

fn scan_part(
    items: &[ScanItem],
    identity: &age::x25519::Identity,
    needle: &str,
    deadline: Instant,
) -> Outcome {
    let mut out = Outcome::default();
    for item in items {
        if Instant::now() >= deadline {
            out.timed_out = true;
            break;
        }
        out.scanned += 1;
        let Ok(answers) = open_answers(&item.envelope, identity) else {
            continue;
        };
        let hit = answers
            .iter()
            .any(|(_, text)| Zeroizing::new(text.to_lowercase()).contains(needle));
        if hit {
            out.hits.push((
                item.id.clone(),
                item.received_on.clone(),
                item.status.clone(),
            ));
        }
    }
    out
}

fn form(face: Face, who: &Reviewer, scope: u32) -> maud::Markup {
    html! {
        form method="post" action="/search" {
            input type="hidden" name="csrf" value=(who.csrf);
            p { label for="q" { (face.t("review.search.label")) } br;
                input #q type="search" name="q" required maxlength="200"; }
            p { label { (face.t("review.search.scope")) " "
                input type="number" name="scope" value=(scope) min="1" max="1000000"; } }
            p { button type="submit" { (face.t("review.search.submit")) } }
        }
    }
}

/// `GET /search`: the form.
pub async fn page(face: Face, reviewer: Reviewer) -> Response {
    let title = face.t("review.search.title");
    pages::layout(
        face,
        title,
        Some(&reviewer),
        html! { h1 { (title) } (form(face, &reviewer, DEFAULT_SCOPE)) },
    )
    .into_response()
}

/// `POST /search`: scan and list the hits.
pub async fn run(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let fields = Fields::read_checked(body, &reviewer).await.map_err(fail)?;
    let needle = Zeroizing::new(fields.get("q").trim().to_owned());
    if needle.is_empty() || needle.chars().count() > 200 {
        return Err(fail(ReviewError::BadRequest));
    }
    let scope: u32 = fields
        .get("scope")
        .trim()
        .parse()
        .unwrap_or(DEFAULT_SCOPE)
        .clamp(1, 1_000_000);
    drop(fields);
    let total = state
        .store
        .count_signals()
        .await
        .map_err(|e| fail(e.into()))?;
    state
        .store
        .audit(Entry::general(
            &reviewer.name,
            Action::Search,
            format!("scope={scope}"),
        ))
        .await
        .map_err(|e| fail(e.into()))?;
    let store = state.store.clone();
    let identity = std::sync::Arc::clone(&reviewer.identity);
    let started = Instant::now();
    let outcome = tokio::task::spawn_blocking(move || {
        scan(&store, &identity, &needle, scope, started + TIME_BOUND)
    })
    .await
    .map_err(|_| fail(ReviewError::Unavailable))?
    .map_err(|e| fail(e.into()))?;
    let millis = started.elapsed().as_millis();
    let t = |key: &str| face.t(key);
    let title = t("review.search.title");
    Ok(pages::layout(
        face,
        title,
        Some(&reviewer),
        html! {
            h1 { (title) }
            p data-scanned=(outcome.scanned) data-total=(total) {
                (fill(t("review.search.scanned"), &[("scanned", &outcome.scanned), ("total", &total), ("ms", &millis)]))
                @if outcome.timed_out { (t("review.search.timed_out")) }
                @else if outcome.scanned < total { (fill(t("review.search.newest"), &[("n", &outcome.scanned)])) }
                @else { "." }
            }
            p { (fill(t("review.search.found"), &[("n", &outcome.hits.len())])) }
            ul.hits { @for (id, day, status) in &outcome.hits {
                li data-signal=(id) { a href={ "/signals/" (id) } { (id) } " · " (day) " · " (pages::status_label(face, status)) }
            } }
            (form(face, &reviewer, scope))
        },
    )
    .into_response())
}
