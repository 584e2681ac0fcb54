//! The sender's trust: one receipt however often the form is sent, who runs
//! the channel and how long it keeps what, the address to come back to on
//! the receipt, and a signal taken back for real.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey, client, control_of, receipt_in};
use ops_support::{db, run, signal_of};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The form's one-time token in a page (kept in a hidden text box).
fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}""#);
    let at = page.find(&marker)?;
    let start = page[at..].find('>')? + at + 1;
    let end = page[start..].find('<')? + start;
    Some(page[start..end].to_owned())
}

async fn get(path: &str, server: &Server) -> (u16, String) {
    let res = client()
        .get(format!("{}{path}", server.intake))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(server: &Server, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let res = client()
        .post(format!("{}{path}", server.intake))
        .form(fields)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// `fields` as `application/x-www-form-urlencoded`.
fn form_body(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `curl`, sending `body` as a form to `url`; the page it got.
fn curl_post(url: &str, body: &str) -> String {
    let out = common::output_within(
        Command::new("curl").args([
            "--silent",
            "--show-error",
            "--max-time",
            "30",
            "--data-binary",
            body,
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            url,
        ]),
        None,
        common::DEADLINE,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn sending_the_same_form_again_stores_nothing_and_shows_the_same_code() {
    let server = Server::start();
    let (status, form) = get("/?lang=nl", &server).await;
    assert_eq!(status, 200);
    let token = hidden(&form, "form_token").expect("the form carries a one-time token");
    assert!(!form.contains("set-cookie"));
    let fields = [
        ("lang", "nl"),
        ("form_token", token.as_str()),
        (
            "situation",
            "Wie een dag te laat is, verliest de hele toeslag.",
        ),
    ];
    let (status, first) = post(&server, "/signal", &fields).await;
    assert_eq!(status, 200, "{first}");
    let code = receipt_in(&first).unwrap();
    assert_eq!(server.signal_count(), 1);
    // The browser's "resend", and the same body replayed with curl.
    let (status, again) = post(&server, "/signal", &fields).await;
    assert_eq!(status, 200);
    assert_eq!(receipt_in(&again).as_deref(), Some(code.as_str()));
    let body = form_body(&fields);
    for _ in 0..3 {
        let page = curl_post(&format!("{}/signal?lang=nl", server.intake), &body);
        assert_eq!(receipt_in(&page).as_deref(), Some(code.as_str()), "{page}");
    }
    assert_eq!(server.signal_count(), 1, "a replay stores nothing");
    // Two sends at the same moment (a double click) store one signal too.
    let (_, form) = get("/?lang=nl", &server).await;
    let token = hidden(&form, "form_token").unwrap();
    let both = [
        ("form_token", token.as_str()),
        ("situation", "Een dubbele klik op versturen."),
    ];
    let (a, b) = tokio::join!(
        post(&server, "/signal", &both),
        post(&server, "/signal", &both)
    );
    assert_eq!(receipt_in(&a.1), receipt_in(&b.1));
    assert_eq!(server.signal_count(), 2);
    // Edited after going back, or any other body with the same token: the
    // same code, nothing stored, and the page says the changes were not added.
    let edited = [
        ("form_token", token.as_str()),
        (
            "situation",
            "Een dubbele klik op versturen, en nog een zin erbij.",
        ),
    ];
    let (status, page) = post(&server, "/signal", &edited).await;
    assert_eq!(status, 200);
    assert_eq!(receipt_in(&page), receipt_in(&a.1));
    assert!(page.contains("data-not-added"), "{page}");
    assert!(page.contains("Uw wijzigingen zijn niet toegevoegd"));
    let (_, other) = post(
        &server,
        "/signal",
        &[
            ("form_token", token.as_str()),
            ("lang", "en"),
            ("situation", "Something else entirely."),
        ],
    )
    .await;
    assert_eq!(receipt_in(&other), receipt_in(&a.1));
    assert!(other.contains("Your changes were not added"), "{other}");
    let (_, same) = post(&server, "/signal", &both).await;
    assert!(
        !same.contains("data-not-added"),
        "the same answers: no notice"
    );
    assert_eq!(server.signal_count(), 2);
    // Without a token (a plain client, as the contract allows): stored.
    let (status, page) = post(&server, "/signal", &[("situation", "Zonder token.")]).await;
    assert_eq!(status, 200);
    assert!(receipt_in(&page).is_some());
    assert_eq!(server.signal_count(), 3);
}

#[tokio::test]
async fn a_refused_post_holds_no_token_and_a_reload_past_the_limit_still_shows_its_receipt() {
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_SUBMIT_BURST", "1"),
            ("SIGNAAL_SUBMIT_PER_HOUR", "3600"),
        ]),
        ..Options::default()
    });
    let token_of = |page: &str| hidden(page, "form_token").unwrap();
    let first = token_of(&get("/", &server).await.1);
    let second = token_of(&get("/", &server).await.1);
    let stored = [("form_token", first.as_str()), ("situation", "Eerste.")];
    let (status, page) = post(&server, "/signal", &stored).await;
    assert_eq!(status, 200);
    let code = receipt_in(&page).unwrap();
    // Over the limit: refused, with the text and the same token kept.
    let refused = [("form_token", second.as_str()), ("situation", "Tweede.")];
    let (status, page) = post(&server, "/signal", &refused).await;
    assert_eq!(status, 429, "{page}");
    assert!(receipt_in(&page).is_none());
    assert_eq!(
        hidden(&page, "form_token").as_deref(),
        Some(second.as_str())
    );
    // A reload of the stored form is no new submission: never refused.
    let (status, page) = post(&server, "/signal", &stored).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(receipt_in(&page).as_deref(), Some(code.as_str()));
    assert_eq!(server.signal_count(), 1);
    // Once the limit allows it, the refused form is stored under its token.
    let until = Instant::now() + common::DEADLINE;
    let again = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, page) = post(&server, "/signal", &refused).await;
        if status == 200 {
            break page;
        }
        assert!(Instant::now() < until, "still refused: {page}");
    };
    let second_code = receipt_in(&again).unwrap();
    assert_ne!(second_code, code);
    assert!(!again.contains("data-not-added"));
    assert_eq!(server.signal_count(), 2);
}

#[tokio::test]
async fn a_held_back_form_keeps_its_token_so_the_confirmed_send_is_stored_once() {
    let server = Server::start();
    let (_, form) = get("/", &server).await;
    let token = hidden(&form, "form_token").unwrap();
    let text = "Mevrouw met BSN 123456782 kreeg een boete.";
    let (status, held) = post(
        &server,
        "/signal",
        &[("form_token", &token), ("situation", text)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(receipt_in(&held).is_none());
    assert_eq!(hidden(&held, "form_token").as_deref(), Some(token.as_str()));
    let confirmed = [
        ("form_token", token.as_str()),
        ("situation", text),
        ("confirm_personal_data", "yes"),
    ];
    let (_, first) = post(&server, "/signal", &confirmed).await;
    let (_, again) = post(&server, "/signal", &confirmed).await;
    assert!(receipt_in(&first).is_some());
    assert_eq!(receipt_in(&first), receipt_in(&again));
    assert_eq!(server.signal_count(), 1);
}

#[tokio::test]
async fn the_receipt_shows_the_address_to_come_back_to() {
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_PUBLIC_URL", "https://meldpunt.example.nl/"),
            ("SIGNAAL_DEMO", "true"),
        ]),
        ..Options::default()
    });
    let (_, page) = post(&server, "/signal", &[("situation", "Een regel.")]).await;
    assert!(receipt_in(&page).is_some());
    assert!(
        page.contains(r#"data-follow-up-address="https://meldpunt.example.nl/follow-up""#),
        "{page}"
    );
}

#[tokio::test]
async fn every_page_says_who_runs_it_and_the_privacy_page_gives_the_running_retention() {
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_ORGANISATION_NAME", "Gemeente Proefstad"),
            ("SIGNAAL_ORGANISATION_TEAM", "Team Maatwerk"),
            (
                "SIGNAAL_ORGANISATION_CONTACT",
                "https://proefstad.example/contact",
            ),
            (
                "SIGNAAL_ORGANISATION_CONTROLLER",
                "Het college van B en W van Proefstad",
            ),
            ("SIGNAAL_ORGANISATION_DPO", "fg@proefstad.example"),
            ("SIGNAAL_RETENTION_CLOSED_DAYS", "30"),
            ("SIGNAAL_RETENTION_NOT_ADMISSIBLE_DAYS", "1"),
            ("SIGNAAL_RETENTION_FORWARDED_DAYS", "400"),
            ("SIGNAAL_BACKUP_KEEP_DAYS", "9"),
        ]),
        ..Options::default()
    });
    for path in [
        "/?lang=nl",
        "/follow-up?lang=en",
        "/privacy",
        "/embed",
        "/nope",
    ] {
        let (_, page) = get(path, &server).await;
        assert!(
            page.contains("Gemeente Proefstad"),
            "{path} names who runs it"
        );
        assert!(
            page.contains(r#"href="https://proefstad.example/contact""#),
            "{path}: contact"
        );
    }
    let (_, form) = get("/?lang=nl", &server).await;
    assert!(
        form.contains("Wie leest uw signaal"),
        "the block above the form"
    );
    assert!(form.contains("Team Maatwerk (Gemeente Proefstad)"));
    assert!(
        form.contains("https://www.huisvoorklokkenluiders.nl/"),
        "not whistleblowing"
    );
    assert!(
        form.contains("https://www.maatwerkmultiproblematiek.nl/"),
        "the acute route"
    );
    assert!(
        form.find("maatwerkmultiproblematiek").unwrap() < form.find("<form").unwrap(),
        "the acute route comes before the form"
    );
    let (_, nl) = get("/privacy?lang=nl", &server).await;
    for text in [
        "Het college van B en W van Proefstad",
        r#"href="mailto:fg@proefstad.example""#,
        "artikel 6, lid 1, onder e",
        "30 dagen nadat het team het heeft afgehandeld",
        "1 dag nadat het team het heeft afgehandeld",
        "400 dagen nadat het team het heeft afgehandeld",
        "geen vaste termijn",
        r#"data-backup-keep-days="9""#,
        "Versleutelde reservekopieën bewaren wij 9 dagen",
        "https://www.autoriteitpersoonsgegevens.nl/",
        "https://www.huisvoorklokkenluiders.nl/",
    ] {
        assert!(nl.contains(text), "nl privacy: {text}");
    }
    assert!(!nl.contains("180 dagen"), "the defaults are not what runs");
    let (_, en) = get("/privacy?lang=en", &server).await;
    for text in [
        "Data controller",
        "30 days after the team finished",
        "1 day after",
        "Article 6(1)(e)",
    ] {
        assert!(en.contains(text), "en privacy: {text}");
    }
    let (_, a11y) = get("/toegankelijkheid", &server).await;
    for text in [
        "Voldoet gedeeltelijk",
        r#"<time datetime="2026-12-02">2 december 2026</time>"#,
        "Bekende problemen",
        "Nationale ombudsman",
    ] {
        assert!(a11y.contains(text), "accessibility statement: {text}");
    }
}

/// The retention line of `status` on a privacy page.
fn retention_of<'a>(page: &'a str, status: &str) -> &'a str {
    let at = page
        .find(&format!(r#"data-status="{status}""#))
        .unwrap_or_else(|| panic!("no line for {status}"));
    let end = page[at..].find("</li>").unwrap() + at;
    &page[at..end]
}

#[tokio::test]
async fn the_privacy_page_says_what_every_retention_value_of_the_running_configuration_means() {
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_RETENTION_NEW_DAYS", "7"),
            ("SIGNAAL_RETENTION_IN_PROGRESS_DAYS", "1"),
            ("SIGNAAL_RETENTION_FORWARDED_DAYS", "0"),
            ("SIGNAAL_RETENTION_CLOSED_DAYS", "0"),
            ("SIGNAAL_RETENTION_NOT_ADMISSIBLE_DAYS", "2"),
            ("SIGNAAL_BACKUP_KEEP_DAYS", "1"),
        ]),
        ..Options::default()
    });
    let (_, nl) = get("/privacy?lang=nl", &server).await;
    for (status, says) in [
        ("new", "7 dagen na de dag waarop het binnenkwam"),
        ("in_progress", "1 dag na de dag waarop het binnenkwam"),
        ("forwarded", "het wordt niet vanzelf verwijderd"),
        ("closed", "het wordt niet vanzelf verwijderd"),
        (
            "not_admissible",
            "2 dagen nadat het team het heeft afgehandeld",
        ),
    ] {
        let line = retention_of(&nl, status);
        assert!(line.contains(says), "nl {status}: {line}");
        assert!(!line.contains("tot het team het afhandelt"), "{line}");
    }
    assert!(nl.contains("Versleutelde reservekopieën bewaren wij 1 dag,"));
    assert!(nl.contains(r#"data-backup-keep-days="1""#));
    let (_, en) = get("/privacy?lang=en", &server).await;
    for (status, says) in [
        ("new", "7 days after the date it arrived"),
        ("in_progress", "1 day after the date it arrived"),
        ("closed", "it is not deleted automatically"),
        ("not_admissible", "2 days after the team finished with it"),
    ] {
        let line = retention_of(&en, status);
        assert!(line.contains(says), "en {status}: {line}");
    }
    assert!(en.contains("We keep encrypted backups for 1 day,"), "{en}");
    // The defaults: open work has no fixed period until its outcome's applies.
    let server = Server::start();
    let (_, en) = get("/privacy?lang=en", &server).await;
    assert!(retention_of(&en, "new").contains("no fixed period: kept while the team works on it"));
    assert!(retention_of(&en, "closed").contains("180 days after the team finished with it"));
    assert!(en.contains("We keep encrypted backups for 15 days,"));
}

#[test]
fn production_check_names_an_empty_contact_or_data_protection_officer() {
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    let production = [
        ("SIGNAAL_PRODUCTION", "true"),
        ("SIGNAAL_PUBLIC_URL", "https://signaal.example.nl/"),
    ];
    let (code, out, err) = run(&server, &production, &["check"], "");
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("organisation.contact is empty"), "{err}");
    assert!(err.contains("organisation.dpo is empty"), "{err}");
    let filled = [
        production[0],
        production[1],
        (
            "SIGNAAL_ORGANISATION_CONTACT",
            "https://signaal.example.nl/contact",
        ),
        ("SIGNAAL_ORGANISATION_DPO", "fg@example.nl"),
    ];
    let (_, out, err) = run(&server, &filled, &["check"], "");
    assert!(!err.contains("organisation."), "{out}{err}");
}

/// Rows in `table` that belong to signal `id`.
fn rows(conn: &rusqlite::Connection, table: &str, column: &str, id: &str) -> i64 {
    conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE {column} = ?1"),
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

/// The bytes of `needles` that the data folder's file `name` still holds.
fn left_in<'a>(scan: &common::Scan, name: &str, needles: &'a [(Vec<u8>, &'a str)]) -> Vec<&'a str> {
    needles
        .iter()
        .filter(|(needle, _)| {
            scan.holding(needle)
                .iter()
                .any(|p| p.file_name().is_some_and(|n| n == name))
        })
        .map(|(_, what)| *what)
        .collect()
}

/// Waits until `done` holds, at most the deadline; whether it did.
async fn within(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + common::DEADLINE;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    true
}

/// Waits until `done` holds; fails the test past the deadline.
async fn until(what: &str, done: impl FnMut() -> bool) {
    assert!(within(done).await, "not within the deadline: {what}");
}

/// 64 bytes from the start, the middle and the end of an envelope's body.
fn pieces(envelope: &[u8], what: &'static str) -> Vec<(Vec<u8>, &'static str)> {
    let mid = envelope.len() / 2;
    vec![
        (envelope[200..264].to_vec(), what),
        (envelope[mid..mid + 64].to_vec(), what),
        (control_of(envelope), what),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_withdrawn_signal_is_deleted_for_real_and_the_audit_log_keeps_only_its_day() {
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        env: env(&[("SIGNAAL_MIX_INTERVAL_SECS", "2")]),
        ..Options::default()
    });
    // Long enough that its envelope spans pages of its own (overflow pages).
    let long = "Een signaal dat ik terugneem. ".repeat(300);
    let (_, form) = get("/", &server).await;
    let token = hidden(&form, "form_token").unwrap();
    let sent = [("form_token", token.as_str()), ("situation", long.as_str())];
    let (_, page) = post(&server, "/signal", &sent).await;
    let code = receipt_in(&page).unwrap();
    let (_, page) = post(
        &server,
        "/signal",
        &[("situation", "Een signaal dat blijft.")],
    )
    .await;
    let other = receipt_in(&page).unwrap();
    let (_, page) = post(
        &server,
        "/signal",
        &[("situation", "Een signaal van vandaag dat ik ook terugneem.")],
    )
    .await;
    let today_code = receipt_in(&page).unwrap();
    let (status, _) = post(
        &server,
        "/follow-up/message",
        &[
            ("receipt", &code),
            ("message", "Nog een aanvulling van mij."),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let path = server.data_dir().join("signaal.db");
    let conn = db(&path);
    let id = signal_of(&conn, &code).unwrap();
    let today_id = signal_of(&conn, &today_code).unwrap();
    // The first signal and its message arrived on an earlier day: the next
    // mix moves them from the inbox into the main tables.
    conn.execute(
        "UPDATE inbox_signals SET received_on = '2026-01-05' WHERE id = ?1",
        [&id],
    )
    .unwrap();
    conn.execute(
        "UPDATE inbox_messages SET day = '2026-01-05' WHERE signal_id = ?1",
        [&id],
    )
    .unwrap();
    drop(conn);
    until("the mix moves the signal into the main tables", || {
        let conn = db(&path);
        rows(&conn, "signals", "id", &id) == 1 && rows(&conn, "messages", "signal_id", &id) == 1
    })
    .await;
    let conn = db(&path);
    let envelope_of =
        |sql: &str, id: &str| -> Vec<u8> { conn.query_row(sql, [id], |r| r.get(0)).unwrap() };
    let envelope = envelope_of("SELECT envelope FROM signals WHERE id = ?1", &id);
    assert!(envelope.len() > 8192, "{} bytes", envelope.len());
    let message = envelope_of("SELECT envelope FROM messages WHERE signal_id = ?1", &id);
    let today = envelope_of(
        "SELECT envelope FROM inbox_signals WHERE id = ?1",
        &today_id,
    );
    // A team note (random bytes standing in for an envelope).
    let note = signaal::crypto::random_bytes::<512>().to_vec();
    conn.execute(
        "INSERT INTO notes (id, signal_id, seq, author, day, format, envelope)
         VALUES ('note-x', ?1, 1, 'anna', '2026-01-06', 'age-v1-x25519', ?2)",
        rusqlite::params![id, note],
    )
    .unwrap();
    drop(conn);
    let mut needles = pieces(&envelope, "the signal's envelope");
    needles.push((control_of(&message), "the message's envelope"));
    needles.push((note[100..164].to_vec(), "the note"));
    needles.extend(pieces(&today, "today's signal's envelope"));
    // After a mix's checkpoint, every one of them is in the main database
    // file itself, not only in its WAL: the deletion must reach those pages.
    until("the main file holds what will be withdrawn", || {
        left_in(&server.data_files(), "signaal.db", &needles).len() == needles.len()
    })
    .await;

    // The question first: nothing is deleted by it.
    let (status, ask) = post(
        &server,
        "/follow-up/withdraw",
        &[("receipt", &code), ("lang", "en")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(ask.contains("Withdraw this report?"), "{ask}");
    assert!(
        ask.contains("the message between you and the team"),
        "{ask}"
    );
    assert!(ask.contains(r#"name="withdraw" value="yes""#));
    // Sent without the confirmation: the question again, still nothing deleted.
    let (status, ask_again) = post(&server, "/follow-up/withdrawn", &[("receipt", &code)]).await;
    assert_eq!(status, 200);
    assert!(ask_again.contains(r#"name="withdraw" value="yes""#));
    assert_eq!(server.signal_count(), 3);

    let (status, done) = post(
        &server,
        "/follow-up/withdrawn",
        &[("receipt", &code), ("withdraw", "yes"), ("lang", "en")],
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("data-withdrawn"));
    assert!(done.contains("Your report has been withdrawn"));
    assert!(done.contains("the message between you and the team"));
    assert!(
        !done.contains(&code),
        "the page that says it is gone holds no code"
    );
    let (status, _) = post(
        &server,
        "/follow-up/withdrawn",
        &[("receipt", &today_code), ("withdraw", "yes")],
    )
    .await;
    assert_eq!(status, 200);

    let conn = db(&path);
    for id in [&id, &today_id] {
        for (table, column) in [
            ("signals", "id"),
            ("inbox_signals", "id"),
            ("messages", "signal_id"),
            ("inbox_messages", "signal_id"),
            ("notes", "signal_id"),
        ] {
            assert_eq!(rows(&conn, table, column, id), 0, "{table} still holds it");
        }
    }
    assert!(signal_of(&conn, &other).is_some(), "the other signal stays");
    // The audit row waits with its day only: no time, no place in the chain yet.
    let (actor, action, day, detail): (String, String, String, String) = conn
        .query_row(
            "SELECT actor, action, day, detail FROM inbox_audit WHERE signal_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((actor.as_str(), action.as_str()), ("(sender)", "withdrawn"));
    assert_eq!(day.len(), 10, "a day: {day}");
    assert_eq!(detail, "withdrawn by the sender");
    assert_eq!(rows(&conn, "audit", "signal_id", &id), 0);
    drop(conn);

    // The code opens nothing any more.
    let (status, _) = post(&server, "/follow-up", &[("receipt", &code)]).await;
    assert_eq!(status, 404);
    // The form sent again (a reload of the old receipt) does not show the
    // receipt as if the signal were there, and stores nothing.
    for (lang, says) in [
        ("nl", "Dit signaal bestaat niet meer"),
        ("en", "This report no longer exists"),
    ] {
        let res = client()
            .post(format!("{}/signal?lang={lang}", server.intake))
            .form(&sent)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 410);
        let page = res.text().await.unwrap();
        assert!(page.contains(says), "{page}");
        assert!(receipt_in(&page).is_none(), "{page}");
    }
    assert_eq!(server.signal_count(), 1, "nothing stored again");

    // After the next mix, no byte of what was withdrawn is in the database
    // file or its WAL, whether it lay in the main tables or in the inbox.
    // (Past the deadline, the assertions below name what is left, and where.)
    within(|| {
        let scan = server.data_files();
        needles.iter().all(|(n, _)| scan.holding(n).is_empty())
    })
    .await;
    let scan = server.data_files();
    scan.assert_read(&["signaal.db"]);
    for name in ["signaal.db", "signaal.db-wal"] {
        let left = left_in(&scan, name, &needles);
        assert!(left.is_empty(), "{name} still holds {left:?}");
    }
    for (needle, what) in &needles {
        scan.assert_nowhere(needle, what);
    }
    let (code, out, err) = run(&server, &[], &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}{err}");
}

/// `page` from the opening tag of the element with `marker` to its end
/// (the first `</tag>` after it; the blocks checked here nest no such tag).
fn block<'a>(page: &'a str, marker: &str, tag: &str) -> &'a str {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {page}"));
    let end = page[start..]
        .find(&format!("</{tag}>"))
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}

#[tokio::test]
async fn the_pages_name_who_reads_hint_each_question_and_say_why_a_message_is_held_back() {
    let server = Server::start_with(Options {
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "100000")]),
        ..Options::default()
    });
    // Per language: the hints on the organisation, origin and scale questions;
    // the privacy page's purpose, recipients and rights headings; the follow-up
    // guard's intro and its words on identifying oneself.
    struct Texts {
        lang: &'static str,
        hints: [&'static str; 3],
        privacy: [&'static str; 3],
        guard: [&'static str; 2],
        possibly: &'static str,
    }
    let all = [
        Texts {
            lang: "nl",
            hints: [
                "Noem dan liever het soort organisatie",
                "een interne instructie is strenger dan de wet (beleidsregels)",
                "Een schatting is genoeg.",
            ],
            privacy: [
                "Waarvoor gebruiken wij uw signaal?",
                "Wie krijgt uw signaal te zien?",
                "Uw rechten",
            ],
            guard: [
                "Uw bericht is nog niet verstuurd en er is niets bewaard.",
                "Is het uw eigen telefoonnummer, e-mailadres of naam? Dan bent u daaraan te herkennen, ook voor het team.",
            ],
            possibly: "mogelijk",
        },
        Texts {
            lang: "en",
            hints: [
                "describe the kind of organisation instead",
                "an internal instruction is stricter than the law (policy rules)",
                "A rough idea is fine.",
            ],
            privacy: [
                "What we use your report for",
                "Who sees your report",
                "Your rights",
            ],
            guard: [
                "been sent or stored yet. Please look again at:",
                "Is it your own phone number, email address or name? That would identify you, to the team as well.",
            ],
            possibly: "possibly",
        },
    ];
    let (status, page) = post(&server, "/signal", &[("situation", "Een regel die knelt.")]).await;
    assert_eq!(status, 200, "{page}");
    let receipt = receipt_in(&page).unwrap();
    for t in all {
        let lang = t.lang;
        let (status, form) = get(&format!("/?lang={lang}"), &server).await;
        assert_eq!(status, 200);
        assert!(form.contains(&format!(r#"<html lang="{lang}""#)), "{form}");
        for hint in t.hints {
            assert!(
                form.contains(hint),
                "{lang}: the form shows the hint {hint:?}"
            );
        }
        let who = form
            .find(r#"<aside class="who""#)
            .unwrap_or_else(|| panic!("{lang}: the form says who reads a signal: {form}"));
        let form_at = form.find("<form").unwrap();
        assert!(
            who < form_at,
            "{lang}: who reads the signal is said before the form"
        );

        let (status, privacy) = get(&format!("/privacy?lang={lang}"), &server).await;
        assert_eq!(status, 200);
        for (id, title) in ["purpose", "recipients", "rights"].iter().zip(t.privacy) {
            let section = block(
                &privacy,
                &format!(r#"<section aria-labelledby="privacy-{id}""#),
                "section",
            );
            assert!(
                section.contains(&format!(r#"<h2 id="privacy-{id}">{title}</h2>"#)),
                "{lang}: the privacy page has the {id} section: {section}"
            );
            assert!(
                section.contains("<p"),
                "{lang}: the {id} section says something"
            );
        }

        let (status, held) = post(
            &server,
            "/follow-up/message",
            &[
                ("receipt", &receipt),
                ("message", "Bel mij op 06-12345678."),
                ("lang", lang),
            ],
        )
        .await;
        assert_eq!(status, 200, "{held}");
        let summary = block(&held, r#"id="guard-summary""#, "div");
        for text in t.guard {
            assert!(
                summary.contains(text),
                "{lang}: the guard says {text:?}: {summary}"
            );
        }
        // The hedge is said once, at the field, not again in the summary.
        assert_eq!(
            held.to_lowercase().matches(t.possibly).count(),
            1,
            "{lang}: {held}"
        );
        assert!(!held.contains("data-sent"), "{lang}: held back, not sent");
    }
}
