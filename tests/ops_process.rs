//! The serving process: the intake runs with nothing but `team.pub` and the
//! database, dumps no core, and on SIGTERM finishes what it acknowledged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::time::Duration;

use common::{Options, Server, TeamKey};
use ops_support::{db, signal_of};

fn team_server(args: &[&str]) -> (Server, TeamKey) {
    let team = TeamKey::generate();
    let server = Server::start_with(Options {
        team: vec![team.recipient()],
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Options::default()
    });
    (server, team)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_intake_process_serves_without_a_readable_reviewers_folder() {
    // The reviewers folder is replaced by a file of garbage: anything that
    // tried to list or read it would fail. The intake process never does.
    let team = TeamKey::generate();
    let server = Server::start_with(Options {
        team: vec![team.recipient()],
        args: vec!["--face".into(), "intake".into()],
        ..Options::default()
    });
    let reviewers = server.keys_dir().join("reviewers");
    let _ = std::fs::remove_dir_all(&reviewers);
    std::fs::write(&reviewers, b"\x00\xffnot a folder").unwrap();
    let mut server = server;
    server.restart();
    assert!(
        server.review.is_empty(),
        "the intake process opened the review face"
    );
    let receipts = ops_support::submit_many(&server, 2, "intake only").await;
    let conn = db(&server.data_dir().join("signaal.db"));
    for r in &receipts {
        let id = signal_of(&conn, r).unwrap();
        let env: Vec<u8> = conn
            .query_row(
                "SELECT envelope FROM all_signals WHERE id = ?1",
                [&id],
                |row| row.get(0),
            )
            .unwrap();
        assert!(signaal::crypto::open(&env, &[&team.identity]).is_ok());
    }
    let keys: Vec<String> = std::fs::read_dir(server.keys_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !keys.iter().any(|k| k.ends_with(".age")),
        "the intake wrote keys: {keys:?}"
    );
    assert!(server.stop().success(), "{}", server.output());
}

/// Reads `path` as a process of user `uid` would: with that user's rights
/// (as root, through `cat` started as that user).
fn read_as(uid: Option<u32>, path: &str) -> bool {
    match uid {
        None => std::fs::read(path).is_ok(),
        Some(uid) => {
            use std::os::unix::process::CommandExt;
            let mut cat = std::process::Command::new("cat");
            cat.arg(path).uid(uid).gid(uid);
            common::output_within(&mut cat, None, common::DEADLINE)
                .status
                .success()
        }
    }
}

/// The kit finds, signals and stops its server as an ordinary user, whose
/// rights stop at a non-dumpable process's /proc files: a PID looked up
/// there, instead of taken from the child handle, works only for root. As
/// root, this very test runs again as an unprivileged user.
#[test]
fn the_kit_signals_and_stops_its_server_as_an_unprivileged_user() {
    if rustix::process::getuid().is_root() {
        use std::os::unix::process::CommandExt;
        let mut again = std::process::Command::new(std::env::current_exe().unwrap());
        again
            .args([
                "the_kit_signals_and_stops_its_server_as_an_unprivileged_user",
                "--exact",
                "--test-threads=1",
            ])
            .env("TMPDIR", "/tmp")
            .env("HOME", "/tmp")
            .uid(65534)
            .gid(65534);
        let out = common::output_within(&mut again, None, common::DEADLINE);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.contains("1 passed"),
            "as uid 65534:\n{said}"
        );
        return;
    }
    let mut server = Server::start();
    let pid = server.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("signaal"), "{status}");
    assert!(server.stop().success(), "{}", server.output());
    assert!(server.output().contains("stopped"), "{}", server.output());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_serving_process_can_not_dump_core() {
    // Root may read any process: then the server runs as an unprivileged
    // user, and that user is the one who must not read it.
    let uid = rustix::process::getuid().is_root().then_some(65534);
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        uid,
        ..Options::default()
    });
    let pid = server.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let runs_as: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap();
    let user = uid.unwrap_or_else(|| rustix::process::getuid().as_raw());
    assert_eq!(runs_as, user, "{status}");
    // No core file, however it ends: the limit is 0, soft and hard.
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    // Not dumpable: the kernel keeps even its own user out of its memory and
    // environment (proc(5), PR_SET_DUMPABLE).
    assert!(
        !read_as(uid, &format!("/proc/{pid}/environ")),
        "a process of the same user reads the server's environment"
    );
    // … which it could for an ordinary process of that user.
    let mut control = std::process::Command::new("sleep");
    control.arg("60");
    if let Some(uid) = uid {
        use std::os::unix::process::CommandExt;
        control.uid(uid).gid(uid);
    }
    let mut control = control.spawn().unwrap();
    let readable = read_as(uid, &format!("/proc/{}/environ", control.id()));
    control.kill().unwrap();
    control.wait().unwrap();
    assert!(
        readable,
        "the check cannot tell: an ordinary process is unreadable too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_sigterm_every_acknowledged_signal_is_kept_and_the_process_exits_cleanly() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;
    let (server, _) = team_server(&[]);
    let server = std::sync::Arc::new(server);
    // (sent, answered, receipt) of every acknowledged submission.
    let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stopping = std::sync::Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for s in 0..16 {
        let (server, answered) = (
            std::sync::Arc::clone(&server),
            std::sync::Arc::clone(&answered),
        );
        let stopping = std::sync::Arc::clone(&stopping);
        senders.push(tokio::spawn(async move {
            let client = common::client();
            for i in 0.. {
                let sent = common::epoch_now();
                let res = client
                    .post(format!("{}/signal", server.intake))
                    .form(&[("situation", format!("shutdown {s}-{i}"))])
                    .send()
                    .await;
                let receipt = match res {
                    Ok(r) if r.status() == 200 => {
                        r.text().await.ok().and_then(|p| common::receipt_in(&p))
                    }
                    _ => None,
                };
                match receipt {
                    Some(receipt) => {
                        answered
                            .lock()
                            .unwrap()
                            .push((sent, common::epoch_now(), receipt))
                    }
                    // Refused or cut off: only once the stop has begun.
                    None => {
                        assert!(stopping.load(Ordering::SeqCst), "refused before the stop");
                        return;
                    }
                }
            }
        }));
    }
    // Under load: every sender has had answers and has another request out.
    let deadline = Instant::now() + common::DEADLINE;
    while answered.lock().unwrap().len() < 48 {
        assert!(Instant::now() < deadline, "no load:\n{}", server.output());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // And four requests surely in the server's hands: their handlers are
    // reading their bodies when the signal comes.
    let addr = server.intake.trim_start_matches("http://").to_owned();
    let mut half_sent = Vec::new();
    for i in 0..4 {
        half_sent.push(HalfSent::start(&addr, &format!("half sent {i}")).await);
    }
    stopping.store(true, Ordering::SeqCst);
    server.signal(rustix::process::Signal::TERM);
    let mut heard_out = Vec::new();
    for sending in half_sent {
        let reply = sending.finish().await;
        assert!(
            reply.starts_with("HTTP/1.1 200"),
            "a request in flight was dropped: {reply}"
        );
        heard_out.push(common::receipt_in(&reply).unwrap());
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let mut server = std::sync::Arc::into_inner(server).unwrap();
    let status = tokio::task::block_in_place(|| server.wait());
    assert!(status.success(), "{status:?}\n{}", server.output());
    let log = server.output();
    assert!(
        log.contains("shutting down: finishing open requests"),
        "{log}"
    );
    assert!(log.contains("stopped"), "{log}");
    // In flight: sent before the server said it was stopping, and answered
    // after (both on the wall clock that the server's log uses).
    let stopping_at = common::logged_at(&log, "shutting down").unwrap();
    let answered = answered.lock().unwrap().clone();
    let in_flight = answered
        .iter()
        .filter(|(sent, done, _)| *sent < stopping_at && *done > stopping_at)
        .count();
    eprintln!(
        "{} submissions acknowledged, {in_flight} of them in flight when the stop began",
        answered.len()
    );
    assert!(in_flight > 0, "nothing was in flight when the stop began");
    let conn = db(&server.data_dir().join("signaal.db"));
    for r in answered.iter().map(|(_, _, r)| r).chain(&heard_out) {
        assert!(
            signal_of(&conn, r).is_some(),
            "an acknowledged signal was lost"
        );
    }
    let (code, out, err) = ops_support::run(&server, &[], &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
}

/// A submission whose body is half sent, on its own connection, with the
/// server's handler already reading it: the server said "100 Continue",
/// which it does only once the handler asks for the body.
struct HalfSent {
    conn: tokio::net::TcpStream,
    rest: String,
}

impl HalfSent {
    async fn start(addr: &str, situation: &str) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = format!("situation={}", situation.replace(' ', "+"));
        let (first, rest) = body.split_at(body.len() / 2);
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /signal HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut interim = Vec::new();
        while !interim.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            tokio::time::timeout(common::DEADLINE, conn.read_exact(&mut byte))
                .await
                .expect("an answer to the head")
                .unwrap();
            interim.push(byte[0]);
        }
        assert!(
            interim.starts_with(b"HTTP/1.1 100 Continue"),
            "{}",
            String::from_utf8_lossy(&interim)
        );
        conn.write_all(first.as_bytes()).await.unwrap();
        Self {
            conn,
            rest: rest.to_owned(),
        }
    }

    /// Sends the rest and reads the whole answer.
    async fn finish(mut self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.conn.write_all(self.rest.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        tokio::time::timeout(common::DEADLINE, self.conn.read_to_end(&mut reply))
            .await
            .expect("the reply")
            .unwrap();
        String::from_utf8_lossy(&reply).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_halfway_through_sending_when_sigterm_comes_still_gets_a_kept_receipt() {
    let (server, _) = team_server(&[]);
    let addr = server.intake.trim_start_matches("http://").to_owned();
    let sending = HalfSent::start(&addr, "a slow connection sends this in two halves").await;
    server.signal(rustix::process::Signal::TERM);
    // New visitors are no longer let in …
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stopping server still accepts new connections"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // … but the sender already sending is heard out.
    let reply = sending.finish().await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let receipt = common::receipt_in(&reply).unwrap();
    let mut server = server;
    let status = tokio::task::block_in_place(|| server.wait());
    assert!(status.success(), "{}", server.output());
    let conn = db(&server.data_dir().join("signaal.db"));
    assert!(signal_of(&conn, &receipt).is_some());
}
