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

/// The pid of the server whose data folder is `server`'s, found through the
/// environment it was started with.
fn pid_of(server: &Server) -> u32 {
    let marker = format!("SIGNAAL_DATA_DIR={}", server.data_dir().display());
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|v| v == marker.as_bytes())
            && cmdline.split(|b| *b == 0).any(|a| a == b"serve")
        {
            return pid;
        }
    }
    panic!("no running signaal for {}", server.data_dir().display());
}

/// Whether the server has printed `line`; the kit reads its output on its own
/// threads, so a line may arrive a moment after the event.
fn said(server: &Server, line: &str) -> bool {
    (0..40).any(|_| {
        let found = server.output().contains(line);
        if !found {
            std::thread::sleep(Duration::from_millis(50));
        }
        found
    })
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

#[tokio::test(flavor = "multi_thread")]
async fn the_serving_process_can_not_dump_core() {
    let (server, _) = team_server(&[]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", pid_of(&server))).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    assert!(
        said(&server, "core dumps off, process not dumpable"),
        "{}",
        server.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_sigterm_every_acknowledged_signal_is_kept_and_the_process_exits_cleanly() {
    let (server, _) = team_server(&[]);
    let server = std::sync::Arc::new(server);
    let mut inflight = Vec::new();
    for i in 0..60 {
        let server = std::sync::Arc::clone(&server);
        inflight.push(tokio::spawn(async move {
            let client = common::client();
            let res = client
                .post(format!("{}/signal", server.intake))
                .form(&[("situation", format!("shutdown {i}"))])
                .send()
                .await;
            match res {
                Ok(r) if r.status() == 200 => common::receipt_in(&r.text().await.ok()?),
                _ => None,
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    let pid = pid_of(&server);
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let mut receipts = Vec::new();
    for task in inflight {
        receipts.extend(task.await.unwrap());
    }
    let mut server = std::sync::Arc::into_inner(server).unwrap();
    // The process is already stopping; a second SIGTERM changes nothing.
    let status = tokio::task::block_in_place(|| server.stop());
    assert!(status.success(), "{status:?}\n{}", server.output());
    assert!(
        said(&server, "shutting down: finishing open requests"),
        "{}",
        server.output()
    );
    assert!(said(&server, "stopped"), "{}", server.output());
    eprintln!(
        "{} of 60 submissions acknowledged before the stop",
        receipts.len()
    );
    assert!(!receipts.is_empty(), "no submission was acknowledged");
    let conn = db(&server.data_dir().join("signaal.db"));
    for r in &receipts {
        assert!(
            signal_of(&conn, r).is_some(),
            "an acknowledged signal was lost"
        );
    }
    let (code, out, err) = ops_support::run(&server, &[], &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_halfway_through_sending_when_sigterm_comes_still_gets_a_kept_receipt() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, _) = team_server(&[]);
    let addr = server.intake.trim_start_matches("http://").to_owned();
    let body = "situation=a+slow+connection+sends+this+in+two+halves";
    let (first, second) = body.split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /signal HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = pid_of(&server);
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New visitors are no longer let in …
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err()
            || common::client().get(&server.intake).send().await.is_err(),
        "the stopping server still accepts new connections"
    );
    // … but the sender already sending is heard out.
    conn.write_all(second.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let receipt = common::receipt_in(&reply).unwrap();
    let mut server = server;
    let status = tokio::task::block_in_place(|| server.stop());
    assert!(status.success(), "{}", server.output());
    let conn = db(&server.data_dir().join("signaal.db"));
    assert!(signal_of(&conn, &receipt).is_some());
}
