//! Key rotation: after a reviewer's recipient leaves `team.pub`, `signaal keys
//! rewrap` re-encrypts every envelope so that reviewer opens nothing, while
//! the team — and each sender, with their receipt — still opens everything.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::path::Path;

use common::{Options, Server, TeamKey, age_cli_available, age_cli_decrypt};
use ops_support::{db, run, salt, signal_of, submit_many};
use signaal::crypto;

const PASS_A: &str = "ann's long passphrase";
const PASS_B: &str = "bob's long passphrase";

/// Writes `keys/reviewers/NAME.age` as `age -p` would (low work factor: a test).
fn reviewer_file(keys: &Path, name: &str, key: &TeamKey, passphrase: &str) {
    std::fs::create_dir_all(keys.join("reviewers")).unwrap();
    let file = crypto::wrap_identity(&key.identity, passphrase, Some(10)).unwrap();
    std::fs::write(keys.join(format!("reviewers/{name}.age")), file).unwrap();
}

fn write_team(server: &Server, keys: &[&TeamKey]) {
    let lines: Vec<String> = keys.iter().map(|k| k.recipient()).collect();
    std::fs::write(
        server.keys_dir().join("team.pub"),
        format!("# team\n{}\n", lines.join("\n")),
    )
    .unwrap();
}

/// A note (to the team), a team message (to the team and the sender) and a
/// hardship with a measure and its status (to the team), sealed as the review
/// face seals them, stored beside signal `id`.
fn add_note_and_message(conn: &rusqlite::Connection, id: &str, team: &[&TeamKey]) {
    let source: String = conn
        .query_row(
            "SELECT source_recipient FROM all_signals WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    let source = crypto::parse_recipient(&source).unwrap();
    let team: Vec<_> = team.iter().map(|k| k.identity.to_public()).collect();
    let mut to_team: Vec<&dyn age::Recipient> = team.iter().map(|r| r as _).collect();
    let note = crypto::seal(b"a note", &to_team).unwrap();
    to_team.push(&source);
    let message = crypto::seal(b"a question", &to_team).unwrap();
    conn.execute(
        "INSERT INTO notes (id, signal_id, seq, author, day, format, envelope)
         VALUES (?1, ?2, 1, 'ann', '2026-01-01', 'age-v1-x25519', ?3)",
        rusqlite::params![format!("n-{id}"), id, note],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO messages (id, signal_id, seq, author, day, format, envelope)
         VALUES (?1, ?2, 1, 'team', '2026-01-01', 'age-v1-x25519', ?3)",
        rusqlite::params![format!("m-{id}"), id, message],
    )
    .unwrap();
    // A hardship with a measure and its first status, each sealed to the team.
    let to_team: Vec<&dyn age::Recipient> = team.iter().map(|r| r as _).collect();
    let sealed = |text: &[u8]| crypto::seal(text, &to_team).unwrap();
    conn.execute(
        "INSERT INTO hardships (id, created_on, author, format, envelope)
         VALUES (?1, '2026-01-01', 'ann', 'age-v1-x25519', ?2)",
        rusqlite::params![format!("h-{id}"), sealed(b"a hardship")],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO hardship_signals (hardship_id, signal_id, linked_on)
         VALUES (?1, ?2, '2026-01-01')",
        rusqlite::params![format!("h-{id}"), id],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO measures (id, hardship_id, seq, kind, lever, status, created_on, format, envelope)
         VALUES (?1, ?2, 1, 'measure', 'law', 'proposed', '2026-01-01', 'age-v1-x25519', ?3)",
        rusqlite::params![format!("k-{id}"), format!("h-{id}"), sealed(b"a measure")],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO measure_statuses (id, measure_id, seq, status, day, author, format, envelope)
         VALUES (?1, ?2, 1, 'proposed', '2026-01-01', 'ann', 'age-v1-x25519', ?3)",
        rusqlite::params![
            format!("s-{id}"),
            format!("k-{id}"),
            sealed(b"a status note")
        ],
    )
    .unwrap();
}

/// Every envelope in the database, as files `age -d` can read.
fn dump_envelopes(server: &Server, dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let conn = db(&server.data_dir().join("signaal.db"));
    let mut files = Vec::new();
    for table in [
        "all_signals",
        "notes",
        "all_messages",
        "hardships",
        "measures",
        "measure_statuses",
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT id, envelope FROM {table}"))
            .unwrap();
        let rows: Vec<(String, Vec<u8>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (id, envelope) in rows {
            let path = dir.join(format!("{table}-{id}.age"));
            std::fs::write(&path, envelope).unwrap();
            files.push(path);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn after_ann_leaves_the_team_a_rewrap_locks_her_out_of_every_old_envelope() {
    if !age_cli_available() {
        return;
    }
    let (ann, bob) = (TeamKey::generate(), TeamKey::generate());
    let server = Server::start_with(Options {
        team: vec![ann.recipient(), bob.recipient()],
        ..Options::default()
    });
    reviewer_file(&server.keys_dir(), "ann", &ann, PASS_A);
    reviewer_file(&server.keys_dir(), "bob", &bob, PASS_B);
    let receipts = submit_many(&server, 3, "rewrap test").await;
    let conn = db(&server.data_dir().join("signaal.db"));
    let first = signal_of(&conn, &receipts[0]).unwrap();
    add_note_and_message(&conn, &first, &[&ann, &bob]);
    drop(conn);

    // Before: both open everything.
    let ann_file = server.root.path().join("ann.key");
    let bob_file = server.root.path().join("bob.key");
    ann.write_identity_file(&ann_file);
    bob.write_identity_file(&bob_file);
    let before = dump_envelopes(&server, &server.root.path().join("before"));
    assert_eq!(before.len(), 8);
    assert!(
        before
            .iter()
            .all(|f| age_cli_decrypt(&ann_file, f).is_some())
    );

    // Ann leaves: her line goes from team.pub, and Bob rewraps (passphrase on stdin).
    write_team(&server, &[&bob]);
    let (code, out, err) = run(
        &server,
        &[],
        &["keys", "rewrap", "--reviewer", "bob"],
        &format!("{PASS_B}\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rewrapped 8 envelopes"), "{out}");
    assert!(!out.contains(PASS_B) && !err.contains(PASS_B));

    let after = dump_envelopes(&server, &server.root.path().join("after"));
    assert_eq!(after.len(), 8);
    for file in &after {
        assert!(
            age_cli_decrypt(&ann_file, file).is_none(),
            "ann still opens {}",
            file.display()
        );
        assert!(
            age_cli_decrypt(&bob_file, file).is_some(),
            "bob cannot open {}",
            file.display()
        );
    }
    // The export operators hand to the age tool says the same.
    let export = server.root.path().join("export");
    let (code, out, err) = run(
        &server,
        &[],
        &["export", "--encrypted", export.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let exported: Vec<_> = std::fs::read_dir(&export)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(exported.len(), 3);
    for file in &exported {
        assert!(age_cli_decrypt(&ann_file, file).is_none());
        let plain = age_cli_decrypt(&bob_file, file).unwrap();
        assert!(String::from_utf8(plain).unwrap().contains("rewrap test"));
    }

    // Each sender still reads their own signal and the team's question.
    let conn = db(&server.data_dir().join("signaal.db"));
    let salt = salt(&conn);
    let source = crypto::Receipt::parse(&receipts[0])
        .unwrap()
        .derive(&salt)
        .unwrap()
        .identity;
    let (signal, message): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT s.envelope, m.envelope FROM all_signals s JOIN all_messages m ON m.signal_id = s.id
             WHERE s.id = ?1",
            [&first],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(crypto::open(&signal, &[&source]).is_ok());
    assert_eq!(
        &crypto::open(&message, &[&source]).unwrap()[..],
        b"a question"
    );
    let audit: String = conn
        .query_row(
            "SELECT detail FROM audit WHERE action = 'rewrap'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audit.contains("8 rewrapped"), "{audit}");
    drop(conn);
    let (code, out, err) = run(&server, &[], &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}{err}");

    // New signals after a restart go to Bob only.
    let mut server = server;
    server.restart();
    let late = submit_many(&server, 1, "after rotation").await;
    let conn = db(&server.data_dir().join("signaal.db"));
    let id = signal_of(&conn, &late[0]).unwrap();
    let env: Vec<u8> = conn
        .query_row(
            "SELECT envelope FROM all_signals WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(crypto::open(&env, &[&ann.identity]).is_err());
    assert!(crypto::open(&env, &[&bob.identity]).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_that_opens_nothing_or_a_wrong_passphrase_changes_nothing_and_a_second_run_is_harmless()
 {
    let (ann, bob) = (TeamKey::generate(), TeamKey::generate());
    let server = Server::start_with(Options {
        team: vec![bob.recipient()],
        ..Options::default()
    });
    reviewer_file(&server.keys_dir(), "ann", &ann, PASS_A);
    reviewer_file(&server.keys_dir(), "bob", &bob, PASS_B);
    submit_many(&server, 2, "second run").await;

    let (code, out, err) = run(
        &server,
        &[],
        &["keys", "rewrap", "--reviewer", "ann"],
        &format!("{PASS_A}\n"),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not in team.pub"), "{out}");
    assert!(
        out.contains("2 envelopes do not open with ann's key"),
        "{out}"
    );
    let (code, _, err) = run(
        &server,
        &[],
        &["keys", "rewrap", "--reviewer", "bob"],
        "not it\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("does not open with that passphrase"), "{err}");
    assert!(!err.contains("not it"), "{err}");

    for _ in 0..2 {
        let (code, out, err) = run(
            &server,
            &[],
            &["keys", "rewrap", "--reviewer", "bob"],
            &format!("{PASS_B}\n"),
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("rewrapped 2 envelopes"), "{out}");
    }
    let conn = db(&server.data_dir().join("signaal.db"));
    let mut stmt = conn.prepare("SELECT envelope FROM all_signals").unwrap();
    let envelopes: Vec<Vec<u8>> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(envelopes.len(), 2);
    for env in envelopes {
        assert!(crypto::open(&env, &[&bob.identity]).is_ok());
    }
    let progress: i64 = conn
        .query_row(
            "SELECT count(*) FROM meta WHERE key = 'rewrap_progress'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(progress, 0, "a finished run leaves no progress marker");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rewrap_killed_halfway_leaves_every_envelope_readable_and_the_next_run_resumes() {
    let (ann, bob) = (TeamKey::generate(), TeamKey::generate());
    let server = Server::start_with(Options {
        team: vec![ann.recipient(), bob.recipient()],
        ..Options::default()
    });
    reviewer_file(&server.keys_dir(), "bob", &bob, PASS_B);
    // Many signals, stored as the intake stores them, so the run takes a while.
    let sender = TeamKey::generate();
    let conn = db(&server.data_dir().join("signaal.db"));
    let (a, b, s) = (
        ann.identity.to_public(),
        bob.identity.to_public(),
        sender.identity.to_public(),
    );
    for i in 0..400 {
        let env = crypto::seal(
            format!("{{\"situation\":\"bulk {i}\"}}").as_bytes(),
            &[&a, &b, &s],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO signals (id, received_on, lookup_tag, source_recipient, format, envelope)
             VALUES (?1, '2026-01-01', ?2, ?3, 'age-v1-x25519', ?4)",
            rusqlite::params![
                crypto::random_id(),
                crypto::random_bytes::<32>().as_slice(),
                sender.recipient(),
                env
            ],
        )
        .unwrap();
    }
    write_team(&server, &[&bob]);

    let mut child = std::process::Command::new(common::binary())
        .args(["keys", "rewrap", "--reviewer", "bob"])
        .envs(server.env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{PASS_B}\n").as_bytes(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let progress = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM meta WHERE key = 'rewrap_progress'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    while progress(&conn) == 0 {
        assert!(started.elapsed().as_secs() < 30, "the rewrap never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the rewrap ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(progress(&conn), 1, "killed halfway, the marker stays");

    // Halfway: every envelope opens for the team that stays; some still for ann.
    let envelopes = |conn: &rusqlite::Connection| -> Vec<Vec<u8>> {
        let mut stmt = conn.prepare("SELECT envelope FROM all_signals").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let halfway = envelopes(&conn);
    assert_eq!(halfway.len(), 400);
    assert!(
        halfway
            .iter()
            .all(|e| crypto::open(e, &[&bob.identity]).is_ok())
    );
    assert!(
        halfway
            .iter()
            .any(|e| crypto::open(e, &[&ann.identity]).is_ok())
    );

    let (code, out, err) = run(
        &server,
        &[],
        &["keys", "rewrap", "--reviewer", "bob"],
        &format!("{PASS_B}\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("continued an interrupted rewrap"), "{out}");
    assert!(
        !out.contains("rewrapped 400 envelopes"),
        "the second run started over: {out}"
    );
    let done = envelopes(&conn);
    assert!(
        done.iter()
            .all(|e| crypto::open(e, &[&ann.identity]).is_err())
    );
    assert!(
        done.iter()
            .all(|e| crypto::open(e, &[&bob.identity]).is_ok())
    );
    assert!(
        done.iter()
            .all(|e| crypto::open(e, &[&sender.identity]).is_ok())
    );
}
