//! The optional metrics listener (`metrics_addr`, loopback only): counters and
//! gauges in the Prometheus text format, for an operator's monitoring.
//!
//! Invariant: nothing here can date a sender. The counters are the intake's
//! summary (`crate::summary`), published once per mix interval as running
//! totals, so a scraper sees them move at most once per interval, however often
//! it polls; there are no per-request times or histograms; the gauges are the
//! database's size (measured right after each mix, when the WAL is empty: the
//! WAL grows with every commit, so a size read at each scrape would date each
//! signal to the scrape interval) and the age of the last mix and of the last
//! backup.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::store::Store;

/// What the metrics page reads.
#[derive(Clone, Debug)]
pub struct MetricsState {
    /// The store, for the time of the last backup.
    pub store: Store,
}

/// The database's size as measured after the last mix (see [`sample_size`]).
static DATABASE_BYTES: AtomicU64 = AtomicU64::new(0);

/// Measures the database file and its WAL for the size gauge; called right
/// after each mix (and the one at start), never per request.
pub fn sample_size(db: &Path) {
    let [file, wal, _] = crate::store::database_files(db);
    let bytes = [file, wal]
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    DATABASE_BYTES.store(bytes, Ordering::Relaxed);
}

/// `GET /metrics` and nothing else.
pub fn router(state: MetricsState) -> Router {
    Router::new().route("/metrics", get(page)).with_state(state)
}

async fn page(State(state): State<MetricsState>) -> impl IntoResponse {
    let last_backup = state.store.last_backup().await.ok().flatten();
    let text = render(
        &crate::summary::published(),
        DATABASE_BYTES.load(Ordering::Relaxed),
        last_backup,
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// The page: every counter as of the last summary, and the gauges now.
/// `last_backup` is the Unix time of the last `signaal backup`.
pub fn render(p: &crate::summary::Published, db_bytes: u64, last_backup: Option<i64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP signaal_requests_total Requests the intake answered, by route and status (published after each mix).\n# TYPE signaal_requests_total counter"
    );
    for ((method, route, status), n) in &p.requests {
        let _ = writeln!(
            out,
            "signaal_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
            route.replace(['\\', '"', '\n'], "_")
        );
    }
    // The refusals by reason, and the rate-limited among them, summed from
    // the same counts, so an alert needs no query over statuses.
    let mut refused: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for ((_, _, status), n) in &p.requests {
        if let Some(reason) = refusal(*status) {
            *refused.entry(reason).or_default() += n;
        }
    }
    let _ = writeln!(
        out,
        "# HELP signaal_refused_total Requests the intake refused, by reason (published after each mix).\n# TYPE signaal_refused_total counter"
    );
    for (reason, n) in &refused {
        let _ = writeln!(out, "signaal_refused_total{{reason=\"{reason}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP signaal_rate_limited_total Requests a limit turned away (published after each mix).\n# TYPE signaal_rate_limited_total counter\nsignaal_rate_limited_total {}",
        refused.get("rate_limited").copied().unwrap_or(0)
    );
    for (name, n) in &p.events {
        let _ = writeln!(
            out,
            "# HELP signaal_{name}_total Published after each mix.\n# TYPE signaal_{name}_total counter\nsignaal_{name}_total {n}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP signaal_database_bytes The database file and its WAL, after the last mix.\n# TYPE signaal_database_bytes gauge\nsignaal_database_bytes {db_bytes}"
    );
    if let Some(at) = p.at {
        let _ = writeln!(
            out,
            "# HELP signaal_last_mix_age_seconds Since the last mix.\n# TYPE signaal_last_mix_age_seconds gauge\nsignaal_last_mix_age_seconds {}",
            at.elapsed().as_secs()
        );
    }
    if let Some(at) = last_backup {
        let age = time::OffsetDateTime::now_utc().unix_timestamp() - at;
        let _ = writeln!(
            out,
            "# HELP signaal_last_backup_age_seconds Since the last signaal backup.\n# TYPE signaal_last_backup_age_seconds gauge\nsignaal_last_backup_age_seconds {}",
            age.max(0)
        );
    }
    out
}

/// Why a request with `status` was refused, or `None` for an answer.
fn refusal(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "bad_request",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        413 => "too_large",
        414 | 431 => "too_long",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "unavailable",
        other if (400..=499).contains(&other) => "other_client",
        other if (500..=599).contains(&other) => "other_server",
        _ => return None,
    })
}
