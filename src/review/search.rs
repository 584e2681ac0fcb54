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

use super::audit::{Action, Entry};
use super::fields::Fields;
use super::session::Reviewer;
use super::{Failure, ReviewError, ReviewState, signal, views};
use crate::store::review::ScanItem;

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
        let Ok(answers) = signal::open_answers(&item.envelope, identity) else {
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

fn form(who: &Reviewer, scope: u32) -> maud::Markup {
    html! {
        form method="post" action="/search" {
            input type="hidden" name="csrf" value=(who.csrf);
            p { label for="q" { "Search the answers (decrypted in memory, newest first)" } br;
                input #q type="search" name="q" required maxlength="200"; }
            p { label { "How many of the newest signals to scan "
                input type="number" name="scope" value=(scope) min="1" max="1000000"; } }
            p { button type="submit" { "Search" } }
        }
    }
}

/// `GET /search`: the form.
pub async fn page(State(state): State<ReviewState>, reviewer: Reviewer) -> Response {
    views::layout(
        state.demo,
        "Search",
        Some(&reviewer),
        html! { h1 { "Search" } (form(&reviewer, DEFAULT_SCOPE)) },
    )
    .into_response()
}

/// `POST /search`: scan and list the hits.
pub async fn run(
    State(state): State<ReviewState>,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(state.demo, e);
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
    Ok(views::layout(
        state.demo,
        "Search",
        Some(&reviewer),
        html! {
            h1 { "Search" }
            p data-scanned=(outcome.scanned) data-total=(total) {
                "Searched " (outcome.scanned) " of " (total) " signals in " (millis) " ms"
                @if outcome.timed_out { " — stopped at the time limit; narrow the scope or search again." }
                @else if outcome.scanned < total { " (the newest " (outcome.scanned) ")." }
                @else { "." }
            }
            p { (outcome.hits.len()) " found." }
            ul.hits { @for (id, day, status) in &outcome.hits {
                li data-signal=(id) { a href={ "/signals/" (id) } { (id) } " · " (day) " · " (status) }
            } }
            (form(&reviewer, scope))
        },
    )
    .into_response())
}
