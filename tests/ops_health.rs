//! Health: `/healthz` on both faces says a bare "ok" while the store accepts
//! a write and the keys load, and 503 when the database is read-only or full;
//! under systemd (`Type=notify`) signaal says when it is ready and pings the
//! watchdog while it lives, and withholds the ping while its database hangs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey};

async fn healthz(base: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let res = common::client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

/// `/healthz` until it answers `want` (a probe's answer is reused for a second).
async fn healthz_becomes(base: &str, want: u16) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body, _) = healthz(base).await;
        if status == want || Instant::now() > deadline {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn team_server(env: &[(&str, &str)]) -> Server {
    Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn both_faces_say_a_bare_ok_with_the_security_headers_and_write_nothing() {
    let server = team_server(&[]);
    let before = server.signal_count();
    for base in [&server.intake, &server.review] {
        let (status, body, headers) = healthz(base).await;
        assert_eq!((status, body.as_str()), (200, "ok"), "{base}");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.contains_key("content-security-policy"));
        assert!(!headers.contains_key("server"));
    }
    // Asked a hundred times, it probes at most once a second.
    let started = Instant::now();
    for _ in 0..100 {
        assert_eq!(healthz(&server.intake).await.0, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.signal_count(), before);
    let probe_left = std::fs::read_dir(server.data_dir())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("health"));
    assert!(!probe_left, "the probe left a file in the data folder");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_database_answers_503_while_the_form_says_nothing_was_kept() {
    let server = team_server(&[
        ("SIGNAAL_MAX_DB_MIB", "1"),
        ("SIGNAAL_SUBMIT_BURST", "100000"),
        ("SIGNAAL_SUBMIT_PER_HOUR", "100000"),
        ("SIGNAAL_GLOBAL_PER_SECOND", "100000"),
    ]);
    assert_eq!(healthz(&server.intake).await.0, 200);
    let client = common::client();
    let text = "a long account of what happened ".repeat(40);
    let mut refused = false;
    for _ in 0..5000 {
        let (status, _) = common::submit(&client, &server, &[("situation", &text)]).await;
        if status != 200 {
            refused = true;
            break;
        }
    }
    assert!(refused, "a 1 MiB database never filled up");
    for base in [&server.intake, &server.review] {
        let (status, body) = healthz_becomes(base, 503).await;
        assert_eq!((status, body.as_str()), (503, "unavailable"), "{base}");
    }
}

/// Makes files read-only for this process: `chattr +i` as root (whom file
/// modes do not stop), `chmod a-w` otherwise.
struct ReadOnly(Vec<PathBuf>, bool);

impl ReadOnly {
    fn make(paths: Vec<PathBuf>) -> Self {
        let root = rustix::process::geteuid().is_root();
        for path in &paths {
            if root {
                let ok = Command::new("chattr")
                    .arg("+i")
                    .arg(path)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "chattr +i {} failed", path.display());
            } else {
                set_mode(path, 0o500);
            }
        }
        Self(paths, root)
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        for path in &self.0 {
            if self.1 {
                let _ = Command::new("chattr").arg("-i").arg(path).status();
            } else {
                set_mode(path, 0o700);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_data_folder_answers_503_and_ok_again_once_it_is_writable() {
    let server = team_server(&[]);
    assert_eq!(healthz(&server.review).await.0, 200);
    let data = server.data_dir();
    let mut paths = vec![data.clone()];
    if rustix::process::geteuid().is_root() {
        for name in ["signaal.db", "signaal.db-wal", "signaal.db-shm"] {
            if data.join(name).exists() {
                paths.push(data.join(name));
            }
        }
    }
    let read_only = ReadOnly::make(paths);
    for base in [&server.intake, &server.review] {
        let (status, body) = healthz_becomes(base, 503).await;
        assert_eq!((status, body.as_str()), (503, "unavailable"), "{base}");
    }
    drop(read_only);
    let (status, body) = healthz_becomes(&server.intake, 200).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

/// Receives what signaal tells systemd, for `within`.
fn notifications(socket: &UnixDatagram, within: Duration) -> Vec<(Instant, String)> {
    let mut out = Vec::new();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match socket.recv(&mut buf) {
            Ok(n) => out.push((
                Instant::now(),
                String::from_utf8_lossy(&buf[..n]).into_owned(),
            )),
            Err(_) => break,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn under_systemd_it_says_ready_pings_the_watchdog_and_says_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let mut server = team_server(&[
        ("NOTIFY_SOCKET", path.to_str().unwrap()),
        ("WATCHDOG_USEC", "600000"),
    ]);
    let heard = notifications(&socket, Duration::from_millis(2500));
    let ready = heard.iter().position(|(_, m)| m.contains("READY=1"));
    assert!(ready.is_some(), "no READY=1: {heard:?}");
    let pings: Vec<Instant> = heard
        .iter()
        .filter(|(_, m)| m.contains("WATCHDOG=1"))
        .map(|(at, _)| *at)
        .collect();
    assert!(pings.len() >= 3, "too few watchdog pings: {heard:?}");
    for pair in pings.windows(2) {
        assert!(
            pair[1] - pair[0] < Duration::from_millis(600),
            "a gap longer than WatchdogSec between pings: {heard:?}"
        );
    }
    assert!(server.stop().success());
    let heard = notifications(&socket, Duration::from_millis(500));
    assert!(
        heard.iter().any(|(_, m)| m.contains("STOPPING=1")),
        "no STOPPING=1: {heard:?}"
    );

    // A watchdog meant for another process is not this one's.
    let socket2_path = dir.path().join("notify2.sock");
    let socket2 = UnixDatagram::bind(&socket2_path).unwrap();
    let _other = team_server(&[
        ("NOTIFY_SOCKET", socket2_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "600000"),
        ("WATCHDOG_PID", "1"),
    ]);
    let heard = notifications(&socket2, Duration::from_millis(1500));
    assert!(
        heard.iter().any(|(_, m)| m.contains("READY=1")),
        "{heard:?}"
    );
    assert!(
        !heard.iter().any(|(_, m)| m.contains("WATCHDOG=1")),
        "{heard:?}"
    );
}

/// The watchdog's hang path: while the database does not answer (here
/// every sync of its WAL takes five seconds, as a failing disk's would), the
/// pings stop, so systemd (`WatchdogSec=`) restarts the process; once it
/// answers again they come back, and the signal that waited is stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_hangs_withholds_the_watchdog_ping_until_it_answers_again() {
    if !common::strace_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let start = |inject: String| {
        Server::start_with(Options {
            team: vec![TeamKey::generate().recipient()],
            env: vec![
                ("NOTIFY_SOCKET".into(), path.to_str().unwrap().into()),
                ("WATCHDOG_USEC".into(), "600000".into()),
            ],
            strace: Some(inject),
            ..Options::default()
        })
    };
    // strace counts syncs per thread: past the most any thread makes while
    // the server starts (the migrations, the writer's first commits), each
    // sync takes five seconds.
    let mut first = start("delay_exit=1".into());
    let _ = notifications(&socket, Duration::from_millis(1500));
    let mut per_thread = std::collections::HashMap::<u32, usize>::new();
    for sync in first.wal_syncs() {
        *per_thread.entry(sync.thread).or_default() += 1;
    }
    let most = per_thread.values().copied().max().unwrap_or(0);
    assert!(first.stop().success());
    let server = start(format!("delay_exit=5000000:when={}+", most + 1));
    let pings = |heard: &[(Instant, String)]| -> Vec<Instant> {
        heard
            .iter()
            .filter(|(_, m)| m.contains("WATCHDOG=1"))
            .map(|(at, _)| *at)
            .collect()
    };
    // Nothing is written: the pings come twice per interval.
    let calm = pings(&notifications(&socket, Duration::from_millis(1500)));
    assert!(calm.len() >= 3, "too few pings while calm: {calm:?}");
    for pair in calm.windows(2) {
        assert!(pair[1] - pair[0] < Duration::from_millis(600), "{calm:?}");
    }

    // Signals are sent one after another until a commit hangs in its sync,
    // and the writer with it.
    let client = common::client();
    let intake = server.intake.clone();
    let started = Instant::now();
    let sending = tokio::spawn(async move {
        for _ in 0..50 {
            let sent = Instant::now();
            let res = client
                .post(format!("{intake}/signal"))
                .form(&[("situation", "De peildatum pakt hard uit.")])
                .send()
                .await
                .unwrap();
            let answered = Instant::now();
            if answered - sent >= Duration::from_secs(4) {
                return Some((res.status().as_u16(), sent, answered));
            }
        }
        None
    });
    let heard =
        tokio::task::spawn_blocking(move || notifications(&socket, Duration::from_secs(16)))
            .await
            .unwrap();
    let during = pings(&heard);
    let (status, sent, answered) = sending.await.unwrap().expect("no commit hung in its sync");
    assert_eq!(status, 200, "the signal that waited is stored");
    let rel = |t: &Instant| t.saturating_duration_since(started);
    println!(
        "the hung submission: sent at {:?}, answered at {:?}; pings at {:?}",
        rel(&sent),
        rel(&answered),
        during.iter().map(rel).collect::<Vec<_>>()
    );
    // No ping while the writer hung: none between shortly after the send
    // and shortly before the answer.
    let hung: Vec<&Instant> = during
        .iter()
        .filter(|p| {
            **p > sent + Duration::from_millis(700) && **p + Duration::from_millis(700) < answered
        })
        .collect();
    assert!(
        hung.is_empty(),
        "the watchdog was pinged while the database hung: {:?}",
        hung.iter().map(|p| rel(p)).collect::<Vec<_>>()
    );
    // And back once it answers.
    let after = during.iter().filter(|p| **p > answered).count();
    assert!(after >= 2, "no pings after the database answered");
    assert!(
        server
            .wal_syncs()
            .iter()
            .any(|s| s.result.contains("DELAYED")),
        "{:?}",
        server.wal_syncs()
    );
}
