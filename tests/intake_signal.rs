//! A professional submits a signal: it is sealed at the door, stored durably,
//! and readable by the team with the standard age tool — and by nobody else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Options, Server, TeamKey, canary, client, receipt_in, submit};

fn team_server(keys: &[&TeamKey]) -> Server {
    Server::start_with(Options {
        team: keys.iter().map(|k| k.recipient()).collect(),
        ..Options::default()
    })
}

fn open_with(identity: &age::x25519::Identity, envelope: &[u8]) -> serde_json::Value {
    let plain = age::decrypt(identity, envelope).expect("the team identity opens the envelope");
    serde_json::from_slice(&plain).expect("the plaintext is JSON")
}

fn stored_envelopes(server: &Server) -> Vec<(String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, envelope FROM all_signals")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_signal_gets_a_receipt_and_only_the_team_can_read_it() {
    let (alice, bob) = (TeamKey::generate(), TeamKey::generate());
    let server = team_server(&[&alice, &bob]);
    let secret = canary("SITUATION");
    let (status, page) = submit(
        &client(),
        &server,
        &[
            ("situation", &secret),
            ("domain", "taxes"),
            ("rule", "Artikel 3:4 Awb"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let receipt = receipt_in(&page).expect("the receipt page shows the code in data-receipt");
    assert_eq!(receipt.len(), 24, "20 symbols in groups of four: {receipt}");

    let stored = stored_envelopes(&server);
    assert_eq!(stored.len(), 1);
    let (_, envelope) = &stored[0];
    for team in [&alice, &bob] {
        let doc = open_with(&team.identity, envelope);
        assert_eq!(doc["v"], 1);
        assert_eq!(doc["lang"], "en");
        assert_eq!(doc["answers"]["situation"], secret.as_str());
        assert_eq!(doc["answers"]["domain"], "taxes");
        assert_eq!(doc["answers"]["rule"], "Artikel 3:4 Awb");
    }
    let stranger = age::x25519::Identity::generate();
    assert!(age::decrypt(&stranger, envelope).is_err());
    assert!(
        envelope.starts_with(b"age-encryption.org/v1\n"),
        "a binary age file"
    );
}

#[tokio::test]
async fn the_receipt_code_itself_opens_the_senders_copy() {
    let team = TeamKey::generate();
    let server = team_server(&[&team]);
    let secret = canary("SOURCE");
    let (_, page) = submit(&client(), &server, &[("situation", &secret)]).await;
    let receipt = signaal::crypto::Receipt::parse(&receipt_in(&page).unwrap()).unwrap();

    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    let salt: Vec<u8> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'install_salt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let source = receipt.derive(&salt).unwrap();
    let (recipient, envelope): (String, Vec<u8>) = conn
        .query_row(
            "SELECT source_recipient, envelope FROM all_signals WHERE lookup_tag = ?1",
            [source.tag.as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the lookup tag derived from the receipt finds the signal");
    assert_eq!(recipient, source.identity.to_public().to_string());
    assert_eq!(
        open_with(&source.identity, &envelope)["answers"]["situation"],
        secret.as_str()
    );
}

#[tokio::test]
async fn an_exported_signal_opens_with_the_standard_age_tool() {
    if !common::age_cli_available() {
        return;
    }
    let team = TeamKey::generate();
    let server = team_server(&[&team]);
    let secret = canary("EXPORT");
    for _ in 0..3 {
        assert_eq!(
            submit(&client(), &server, &[("situation", &secret)])
                .await
                .0,
            200
        );
    }
    let out = server.root.path().join("export");
    let (code, stdout, stderr) = server.run(&["export", "--encrypted", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let identity_file = server.root.path().join("team.key");
    team.write_identity_file(&identity_file);

    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    let ids: Vec<String> = stored_envelopes(&server)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for file in files {
        let id = file.file_stem().unwrap().to_str().unwrap().to_owned();
        assert!(ids.contains(&id), "files are named by signal id");
        assert_eq!(file.extension().unwrap(), "age");
        let plain = common::age_cli_decrypt(&identity_file, &file).expect("age -d opens it");
        let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(doc["answers"]["situation"], secret.as_str());
    }
}

#[tokio::test]
async fn what_was_written_never_reaches_disk_or_the_log_and_neither_does_the_address() {
    let team = TeamKey::generate();
    let mut server = team_server(&[&team]);
    let secrets: Vec<String> = (0..4).map(|i| canary(&format!("DISK{i}"))).collect();
    let c = common::client_from("127.0.0.77");
    let (status, _) = submit(
        &c,
        &server,
        &[
            ("situation", &secrets[0]),
            ("rule", &secrets[1]),
            ("organisation", &secrets[2]),
            ("solution", &secrets[3]),
        ],
    )
    .await;
    assert_eq!(status, 200);
    // A rejected attempt must leave no trace either.
    let (status, _) = submit(&c, &server, &[("situation", " "), ("rule", &secrets[1])]).await;
    assert_eq!(status, 422);
    // The same scan must find the signal's ciphertext, or "not found" means nothing.
    let control = common::control_of(&stored_envelopes(&server)[0].1);
    let check = |scan: &common::Scan, when: &str| {
        for s in &secrets {
            scan.assert_nowhere(s.as_bytes(), &format!("{when}: {s}"));
        }
        scan.assert_nowhere(b"127.0.0.77", &format!("{when}: the address"));
        scan.assert_finds(&control, &format!("{when}: the stored envelope"));
    };
    // While the server runs: the database and its WAL, where the write went.
    let live = server.data_files();
    live.assert_read(&["signaal.db", "signaal.db-wal"]);
    check(&live, "while serving");
    // After a crash: what the process left behind, as recovery will read it.
    server.kill();
    let crashed = server.data_files();
    crashed.assert_read(&["signaal.db", "signaal.db-wal"]);
    check(&crashed, "after SIGKILL");
    // Recovered and stopped cleanly: the WAL is folded into the database.
    server.restart();
    // One more signal, so that the clean stop has something to count.
    let (status, _) = submit(&c, &server, &[("situation", "na de herstart")]).await;
    assert_eq!(status, 200);
    assert!(server.stop().success());
    let stopped = server.data_files();
    stopped.assert_read(&["signaal.db"]);
    check(&stopped, "after a clean stop");
    let log = server.output();
    assert!(
        log.contains("POST /signal 200: "),
        "requests are counted in the summary: {log}"
    );
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "{s} in the log");
    }
    assert!(
        !log.contains("127.0.0.77"),
        "the client address is in the log"
    );
    assert!(
        !log.contains("data-receipt"),
        "receipt pages are not logged"
    );
}

#[tokio::test]
async fn only_the_day_is_kept_not_the_time() {
    let team = TeamKey::generate();
    let server = team_server(&[&team]);
    // The day before and after the request: the server's day is one of them,
    // also when the request crosses midnight.
    let before = time::OffsetDateTime::now_utc();
    let (status, _) = submit(&client(), &server, &[("situation", "een patroon")]).await;
    let after = time::OffsetDateTime::now_utc();
    assert_eq!(status, 200);
    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    let day: String = conn
        .query_row("SELECT received_on FROM all_signals", [], |r| r.get(0))
        .unwrap();
    let parts: Vec<&str> = day.split('-').collect();
    let number = |i: usize, digits: usize| -> i32 {
        let p = parts.get(i).copied().unwrap_or_default();
        assert!(
            p.len() == digits && p.bytes().all(|b| b.is_ascii_digit()),
            "{day:?} is not YYYY-MM-DD"
        );
        p.parse().unwrap()
    };
    assert_eq!(parts.len(), 3, "{day:?} is not YYYY-MM-DD");
    let kept = time::Date::from_calendar_date(
        number(0, 4),
        time::Month::try_from(number(1, 2) as u8).unwrap(),
        number(2, 2) as u8,
    )
    .unwrap_or_else(|e| panic!("{day:?} is not a day: {e}"));
    assert!(
        kept == before.date() || kept == after.date(),
        "{kept} is not the day of arrival ({} or {})",
        before.date(),
        after.date()
    );
    // No value of the row is a time: no text with a clock time in it, no
    // number that is a moment of this day in seconds or milliseconds.
    let clock = |text: &str| {
        text.as_bytes().windows(5).any(|w| {
            w[0].is_ascii_digit()
                && w[1].is_ascii_digit()
                && w[2] == b':'
                && w[3].is_ascii_digit()
                && w[4].is_ascii_digit()
        })
    };
    let moments = [
        (before.unix_timestamp() - 86_400)..=(after.unix_timestamp() + 86_400),
        (before.unix_timestamp() - 86_400) * 1000..=(after.unix_timestamp() + 86_400) * 1000,
    ];
    let mut stmt = conn.prepare("SELECT * FROM all_signals").unwrap();
    let names: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let values: Vec<rusqlite::types::Value> = stmt
        .query_row([], |r| (0..names.len()).map(|i| r.get(i)).collect())
        .unwrap();
    for (name, value) in names.iter().zip(&values) {
        match value {
            rusqlite::types::Value::Text(t) => assert!(!clock(t), "{name} holds a time: {t}"),
            rusqlite::types::Value::Integer(n) => assert!(
                !moments.iter().any(|m| m.contains(n)),
                "{name} holds a moment: {n}"
            ),
            rusqlite::types::Value::Real(x) => panic!("{name} holds a number {x}"),
            _ => {}
        }
    }
    // Nothing in the schema can hold an address, a user agent or a time of day.
    // Both where signals are kept and where today's wait for the mix.
    let columns: Vec<String> = ["signals", "inbox_signals"]
        .iter()
        .flat_map(|table| {
            conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(columns.len(), 26, "both tables were read: {columns:?}");
    // Every plaintext column is one triage needs and none describes the sender:
    // a new column must be added here on purpose.
    let allowed = [
        "id",
        "received_on",
        "status",
        "domain",
        "lookup_tag",
        "source_recipient",
        "format",
        "envelope",
        "origin",
        "labels",
        "assignee",
        "acknowledged_on",
        "feedback_on",
    ];
    for column in &columns {
        assert!(
            allowed.contains(&column.as_str()),
            "unexpected plaintext column {column}"
        );
    }
}

#[tokio::test]
async fn envelopes_of_short_and_longer_texts_have_the_same_size() {
    let team = TeamKey::generate();
    let server = team_server(&[&team]);
    submit(&client(), &server, &[("situation", "kort")]).await;
    submit(
        &client(),
        &server,
        &[("situation", &"iets langer verhaal ".repeat(40))],
    )
    .await;
    let stored = stored_envelopes(&server);
    assert_eq!(stored.len(), 2);
    // age adds a random "grease" stanza of up to ~170 bytes to every header: noise
    // that says nothing. The texts differ by almost 800 bytes; the envelopes may
    // differ only by that noise, and the padded plaintexts not at all.
    let (a, b) = (stored[0].1.len(), stored[1].1.len());
    assert!(a.abs_diff(b) < 250, "{a} vs {b}");
    let plain = |e: &[u8]| age::decrypt(&team.identity, e).unwrap().len();
    assert_eq!(plain(&stored[0].1), 1024);
    assert_eq!(plain(&stored[1].1), 1024);
}
