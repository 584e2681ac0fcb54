//! Health: `GET /healthz` on both faces, and systemd's readiness and
//! watchdog notifications.
//!
//! Invariant: the answer is a bare "ok" (200) or "unavailable" (503) and
//! nothing more — no version, no count, no reason — and a probe writes
//! nothing that stays: its database write is rolled back before the group
//! commit, and its file in the data folder is removed. Probes run at most
//! once a second however often the address is asked, so `/healthz` cannot be
//! used to make the server sync its disk in a loop.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{Mutex, watch};

use crate::store::Store;

/// How long one probe's answer is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// A probe that takes longer than this counts as failed.
const PATIENCE: Duration = Duration::from_secs(5);
/// A writer or reader that has not answered in this long is hung (its lock
/// waits end after 5 seconds with "busy").
const HANG: Duration = Duration::from_secs(30);
/// The file a probe writes and removes in the data folder.
const PROBE_FILE: &str = ".signaal-health-probe";

/// What a probe looks at, and its last answer.
#[derive(Debug)]
pub struct Probe {
    store: Store,
    data_dir: PathBuf,
    keys_dir: PathBuf,
    last: Mutex<Option<(Instant, bool)>>,
}

impl Probe {
    /// A probe of this store, data folder and keys folder.
    pub fn new(store: Store, data_dir: PathBuf, keys_dir: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            store,
            data_dir,
            keys_dir,
            last: Mutex::new(None),
        })
    }

    /// Whether the store accepts a write and the keys load (the answer of
    /// the last second, or a new probe).
    pub async fn healthy(&self) -> bool {
        // Held across the probe: requests that arrive meanwhile share it.
        let mut last = self.last.lock().await;
        if let Some((at, healthy)) = *last {
            if at.elapsed() < FRESH_FOR {
                return healthy;
            }
        }
        let healthy = tokio::time::timeout(PATIENCE, self.probe())
            .await
            .unwrap_or(false);
        *last = Some((Instant::now(), healthy));
        healthy
    }

    async fn probe(&self) -> bool {
        if crate::keys::load_team(&self.keys_dir).is_err() {
            return false;
        }
        let dir = self.data_dir.clone();
        let disk = tokio::task::spawn_blocking(move || disk_accepts_a_write(&dir)).await;
        if !matches!(disk, Ok(true)) {
            return false;
        }
        // Through the one writer, inside its group transaction: the pages a
        // signal would need are allocated (a full database or a size ceiling
        // refuses), then the savepoint is rolled back, so nothing is committed.
        self.store
            .write(|c| {
                c.execute_batch("SAVEPOINT health")?;
                let wrote = c.execute(
                    "INSERT INTO meta (key, value) VALUES ('health-probe', zeroblob(16384))",
                    [],
                );
                c.execute_batch("ROLLBACK TO health; RELEASE health")?;
                wrote.map(drop)
            })
            .await
            .is_ok()
    }

    /// Whether the process is alive enough to be left running: the runtime
    /// runs this, and the writer thread and a reader answer — with anything,
    /// even "busy" (a purge's VACUUM may hold the write lock a while; that is
    /// the health check's business, not a reason to restart).
    async fn alive(&self) -> bool {
        let write = self.store.write(|_| Ok(()));
        let read = self
            .store
            .read(|c| c.query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0)));
        tokio::time::timeout(HANG, async { (write.await, read.await) })
            .await
            .is_ok()
    }
}

/// Writes, syncs and removes a small file in the data folder: fails when the
/// file system is read-only or full.
fn disk_accepts_a_write(dir: &std::path::Path) -> bool {
    use std::io::Write;
    let path = dir.join(PROBE_FILE);
    let wrote = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(&[0u8; 4096])?;
        f.sync_all()
    });
    let removed = std::fs::remove_file(&path);
    wrote.is_ok() && removed.is_ok()
}

/// The `/healthz` route, with the security headers of every response.
pub fn router(probe: Arc<Probe>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(probe)
        .layer(axum::middleware::from_fn(crate::web::security_headers))
}

async fn healthz(State(probe): State<Arc<Probe>>) -> Response {
    let (status, body) = if probe.healthy().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Tells systemd (`Type=notify`) that the faces accept connections.
pub fn notify_ready(systemd: &crate::config::Systemd) {
    if systemd.notify {
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
            tracing::warn!(error = %e, "cannot tell systemd that signaal is ready");
        }
    }
}

/// Tells systemd that signaal is stopping.
pub fn notify_stopping(systemd: &crate::config::Systemd) {
    if systemd.notify {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    }
}

/// Pings systemd's watchdog (`WatchdogSec=`) twice per interval, but only
/// while the process is alive: a process whose runtime or database hangs
/// stops pinging and is restarted.
pub async fn watchdog(
    systemd: crate::config::Systemd,
    probe: Arc<Probe>,
    mut stop: watch::Receiver<bool>,
) {
    let Some(interval) = systemd.watchdog.filter(|_| systemd.notify) else {
        return;
    };
    let mut tick = tokio::time::interval(interval / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = crate::web::stopped(&mut stop) => return,
        }
        if probe.alive().await {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        } else {
            tracing::error!("the database does not answer; the watchdog ping is withheld");
        }
    }
}
