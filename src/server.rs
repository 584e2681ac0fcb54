//! Starting and stopping the faces: keys, store, limiters, listeners, shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::intake::{self, IntakeState};
use crate::keys::{self, KeysError};
use crate::limits::Limiters;
use crate::review::{self, ReviewState};
use crate::store::{Store, StoreError, StoreOptions};
use crate::web::{self, ServeOptions};

/// Which faces a process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Face {
    /// The public intake only.
    Intake,
    /// The review face only.
    Review,
    /// Both (the default).
    Both,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The stop signals could not be caught.
    #[error("cannot catch SIGTERM and SIGINT: {0}")]
    Signals(String),
    /// A text or question is missing or broken.
    #[error("{0}")]
    Templates(String),
    /// The keys cannot be used.
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// Demo keys for a form that others reach, without `demo = true`.
    #[error("{0}")]
    Demo(String),
    /// The store cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A listener could not be opened.
    #[error("cannot listen on {setting} = {addr}: {reason}")]
    Bind {
        /// The setting naming the address.
        setting: &'static str,
        /// The address.
        addr: std::net::SocketAddr,
        /// What the system said.
        reason: String,
    },
}

/// Checks the embedded texts and questions; run before anything else.
pub fn check_templates() -> Result<(), StartError> {
    crate::views::i18n::check().map_err(StartError::Templates)?;
    crate::signal::questions::check().map_err(StartError::Templates)?;
    crate::views::i18n::check_questions().map_err(StartError::Templates)
}

/// Runs the faces until SIGTERM or Ctrl-C, then shuts down in order: stop
/// accepting, let requests finish, drain the writer.
pub async fn run(config: Config, face: Face) -> Result<(), StartError> {
    let stop_signals =
        StopSignals::install().map_err(|e| StartError::Signals(e.kind().to_string()))?;
    check_templates()?;
    refuse_demo_by_accident(&config, false)?;
    let (team, demo_created) = keys::load_or_make_demo(&config.keys_dir, config.production)?;
    if team.demo {
        refuse_demo_by_accident(&config, true)?;
        announce_demo(&config, demo_created.as_ref());
    }
    // Held until `run` returns: `signaal restore` refuses to replace the
    // database under a running server.
    let _serving = crate::ops::lock::serving(&config.data_dir).map_err(|e| {
        let reason = match e {
            crate::ops::OpsError::Path { problem, .. } => problem,
            other => other.to_string(),
        };
        StartError::Store(StoreError::DataDir {
            path: config.data_dir.clone(),
            reason,
        })
    })?;
    let store = Store::open_with(
        &config.data_dir,
        StoreOptions {
            max_bytes: (config.max_db_mib > 0).then(|| config.max_db_mib * 1024 * 1024),
            precision: config.received_precision,
        },
    )?;
    if face != Face::Review {
        // What an earlier process left unmixed (after a crash, say) is mixed
        // before the first visitor is let in.
        if let Err(e) = store.mix().await {
            tracing::error!(error = %e, "the mix at start failed; it runs again at the next interval");
        }
    }
    let probe = crate::health::Probe::new(
        store.clone(),
        config.data_dir.clone(),
        config.keys_dir.clone(),
    );
    let config = Arc::new(config);
    let limiters = Arc::new(Limiters::new(&config.limits));
    let (stop_tx, stop_rx) = watch::channel(false);
    let options = ServeOptions {
        max_connections: config.max_connections,
        max_per_client: config
            .max_connections_per_client
            .min(config.max_connections),
        header_timeout: Duration::from_secs(config.header_timeout_secs),
        proxy_protocol: false,
        // The intake counts what it refuses before routing, as it counts
        // its requests; the other listeners log it.
        refused: web::log_refusal,
    };
    let intake_options = ServeOptions {
        refused: crate::summary::refused,
        ..options
    };
    let clients = web::Clients {
        limiters: Arc::clone(&limiters),
        trusted: Arc::new(config.trusted_proxies.clone()),
    };

    let mut tasks = Vec::new();
    if face != Face::Review {
        let app = intake::router(IntakeState {
            store: store.clone(),
            team: Arc::new(team.clone()),
            limiters: Arc::clone(&limiters),
            config: Arc::clone(&config),
        })
        .merge(crate::health::router(Arc::clone(&probe)))
        .layer(axum::middleware::from_fn(crate::summary::count));
        let listener = bind("intake_addr", config.intake_addr).await?;
        let tor = match config.tor_addr {
            Some(addr) => Some(bind("tor_addr", addr).await?),
            None => None,
        };
        announce("intake", &listener);
        tasks.push(tokio::spawn(web::serve(
            listener,
            app.clone(),
            intake_options,
            clients.clone(),
            stop_rx.clone(),
        )));
        if let Some(listener) = tor {
            // The same intake, for the onion service: each connection starts
            // with Tor's PROXY header, and each circuit is a client.
            announce("tor", &listener);
            let options = ServeOptions {
                proxy_protocol: true,
                ..intake_options
            };
            let clients = web::Clients {
                trusted: Arc::new(Vec::new()),
                ..clients.clone()
            };
            tasks.push(tokio::spawn(web::serve(
                listener,
                app,
                options,
                clients,
                stop_rx.clone(),
            )));
        }
    }
    let mut review_state = None;
    if face != Face::Intake {
        let listener = bind("review_addr", config.review_addr).await?;
        let bound = listener.local_addr().unwrap_or(config.review_addr);
        let state = ReviewState::new(store.clone(), &team, &config).listening_on(bound, &config);
        review_state = Some(state.clone());
        let app = review::router(state).merge(crate::health::router(Arc::clone(&probe)));
        announce("review", &listener);
        tasks.push(tokio::spawn(web::serve(
            listener,
            app,
            options,
            clients.clone(),
            stop_rx.clone(),
        )));
    }
    // The counters are the intake's, published by the process that mixes:
    // in the split units the review-only process opens no metrics listener.
    if let Some(addr) = config.metrics_addr.filter(|_| face != Face::Review) {
        let listener = bind("metrics_addr", addr).await?;
        crate::metrics::sample_size(store.path());
        let app = crate::metrics::router(crate::metrics::MetricsState {
            store: store.clone(),
        })
        .layer(axum::middleware::from_fn(web::security_headers));
        announce("metrics", &listener);
        tasks.push(tokio::spawn(web::serve(
            listener,
            app,
            options,
            clients.clone(),
            stop_rx.clone(),
        )));
    }
    let systemd = crate::config::Systemd::from_env();
    crate::health::notify_ready(&systemd);
    tokio::spawn(crate::health::watchdog(
        systemd,
        Arc::clone(&probe),
        stop_rx.clone(),
    ));
    tokio::spawn(maintain_limiters(Arc::clone(&limiters), stop_rx.clone()));
    // The process that takes signals in mixes them; a review-only process
    // leaves that to it (two mixers would undo each other's work).
    let mixer = (face != Face::Review).then(|| {
        tokio::spawn(mix_every(
            store.clone(),
            Duration::from_secs(config.mix_interval_secs),
            stop_rx.clone(),
        ))
    });
    if face != Face::Intake {
        // Retention runs where the review face runs: with two processes, the
        // intake does nothing but take signals in.
        tokio::spawn(apply_retention_daily(Arc::clone(&config), stop_rx.clone()));
    }

    stop_signals.wait().await;
    tracing::info!("shutting down: finishing open requests");
    crate::health::notify_stopping(&systemd);
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    if let Some(state) = review_state {
        state.stop().await;
    }
    if let Some(mixer) = mixer {
        let _ = mixer.await;
        // A clean stop mixes what arrived since the last mix before the writer goes.
        store.close_mixed().await;
    } else {
        let closing = store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            closing.log_audit_head();
            closing.close();
        })
        .await;
    }
    crate::summary::flush();
    tracing::info!("stopped");
    Ok(())
}

/// Demo keys only for a form on this machine, unless `demo = true` says a
/// demonstration elsewhere is meant: a typo in `keys_dir` must not quietly
/// make demo keys (and print their passphrase) for a form people use.
/// Before the keys are loaded (`in_use` false) a missing `team.pub` is
/// refused; after, demo keys an earlier run made.
fn refuse_demo_by_accident(config: &Config, in_use: bool) -> Result<(), StartError> {
    if config.demo || config.production || config.public_url_is_loopback() {
        return Ok(());
    }
    let team_pub = keys::team_pub_path(&config.keys_dir);
    let fix = "make the team's keys as keys/README.md says (or fix keys_dir / SIGNAAL_KEYS_DIR), \
               or set demo = true (SIGNAAL_DEMO=true) if a demonstration is meant";
    if in_use {
        return Err(StartError::Demo(format!(
            "{} holds demo keys, and public_url {} is not an address of this machine: {fix}",
            team_pub.display(),
            config.public_url
        )));
    }
    if !team_pub.exists() {
        return Err(StartError::Demo(format!(
            "{} does not exist, and public_url {} is not an address of this machine, so no demo \
             keys are made: {fix}",
            team_pub.display(),
            config.public_url
        )));
    }
    Ok(())
}

async fn bind(
    setting: &'static str,
    addr: std::net::SocketAddr,
) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|e| StartError::Bind {
        setting,
        addr,
        reason: e.kind().to_string(),
    })
}

fn announce(face: &str, listener: &TcpListener) {
    if let Ok(addr) = listener.local_addr() {
        // The contract: tests and operators wait for exactly this line.
        println!("{face} listening on http://{addr}");
    }
}

fn announce_demo(config: &Config, created: Option<&keys::DemoCreated>) {
    let keys_dir = config.keys_dir.display();
    eprintln!("==============================================================");
    eprintln!(" DEMO MODE: signaal is using demo keys from {keys_dir}.");
    eprintln!(" Never use this installation for real signals.");
    match created {
        Some(c) => {
            eprintln!(" Demo reviewer:   demo");
            eprintln!(" Its passphrase:  {}", c.passphrase.as_str());
            eprintln!(" (shown this once; delete {keys_dir}/team.pub and");
            eprintln!("  {keys_dir}/reviewers/demo.age to make new demo keys)");
        }
        None => {
            eprintln!(" Demo reviewer: demo (its passphrase was shown when it was made;");
            eprintln!(" delete {keys_dir}/team.pub and reviewers/demo.age for new ones)");
        }
    }
    eprintln!("==============================================================");
}

async fn maintain_limiters(limiters: Arc<Limiters>, mut stop: watch::Receiver<bool>) {
    let mut trim = tokio::time::interval(Duration::from_secs(60));
    let mut rotate = tokio::time::interval(Duration::from_secs(24 * 3600));
    rotate.tick().await;
    loop {
        tokio::select! {
            _ = trim.tick() => limiters.trim(),
            _ = rotate.tick() => limiters.rotate_secret(),
            () = web::stopped(&mut stop) => return,
        }
    }
}

/// Mixes every `interval` (the start has mixed already) and writes the
/// intake's summary after each mix. Stops between two mixes.
async fn mix_every(store: Store, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = web::stopped(&mut stop) => return,
        }
        match store.mix().await {
            Ok(m) => tracing::debug!(moved = m.moved, rebuilt = m.rebuilt, "mixed"),
            Err(e) => {
                tracing::error!(error = %e, "the mix failed; it runs again at the next interval")
            }
        }
        crate::metrics::sample_size(store.path());
        crate::summary::flush();
    }
}

/// How often retention runs after the run at start.
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Applies the retention settings at start and then once a day.
async fn apply_retention_daily(config: Arc<Config>, stop: watch::Receiver<bool>) {
    if config.retention.limits().is_empty() {
        return;
    }
    at_start_and_every(RETENTION_EVERY, stop, || {
        apply_retention(Arc::clone(&config))
    })
    .await;
}

/// Runs `job` at once and then every `period`, until `stop` says so.
async fn at_start_and_every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = web::stopped(&mut stop) => return,
        }
        job().await;
    }
}

/// One retention run, with the day it runs on as "today".
async fn apply_retention(config: Arc<Config>) {
    let outcome = tokio::task::spawn_blocking(move || {
        let today = time::OffsetDateTime::now_utc().date();
        crate::ops::purge::purge(&config.data_dir, &config.retention, today, "(retention)")
    })
    .await;
    match outcome {
        Ok(Ok(p)) if p.signals > 0 => {
            tracing::info!(
                signals = p.signals,
                "retention: purged signals past their period"
            );
        }
        Ok(Ok(_)) => tracing::debug!("retention: nothing to purge"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "retention: the purge failed; try signaal purge")
        }
        Err(_) => tracing::error!("retention: the purge stopped unexpectedly"),
    }
}

/// SIGTERM and SIGINT, caught from the first moment of `run`: a stop request
/// that arrives while the listeners are still opening must still shut down
/// cleanly, not kill the process by the signal's default action.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.int.recv() => {},
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Lets the spawned loop run until it waits for its timer again.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retention_runs_at_start_and_then_once_every_day_until_the_stop() {
        // A day on the clock, not the constant under test: a period of a
        // week would otherwise pass as "daily".
        const DAY: Duration = Duration::from_secs(24 * 3600);
        let runs = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = watch::channel(false);
        let counted = Arc::clone(&runs);
        let task = tokio::spawn(at_start_and_every(RETENTION_EVERY, stop_rx, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        }));
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "at start");
        tokio::time::advance(DAY - Duration::from_secs(1)).await;
        settle().await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "not before a day has passed"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "a day after the start");
        tokio::time::advance(DAY).await;
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "and the day after");
        stop_tx.send(true).unwrap();
        task.await.unwrap();
        tokio::time::advance(DAY * 3).await;
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "nothing after the stop");
    }
}
