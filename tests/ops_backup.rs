//! Backup and restore: a backup taken while senders keep submitting restores
//! to a database that passes `signaal check` and holds every signal that was
//! acknowledged before the backup began. An audit chain cut off, or
//! rewritten and re-hashed, still links, but not past the heads kept beside
//! the backups: `audit verify --heads` names them, and the next backup is
//! refused.
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

/// Makes `n` audit rows the way an operator does: `signaal report --csv`.
fn audit_rows(server: &Server, n: usize) {
    for _ in 0..n {
        let (code, out, err) = run(server, &[], &["report", "--csv"], "");
        assert_eq!(code, 0, "{out}{err}");
    }
}

/// The row of the head in a backup's `.head` file.
fn row_in(head_file: &std::path::Path) -> i64 {
    let text = std::fs::read_to_string(head_file).unwrap();
    text.strip_prefix("audit head: row ")
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no head in {text:?}"))
}

/// The names of the files in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A server with two signals, stopped, and two backups (with audit rows
/// before and between them) in `backups/`, beside a file that is no backup.
async fn two_backups() -> (Server, std::path::PathBuf) {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    ops_support::submit_many(&server, 2, "kept").await;
    assert!(server.stop().success());
    let dir = server.root.path().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    audit_rows(&server, 3);
    for name in ["one.db", "two.db"] {
        let dest = dir.join(name);
        let (code, out, err) = run(&server, &[], &["backup", dest.to_str().unwrap()], "");
        assert_eq!(
            code, 0,
            "the first backup in a folder, and the next: {out}{err}"
        );
        audit_rows(&server, 2);
        if name == "one.db" {
            std::fs::write(dir.join("README.txt"), "not a backup").unwrap();
        }
    }
    (server, dir)
}

/// Asserts that a backup into `dir` is refused naming `head_file`, and
/// writes nothing there.
fn assert_backup_refused(server: &Server, dir: &std::path::Path, head_file: &str) {
    let before = names_in(dir);
    let dest = dir.join("three.db");
    let dest = dest.to_str().unwrap();
    let recipient = TeamKey::generate().recipient();
    // Plain, and sealed (the copy checked is then the staging copy).
    for args in [
        &["backup", dest][..],
        &["backup", dest, "--encrypt-to", &recipient][..],
    ] {
        let (code, out, err) = run(server, &[], args, "");
        assert_ne!(code, 0, "{out}{err}");
        assert!(err.contains(head_file), "{err}");
        assert_eq!(names_in(dir), before, "nothing written: {err}");
        let staging = server.data_dir().join("signaal.db.backup-staging");
        assert!(!staging.exists(), "no plain copy left behind");
    }
}

#[tokio::test]
async fn cutting_off_the_audit_chain_is_caught_against_the_heads_kept_beside_the_backups() {
    let (server, dir) = two_backups().await;
    let heads = dir.to_str().unwrap().to_owned();
    let newest = row_in(&dir.join("two.db.head"));
    assert_eq!(newest, row_in(&dir.join("one.db.head")) + 2);

    // Untouched, the chain holds every head, with or without one by hand.
    let (code, out, err) = run(&server, &[], &["audit", "verify", "--heads", &heads], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "2 heads kept in {heads} checked, the newest at row {newest}: the chain holds every one"
        )),
        "{out}"
    );
    let hash = std::fs::read_to_string(dir.join("one.db.head")).unwrap();
    let hash = hash.trim().rsplit(' ').next().unwrap().to_owned();
    let (code, out, _) = run(
        &server,
        &[],
        &["audit", "verify", "--head", &hash, "--heads", &heads],
        "",
    );
    assert_eq!(code, 0, "{out}");

    // The last rows cut off, the newest backup's row among them.
    let conn = db(&server.data_dir().join("signaal.db"));
    conn.execute("DELETE FROM audit WHERE seq > ?1", [newest - 2])
        .unwrap();
    drop(conn);
    let (code, out, _) = run(&server, &[], &["audit", "verify"], "");
    assert_eq!(code, 0, "the chain alone cannot tell: {out}");
    assert!(out.contains("audit chain intact"), "{out}");
    let (code, out, _) = run(&server, &[], &["audit", "verify", "--heads", &heads], "");
    assert_eq!(code, 1, "{out}");
    let two = dir.join("two.db.head").display().to_string();
    assert!(
        out.contains(&format!(
            "{two}: row {newest}: the chain does NOT hold this head"
        )),
        "{out}"
    );
    assert!(
        !out.contains("one.db.head: row"),
        "the older head is held: {out}"
    );
    assert!(out.contains("2 heads kept in"), "{out}");
    // And the next backup notices by itself, and fails.
    assert_backup_refused(&server, &dir, "two.db.head");

    // A head file that cannot be read is named and fails, never skipped.
    let fresh = server.root.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let (code, out, err) = run(
        &server,
        &[],
        &["audit", "verify", "--heads", fresh.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no heads in"), "{out}");
    std::fs::write(
        fresh.join("garbled.db.head"),
        "audit head: row 3, sha256 zz\n",
    )
    .unwrap();
    let (code, out, _) = run(
        &server,
        &[],
        &["audit", "verify", "--heads", fresh.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("garbled.db.head: does not hold"), "{out}");
    assert_backup_refused(&server, &fresh, "garbled.db.head");
    let (code, _, err) = run(
        &server,
        &[],
        &["audit", "verify", "--heads", "no-such-folder"],
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no-such-folder"), "{err}");
}

#[tokio::test]
async fn rewriting_an_early_audit_row_and_rehashing_the_rest_is_caught_against_the_kept_heads() {
    let (server, dir) = two_backups().await;
    let heads = dir.to_str().unwrap().to_owned();
    // Who made the second report, rewritten, and every later row re-hashed.
    let conn = db(&server.data_dir().join("signaal.db"));
    let kept: Vec<(i64, String, String, Option<String>, String)> = conn
        .prepare("SELECT seq, actor, action, signal_id, detail FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    conn.execute("DELETE FROM audit", []).unwrap();
    for (seq, actor, action, signal, detail) in &kept {
        let actor = if *seq == 2 { "someone-else" } else { actor };
        signaal::audit::append_named(&conn, actor, action, signal.as_deref(), detail).unwrap();
    }
    drop(conn);
    let (code, out, _) = run(&server, &[], &["audit", "verify"], "");
    assert_eq!(code, 0, "re-hashed, the chain alone links again: {out}");
    let (code, out, _) = run(&server, &[], &["audit", "verify", "--heads", &heads], "");
    assert_eq!(code, 1, "{out}");
    for name in ["one.db.head", "two.db.head"] {
        let file = dir.join(name);
        let row = row_in(&file);
        assert!(
            out.contains(&format!(
                "{}: row {row}: the chain does NOT hold this head",
                file.display()
            )),
            "{out}"
        );
    }
    assert_backup_refused(&server, &dir, "two.db.head");
}

/// A backup whose head cannot be written (the disk full when it is synced)
/// fails and leaves nothing behind: no copy, no head, no partial file, so
/// the next backup into the folder goes ahead as if it had not been tried.
#[tokio::test(flavor = "multi_thread")]
async fn a_backup_whose_head_cannot_be_written_leaves_nothing_behind() {
    if !common::strace_available() {
        return;
    }
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    ops_support::submit_many(&server, 2, "kept").await;
    let dir = server.root.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    let dest = dir.join("one.db");
    let head = dir.join("one.db.head");
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-f", "-qq", "--seccomp-bpf", "-e", "trace=fsync,fdatasync"])
        .args([
            "-e",
            "inject=fsync,fdatasync:error=ENOSPC",
            "-o",
            "/dev/null",
            "-P",
        ])
        .arg(&head)
        .arg(common::binary())
        .arg("backup")
        .arg(&dest)
        .envs(server.env())
        .current_dir(server.root.path());
    let out = common::output_within(&mut cmd, None, common::DEADLINE);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("one.db.head") && err.contains("cannot be written"),
        "{err}"
    );
    assert_eq!(
        names_in(&dir),
        Vec::<String>::new(),
        "left behind after {err}"
    );

    // Tried again without the fault: the backup and its head are written.
    let (code, out, err) = run(&server, &[], &["backup", dest.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(names_in(&dir), ["one.db", "one.db.head"]);
}
