//! The intake's log: counts, never moments.
//!
//! A log line per request would carry the second at which a sender stored a
//! signal, looked up a code or wrote a message; joined with a proxy's log of
//! the same second, it would point at the sender. So the intake writes no line
//! per request. Each request is counted by route, status and a coarse latency
//! bucket, and the counts are written as one summary line after each mix
//! (at most once per `mix_interval_secs`) and at a clean stop, then reset.
//!
//! The same counts, with a few events (a signal stored, one held back by the
//! guard, a look-up that opened a thread, …), are published at each summary
//! as running totals for the optional metrics listener (`metrics_addr`): a
//! scraper that polls every few seconds still sees them move once per mix
//! interval, never per request.
//!
//! Invariant: nothing here holds an address, a query string, a body, a code or
//! a time finer than the interval; the latency buckets are wide enough that a
//! stored signal (one fsync) and a form the guard held back fall in the same
//! one. The review face keeps its per-request lines: reviewers are accountable.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::Response;
use axum::middleware::Next;

/// Upper bounds of the latency buckets; the last bucket has none.
const BUCKETS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(10)];
/// The buckets' names in the summary.
const BUCKET_NAMES: [&str; 3] = ["under_1s", "1s_to_10s", "over_10s"];

/// The route of a response, put there by [`tag_route`] for [`count`].
#[derive(Debug, Clone)]
struct Route(String);

type Key = (&'static str, String, u16);

static COUNTS: Mutex<BTreeMap<Key, [u64; 3]>> = Mutex::new(BTreeMap::new());

/// Something the intake did, counted (never timed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A signal was stored (a receipt was shown).
    SignalStored,
    /// The personal-data guard held a signal back for the sender to look at.
    HeldBack,
    /// Storing a signal failed; the sender was told nothing was kept.
    NotStored,
    /// A sender's message was stored.
    MessageStored,
    /// A receipt code opened its thread.
    LookupOpened,
    /// A code opened nothing.
    LookupRefused,
    /// A group commit failed (nothing in it was kept).
    CommitFailed,
}

impl Event {
    const ALL: [Event; 7] = [
        Event::SignalStored,
        Event::HeldBack,
        Event::NotStored,
        Event::MessageStored,
        Event::LookupOpened,
        Event::LookupRefused,
        Event::CommitFailed,
    ];

    /// The name in the summary and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            Event::SignalStored => "signals_stored",
            Event::HeldBack => "signals_held_back",
            Event::NotStored => "signals_not_stored",
            Event::MessageStored => "messages_stored",
            Event::LookupOpened => "lookups_opened",
            Event::LookupRefused => "lookups_refused",
            Event::CommitFailed => "commits_failed",
        }
    }

    fn index(self) -> usize {
        Event::ALL.iter().position(|e| *e == self).unwrap_or(0)
    }
}

static EVENTS: Mutex<[u64; 7]> = Mutex::new([0; 7]);

/// Running totals as of the last summary: what the metrics listener serves.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Requests by (method, route, status), since the start.
    pub requests: BTreeMap<(&'static str, String, u16), u64>,
    /// Events by name, since the start.
    pub events: Vec<(&'static str, u64)>,
    /// When the last summary was published (after a mix).
    pub at: Option<Instant>,
}

static PUBLISHED: Mutex<Option<Published>> = Mutex::new(None);

/// Counts `event`; it reaches the log and the metrics at the next summary.
pub fn note(event: Event) {
    let mut events = EVENTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(n) = events.get_mut(event.index()) {
        *n += 1;
    }
}

/// Route layer: remembers the matched route template on the response.
pub async fn tag_route(req: Request, next: Next) -> Response<Body> {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(Route(route));
    }
    res
}

/// Outermost layer of the intake: counts every answer, whatever produced it
/// (a handler, the fallback, the timeout), by method, route and status.
pub async fn count(req: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        _ => "other",
    };
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<Route>()
        .map_or("-", |r| r.0.as_str());
    record(method, route, res.status().as_u16(), started.elapsed());
    res
}

/// Counts an answer given before a request reached the intake's routes
/// (`reason`: see [`crate::web::Refused`]), under the method `-`. It is not
/// timed: there is nothing to time but the client's own slowness.
pub fn refused(reason: crate::web::Refused, status: u16) {
    record("-", reason.name(), status, Duration::ZERO);
}

fn record(method: &'static str, route: &str, status: u16, elapsed: Duration) {
    let bucket = BUCKETS
        .iter()
        .position(|b| elapsed < *b)
        .unwrap_or(BUCKETS.len());
    let mut counts = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = counts
        .entry((method, route.to_owned(), status))
        .or_insert([0; 3]);
    if let Some(n) = entry.get_mut(bucket) {
        *n += 1;
    }
}

/// The counts since the last call, as one text (empty if nothing was
/// counted), and resets them; adds them to the published totals.
pub fn take() -> String {
    let counts = std::mem::take(&mut *COUNTS.lock().unwrap_or_else(PoisonError::into_inner));
    let events = std::mem::take(&mut *EVENTS.lock().unwrap_or_else(PoisonError::into_inner));
    publish(&counts, &events);
    let mut out = String::new();
    for ((method, route, status), buckets) in counts {
        let total: u64 = buckets.iter().sum();
        let _ = write!(out, "{method} {route} {status}: {total} (");
        let parts: Vec<String> = BUCKET_NAMES
            .iter()
            .zip(buckets)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let _ = write!(out, "{}); ", parts.join(", "));
    }
    let happened: Vec<String> = Event::ALL
        .iter()
        .zip(events)
        .filter(|(_, n)| *n > 0)
        .map(|(e, n)| format!("{} {n}", e.name()))
        .collect();
    if !happened.is_empty() {
        let _ = write!(out, "events: {}", happened.join(", "));
    }
    out.trim_end_matches("; ").to_owned()
}

fn publish(counts: &BTreeMap<Key, [u64; 3]>, events: &[u64; 7]) {
    let mut published = PUBLISHED.lock().unwrap_or_else(PoisonError::into_inner);
    let p = published.get_or_insert_with(|| Published {
        events: Event::ALL.iter().map(|e| (e.name(), 0)).collect(),
        ..Published::default()
    });
    for (key, buckets) in counts {
        *p.requests.entry(key.clone()).or_insert(0) += buckets.iter().sum::<u64>();
    }
    for ((_, total), n) in p.events.iter_mut().zip(events) {
        *total += n;
    }
    p.at = Some(Instant::now());
}

/// The totals as of the last summary.
pub fn published() -> Published {
    PUBLISHED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .unwrap_or_else(|| Published {
            events: Event::ALL.iter().map(|e| (e.name(), 0)).collect(),
            ..Published::default()
        })
}

/// Writes the summary line of what the intake answered since the last one.
pub fn flush() {
    let text = take();
    if !text.is_empty() {
        tracing::info!(counts = %text, "intake summary since the last mix");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_signal_and_a_held_back_form_fall_in_one_bucket() {
        record("POST", "/x-test", 200, Duration::from_millis(3));
        record("POST", "/x-test", 200, Duration::from_micros(400));
        record("POST", "/x-test", 429, Duration::from_micros(90));
        note(Event::HeldBack);
        let text = take();
        assert!(text.contains("POST /x-test 200: 2 (under_1s 2)"), "{text}");
        assert!(text.contains("signals_held_back 1"), "{text}");
        let p = published();
        assert_eq!(
            p.requests.get(&("POST", "/x-test".to_owned(), 200)),
            Some(&2)
        );
        assert!(
            p.events.contains(&("signals_held_back", 1)),
            "{:?}",
            p.events
        );
        assert!(text.contains("POST /x-test 429: 1 (under_1s 1)"), "{text}");
        assert!(!take().contains("/x-test"), "counts are reset");
    }
}
