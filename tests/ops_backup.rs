//! Backup and restore: a backup taken while senders keep submitting restores
//! to a database that passes `signaal check` and holds every signal that was
//! acknowledged before the backup began.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey};
use ops_support::{db, run, signal_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_submission_load_restores_every_signal_acknowledged_before_it() {
    // All load comes from one address: lift the per-address limits.
    let unlimited = ["SIGNAAL_SUBMIT_BURST", "SIGNAAL_SUBMIT_PER_HOUR"]
        .map(|name| (name.to_owned(), "10000000".to_owned()));
    let server = Arc::new(Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        env: unlimited.to_vec(),
        ..Options::default()
    }));
    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (server, acknowledged, stop) = (
            Arc::clone(&server),
            Arc::clone(&acknowledged),
            Arc::clone(&stop),
        );
        load.push(tokio::spawn(async move {
            let client = common::client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let text = format!("backup load {worker}-{n}");
                let (status, page) =
                    common::submit(&client, &server, &[("situation", &text)]).await;
                assert_eq!(status, 200, "submission {worker}-{n} refused");
                let receipt = common::receipt_in(&page).unwrap();
                acknowledged.lock().unwrap().push((Instant::now(), receipt));
                // A steady stream, not a flood: the machine also runs the backup.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    // Under load before the backup begins.
    let until = Instant::now() + common::DEADLINE;
    while acknowledged.lock().unwrap().len() < 20 {
        assert!(Instant::now() < until, "no load:\n{}", server.output());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let dest = server.root.path().join("backups/signaal-backup.db");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let began = Instant::now();
    let backup = {
        let (server, dest) = (Arc::clone(&server), dest.display().to_string());
        tokio::task::spawn_blocking(move || run(&server, &[], &["backup", &dest], ""))
    };
    // A backup that restarts whenever a submission commits would never end.
    let (code, out, err) = tokio::time::timeout(Duration::from_secs(60), backup)
        .await
        .expect("the backup did not finish within a minute of steady load")
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("backup written"), "{out}");
    // And still under load after it.
    let after_backup = acknowledged.lock().unwrap().len() + 5;
    let until = Instant::now() + common::DEADLINE;
    while acknowledged.lock().unwrap().len() < after_backup {
        assert!(
            Instant::now() < until,
            "the load stopped:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, r)| r)
        .collect();
    assert!(before.len() >= 10, "too little load: {}", before.len());
    assert!(
        acknowledged.len() > before.len(),
        "no load during the backup"
    );

    // A new machine: empty data folder, the same keys.
    let restored = server.root.path().join("restored");
    let elsewhere = [("SIGNAAL_DATA_DIR", restored.to_str().unwrap())];
    let (code, out, err) = run(
        &server,
        &elsewhere,
        &["restore", dest.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&server, &elsewhere, &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.trim_end().ends_with("ok"), "{out}");

    let conn = db(&restored.join("signaal.db"));
    let missing: Vec<&&String> = before
        .iter()
        .filter(|r| signal_of(&conn, r).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged signals lost",
        missing.len()
    );
    let restore_row: String = conn
        .query_row(
            "SELECT detail FROM audit WHERE action = 'restore'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(restore_row.contains("signaal-backup.db"), "{restore_row}");
    let (code, out, err) = run(&server, &elsewhere, &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}{err}");
    // A receipt still finds its signal: the install salt came along.
    let original = db(&server.data_dir().join("signaal.db"));
    assert_eq!(signal_of(&conn, before[0]), signal_of(&original, before[0]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_never_overwrites_and_a_restore_refuses_a_running_server_damage_and_live_data() {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    ops_support::submit_many(&server, 2, "kept").await;
    let dest = server.root.path().join("b.db");
    let path = dest.to_str().unwrap().to_owned();
    assert_eq!(run(&server, &[], &["backup", &path], "").0, 0);
    let (code, _, err) = run(&server, &[], &["backup", &path], "");
    assert_ne!(code, 0);
    assert!(err.contains("exists already"), "{err}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&dest).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "a backup is readable by its owner only");

    // Never under a running server: its next receipts would go to the old file.
    let (code, _, err) = run(&server, &[], &["restore", "--replace", &path], "");
    assert_ne!(code, 0);
    assert!(err.contains("in use by a running signaal"), "{err}");
    ops_support::submit_many(&server, 1, "still served").await;
    assert!(server.stop().success());
    assert_eq!(server.signal_count(), 3);

    // Restoring over a database with signals needs --replace.
    let (code, _, err) = run(&server, &[], &["restore", &path], "");
    assert_ne!(code, 0);
    assert!(err.contains("--replace"), "{err}");

    // A damaged backup is refused and nothing is replaced.
    let damaged = server.root.path().join("damaged.db");
    let mut bytes = std::fs::read(&dest).unwrap();
    for b in bytes.iter_mut().skip(4096).take(4096) {
        *b = 0x5a;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let (code, _, err) = run(
        &server,
        &[],
        &["restore", "--replace", damaged.to_str().unwrap()],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("damaged.db"), "{err}");
    assert_eq!(server.signal_count(), 3);
    let garbage = server.root.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database at all").unwrap();
    let (code, _, err) = run(
        &server,
        &[],
        &["restore", "--replace", garbage.to_str().unwrap()],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("garbage.db"), "{err}");
    assert_eq!(server.signal_count(), 3);

    // Stopped, the backup goes back in place, and signaal serves from it.
    let (code, out, err) = run(&server, &[], &["restore", "--replace", &path], "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(server.signal_count(), 2);
    server.restart();
    ops_support::submit_many(&server, 1, "after the restore").await;
    assert_eq!(server.signal_count(), 3);
}
