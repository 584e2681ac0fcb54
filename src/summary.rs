//! The intake's log: counts, never moments.
//!
//! A log line per request would carry the second at which a sender stored a
//! signal, looked up a code or wrote a message; joined with a proxy's log of
//! the same second, it would point at the sender. So the intake writes no line
//! per request. Each request is counted by route, status and a coarse latency
//! bucket, and the counts are written as one summary line after each mix
//! (at most once per `mix_interval_secs`) and at a clean stop, then reset.
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
/// counted), and resets them.
pub fn take() -> String {
    let counts = std::mem::take(&mut *COUNTS.lock().unwrap_or_else(PoisonError::into_inner));
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
    out.trim_end_matches("; ").to_owned()
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
        let text = take();
        assert!(text.contains("POST /x-test 200: 2 (under_1s 2)"), "{text}");
        assert!(text.contains("POST /x-test 429: 1 (under_1s 1)"), "{text}");
        assert!(!take().contains("/x-test"), "counts are reset");
    }
}
