//! Retention: `signaal purge` and the server's own daily run delete signals
//! past their period for real, and the audit log keeps that they were purged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey};
use ops_support::{db, run, signal_of, submit_many};

fn server() -> Server {
    Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    })
}

/// A server that keeps everything itself, so only `signaal purge` (run with
/// [`RETAIN_180`]) deletes, when the test says so.
fn server_without_retention() -> Server {
    Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        env: vec![
            ("SIGNAAL_RETENTION_CLOSED_DAYS".into(), "0".into()),
            ("SIGNAAL_RETENTION_NOT_ADMISSIBLE_DAYS".into(), "0".into()),
        ],
        ..Options::default()
    })
}

/// The default retention, for a `signaal purge` beside [`server_without_retention`].
const RETAIN_180: [(&str, &str); 2] = [
    ("SIGNAAL_RETENTION_CLOSED_DAYS", "180"),
    ("SIGNAAL_RETENTION_NOT_ADMISSIBLE_DAYS", "180"),
];

/// Makes a signal look finished (or open) long ago, as if time had passed.
fn age_signal(server: &Server, id: &str, status: &str) {
    let conn = db(&server.data_dir().join("signaal.db"));
    // The signal may be in the inbox or, after a mix, in the main table.
    for table in ["signals", "inbox_signals"] {
        conn.execute(
            &format!(
                "UPDATE {table} SET status = ?2, received_on = '2020-01-01',
            feedback_on = CASE WHEN ?2 IN ('closed', 'not_admissible', 'forwarded')
                THEN '2020-01-02' END
         WHERE id = ?1"
            ),
            [id, status],
        )
        .unwrap();
    }
}

fn envelope_of(server: &Server, id: &str) -> Vec<u8> {
    db(&server.data_dir().join("signaal.db"))
        .query_row(
            "SELECT envelope FROM all_signals WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

fn traces_in_data_folder(server: &Server, needle: &[u8]) -> Vec<String> {
    server
        .data_files()
        .holding(needle)
        .iter()
        .map(|path| path.display().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purged_signal_leaves_no_byte_in_the_data_folder_and_a_row_in_the_audit_log() {
    let mut server = server_without_retention();
    let receipts = submit_many(&server, 3, "retention test").await;
    let conn = db(&server.data_dir().join("signaal.db"));
    let ids: Vec<String> = receipts
        .iter()
        .map(|r| signal_of(&conn, r).unwrap())
        .collect();
    drop(conn);
    age_signal(&server, &ids[0], "closed");
    age_signal(&server, &ids[1], "new");
    let envelope = envelope_of(&server, &ids[0]);
    // 64 bytes of the ciphertext body: they occur nowhere else by chance.
    let needle = envelope[envelope.len() - 80..envelope.len() - 16].to_vec();
    assert!(!traces_in_data_folder(&server, &needle).is_empty());
    // Its note and message (random bytes standing in for envelopes) go with it.
    let note_bytes = signaal::crypto::random_bytes::<512>().to_vec();
    let conn = db(&server.data_dir().join("signaal.db"));
    for (table, author) in [("notes", "ann"), ("messages", "team")] {
        conn.execute(
            &format!(
                "INSERT INTO {table} (id, signal_id, seq, author, day, format, envelope)
                 VALUES (?1, ?2, 1, ?3, '2020-01-02', 'age-v1-x25519', ?4)"
            ),
            rusqlite::params![format!("{table}-x"), ids[0], author, note_bytes],
        )
        .unwrap();
    }
    // Its links to a hardship go too; the other signal's link stays.
    for id in [&ids[0], &ids[1]] {
        conn.execute(
            "INSERT INTO hardship_signals (hardship_id, signal_id, linked_on)
             VALUES ('h', ?1, '2020-01-02')",
            [id],
        )
        .unwrap();
    }
    drop(conn);
    let note_needle = note_bytes[100..164].to_vec();

    // While the server keeps serving.
    let (code, out, err) = run(&server, &RETAIN_180, &["purge"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("purged 1 signals"), "{out}");
    let found = traces_in_data_folder(&server, &needle);
    assert!(
        found.is_empty(),
        "the purged envelope is still in {found:?}"
    );
    let found = traces_in_data_folder(&server, &note_needle);
    assert!(
        found.is_empty(),
        "its note or message is still in {found:?}"
    );

    let conn = db(&server.data_dir().join("signaal.db"));
    let remaining: Vec<String> = receipts
        .iter()
        .filter_map(|r| signal_of(&conn, r))
        .collect();
    assert_eq!(
        remaining,
        [ids[1].clone(), ids[2].clone()],
        "an open signal is never purged"
    );
    let linked: Vec<String> = conn
        .prepare("SELECT signal_id FROM hardship_signals")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(linked, [ids[1].clone()], "the purged signal's link is gone");
    let (action, actor, detail): (String, String, String) = conn
        .query_row(
            "SELECT action, actor, detail FROM audit WHERE signal_id = ?1 ORDER BY seq DESC",
            [&ids[0]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(action, "purge");
    assert!(actor.starts_with("(command line"), "{actor}");
    assert!(detail.contains("closed"), "{detail}");
    drop(conn);
    let (code, out, err) = run(&server, &[], &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}{err}");

    // The server still takes signals, and after it stops nothing came back.
    submit_many(&server, 1, "after the purge").await;
    assert!(server.stop().success());
    let found = traces_in_data_folder(&server, &needle);
    assert!(found.is_empty(), "the purged envelope is back in {found:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_applies_retention_by_itself_when_it_starts_and_then_daily() {
    let mut server = server();
    let receipts = submit_many(&server, 2, "daily retention").await;
    let conn = db(&server.data_dir().join("signaal.db"));
    let ids: Vec<String> = receipts
        .iter()
        .map(|r| signal_of(&conn, r).unwrap())
        .collect();
    drop(conn);
    server.stop();
    age_signal(&server, &ids[0], "not_admissible");
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.signal_count() != 1 {
        assert!(
            Instant::now() < deadline,
            "not purged:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let conn = db(&server.data_dir().join("signaal.db"));
    assert_eq!(signal_of(&conn, &receipts[1]), Some(ids[1].clone()));
    let actor: String = conn
        .query_row("SELECT actor FROM audit WHERE action = 'purge'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(actor, "(retention)");
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_follows_the_settings_and_zero_keeps_for_ever() {
    let server = server_without_retention();
    let receipts = submit_many(&server, 1, "kept for ever").await;
    let conn = db(&server.data_dir().join("signaal.db"));
    let id = signal_of(&conn, &receipts[0]).unwrap();
    drop(conn);
    age_signal(&server, &id, "closed");
    let keep = [("SIGNAAL_RETENTION_CLOSED_DAYS", "0")];
    let (code, out, err) = run(&server, &keep, &["purge"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("purged 0 signals"), "{out}");
    let (code, _, err) = run(
        &server,
        &[("SIGNAAL_RETENTION_CLOSED_DAYS", "soon")],
        &["purge"],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("SIGNAAL_RETENTION_CLOSED_DAYS"), "{err}");
    let (code, out, err) = run(&server, &RETAIN_180, &["purge"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("purged 1 signals"), "{out}");
}
