//! Search: decrypt-and-scan in memory, newest first, bounded in time and
//! count, over the answers, the internal notes and the labels, within the
//! queue's filters; the page keeps the query and shows the sentence that
//! matched, and is sent from a wiped buffer.
//!
//! Invariants: no plaintext index is ever written; the search terms travel
//! in a POST body (never a URL, a log line or the audit row); every decrypted
//! answer is wiped as soon as it has been compared; the search is audited
//! before the first decryption.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use zeroize::Zeroizing;

use super::fields::Fields;
use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::signal::sealed::open_answers;
use crate::signal::sealed::open_text;
use crate::store::queue::QueueFilter;
use crate::store::search::ScanItem;
use crate::web;

/// Signals scanned when the form does not say.
pub const DEFAULT_SCOPE: u32 = 10_000;
/// Time after which a search stops and says how far it got.
pub const TIME_BOUND: Duration = Duration::from_secs(8);
const BATCH: u32 = 500;

/// Where a search found its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In what the sender wrote.
    Answer,
    /// In an internal note.
    Note,
    /// In a label.
    Label,
}

impl Place {
    pub fn key(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::Note => "note",
            Self::Label => "label",
        }
    }
}

/// One signal a search found, with the sentence that matched, cut in three
/// around the match.
#[derive(Debug)]
pub struct Hit {
    /// The signal's id.
    pub id: String,
    /// Its arrival day.
    pub day: String,
    /// Its status.
    pub status: String,
    /// Where the words were found.
    pub place: Place,
    /// The sentence before the match, the match, and the sentence after it.
    pub sentence: (Zeroizing<String>, Zeroizing<String>, Zeroizing<String>),
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Matching signals.
    pub hits: Vec<Hit>,
    /// Signals decrypted and scanned.
    pub scanned: u64,
    /// Whether the time bound stopped it.
    pub timed_out: bool,
}

/// Threads that decrypt at once: the machine's cores, at most four.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Scans up to `scope` signals that `filter` lets through, newest first, for
/// `needle` (case-insensitive) in the answers, the notes and the labels, each
/// batch split over [`workers`] threads.
pub fn scan(
    store: &crate::store::Store,
    identity: &age::x25519::Identity,
    needle: &str,
    scope: u32,
    filter: &QueueFilter,
    deadline: Instant,
) -> Result<Outcome, crate::store::StoreError> {
    let needle = Zeroizing::new(needle.to_lowercase());
    let mut out = Outcome::default();
    let mut filter = QueueFilter {
        before: None,
        ..filter.clone()
    };
    let mut left = scope;
    while left > 0 && !out.timed_out {
        let batch = store.search_batch_blocking(BATCH.min(left), &filter)?;
        let Some(last) = batch.last() else { break };
        filter.before = Some((last.received_on.clone(), last.rowid));
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

/// Most characters of a sentence shown around a match.
const AROUND: usize = 120;

/// The sentence of `text` in which `needle` (lower case) occurs, cut in
/// three around the first match; `None` if it does not occur.
pub fn matching_sentence(
    text: &str,
    needle: &str,
) -> Option<(Zeroizing<String>, Zeroizing<String>, Zeroizing<String>)> {
    if needle.is_empty() {
        return None;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let lower = |from: usize| {
        let mut l = Zeroizing::new(String::new());
        for (_, c) in chars.iter().skip(from) {
            l.extend(c.to_lowercase());
            if l.len() >= needle.len() {
                break;
            }
        }
        l
    };
    let (start_i, len) = (0..chars.len()).find_map(|i| {
        lower(i).starts_with(needle).then(|| {
            // How many characters of the text the match covers.
            let mut n = 0;
            let mut l = String::new();
            while l.len() < needle.len() {
                if let Some((_, c)) = chars.get(i + n) {
                    l.extend(c.to_lowercase());
                }
                n += 1;
            }
            (i, n)
        })
    })?;
    let at = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let is_end = |c: char| matches!(c, '.' | '!' | '?' | '\n');
    let mut s = start_i;
    while s > 0 && start_i - s < AROUND && !chars.get(s - 1).is_some_and(|(_, c)| is_end(*c)) {
        s -= 1;
    }
    let mut e = start_i + len;
    while e < chars.len()
        && e - start_i < AROUND
        && !chars
            .get(e - 1)
            .is_some_and(|(_, c)| is_end(*c) && e > start_i + len)
    {
        e += 1;
    }
    let piece =
        |a: usize, b: usize| Zeroizing::new(text.get(at(a)..at(b)).unwrap_or("").to_owned());
    Some((
        Zeroizing::new(piece(s, start_i).trim_start().to_owned()),
        piece(start_i, start_i + len),
        Zeroizing::new(piece(start_i + len, e).trim_end().to_owned()),
    ))
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
        let found = |place: Place, text: &str| {
            matching_sentence(text, needle).map(|sentence| Hit {
                id: item.id.clone(),
                day: item.received_on.clone(),
                status: item.status.clone(),
                place,
                sentence,
            })
        };
        let mut hit = None;
        if let Ok(answers) = open_answers(&item.envelope, identity) {
            hit = answers
                .iter()
                .find_map(|(_, text)| found(Place::Answer, text));
        }
        if hit.is_none() {
            hit = item.notes.iter().find_map(|envelope| {
                let text = open_text(envelope, identity).ok()?;
                found(Place::Note, &text)
            });
        }
        if hit.is_none() {
            hit = found(Place::Label, &item.labels);
        }
        out.hits.extend(hit);
    }
    out
}

/// What the search form holds.
#[derive(Default)]
pub struct Asked {
    /// The words looked for.
    pub needle: Zeroizing<String>,
    /// How many of the newest signals to scan.
    pub scope: u32,
    /// The queue's filters the search is narrowed to (status, domain,
    /// assignee, label, needs attention).
    pub filter: QueueFilter,
    /// The team's labels, which the label filter offers.
    pub labels: Vec<String>,
}

/// The queue's filters among `fields` (the search form's, or the queue's
/// address on `GET /search`), read as the queue reads them.
fn filter_of<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, reviewer: &str) -> QueueFilter {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if matches!(k, "status" | "domain" | "label" | "who" | "attention") && !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    super::queue::parse_filter(Some(&q.finish()), reviewer).filter
}

/// `GET /search`: the form.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, Failure> {
    let domains = state
        .store
        .domains_in_use()
        .await
        .map_err(|e| Failure(face, e.into()))?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let labels = state
        .store
        .labels()
        .await
        .map_err(|e| Failure(face, e.into()))?;
    let asked = Asked {
        scope: DEFAULT_SCOPE,
        labels,
        filter: filter_of(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &reviewer.name,
        ),
        ..Asked::default()
    };
    Ok(pages::search(face, &reviewer, &asked, &domains, pages::SearchShown::Blank).into_response())
}

/// `POST /search`: scan and list the hits, with the form as it was sent.
pub async fn run(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let fields = Fields::read_checked(body, &reviewer).await.map_err(fail)?;
    let domains = state
        .store
        .domains_in_use()
        .await
        .map_err(|e| fail(e.into()))?;
    let filter = filter_of(
        ["status", "domain", "label", "who", "attention"]
            .into_iter()
            .map(|k| (k, fields.get(k))),
        &reviewer.name,
    );
    let mut asked = Asked {
        needle: Zeroizing::new(fields.get("q").trim().chars().take(200).collect()),
        scope: fields
            .get("scope")
            .trim()
            .parse()
            .unwrap_or(DEFAULT_SCOPE)
            .clamp(1, 1_000_000),
        filter,
        labels: state.store.labels().await.map_err(|e| fail(e.into()))?,
    };
    drop(fields);
    if asked.needle.is_empty() {
        let mut res = web::wiped(pages::search(
            face,
            &reviewer,
            &asked,
            &domains,
            pages::SearchShown::Empty,
        ));
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
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
            format!("scope={}", asked.scope),
        ))
        .await
        .map_err(|e| fail(e.into()))?;
    super::queue::sender_choices(&state, &reviewer, &mut asked.filter)
        .await
        .map_err(fail)?;
    let store = state.store.clone();
    let identity = std::sync::Arc::clone(&reviewer.identity);
    let started = Instant::now();
    let (needle, scope, filter) = (asked.needle.clone(), asked.scope, asked.filter.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        scan(
            &store,
            &identity,
            &needle,
            scope,
            &filter,
            started + TIME_BOUND,
        )
    })
    .await
    .map_err(|_| fail(ReviewError::Unavailable))?
    .map_err(|e| fail(e.into()))?;
    let millis = started.elapsed().as_millis();
    Ok(web::wiped(pages::search(
        face,
        &reviewer,
        &asked,
        &domains,
        pages::SearchShown::Found {
            outcome: &outcome,
            total,
            millis,
        },
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_matching_sentence_is_found_whatever_the_case_and_cut_around_the_match() {
        let (a, m, b) = matching_sentence(
            "Eerst dit. Dan de Kinderopvang die stopt. Tot slot.",
            "kinderopvang",
        )
        .unwrap();
        assert_eq!(
            (a.as_str(), m.as_str(), b.as_str()),
            ("Dan de ", "Kinderopvang", " die stopt.")
        );
        assert!(matching_sentence("niets", "iets dat er niet is").is_none());
        let (_, m, _) = matching_sentence("ÉÉN regel", "één").unwrap();
        assert_eq!(m.as_str(), "ÉÉN");
    }
}
