//! What an outside auditor tried on the review face, and what must hold: a
//! login flood locks no reviewer out and does not fill the audit log, an
//! unknown name takes as long as the costliest reviewer file, guessing the
//! second factor is slowed, locked and reported, a foreign `Host` and a form
//! that is not UTF-8 get a readable refusal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey};
use review_support::*;

const PASS: &str = "correct horse battery staple";

fn production(team: &TeamKey) -> Options {
    Options {
        team: vec![team.recipient()],
        env: vec![
            ("SIGNAAL_PRODUCTION".into(), "true".into()),
            (
                "SIGNAAL_PUBLIC_URL".into(),
                "https://signaal.example/".into(),
            ),
        ],
        ..Options::default()
    }
}

fn audit_count(server: &Server) -> i64 {
    db(server)
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap()
}

fn audit_details(server: &Server, action: &str) -> Vec<(String, String)> {
    let conn = db(server);
    let mut stmt = conn
        .prepare("SELECT actor, detail FROM audit WHERE action = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([action], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_thousand_junk_logins_neither_lock_out_a_reviewer_nor_fill_the_audit_log() {
    let team = TeamKey::generate();
    let mut server = Server::start_with(production(&team));
    let totp = totp_in(&add_reviewer(&server, "alice", PASS, &[]));
    let before = audit_count(&server);

    // One keep-alive client, sixteen at a time: invalid names and made-up ones.
    let client = common::client();
    let mut flood = tokio::task::JoinSet::new();
    let mut statuses = Vec::new();
    for i in 0..1_000 {
        let (client, url) = (client.clone(), format!("{}/login", server.review));
        let name = if i % 2 == 0 {
            "INVALID NAME".to_owned()
        } else {
            format!("junk{i}")
        };
        flood.spawn(async move {
            let res = client
                .post(url)
                .form(&[("name", name.as_str()), ("passphrase", "x"), ("totp", "1")])
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        });
        if flood.len() >= 16 {
            statuses.push(flood.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(status) = flood.join_next().await {
        statuses.push(status.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );

    let started = Instant::now();
    let res = try_login(&server, "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "the reviewer's own login is not held back by other names"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "and it does not wait behind them: {:?}",
        started.elapsed()
    );
    let grown = audit_count(&server) - before;
    eprintln!(
        "after 1,000 junk logins: the right login took {:?}; the audit log grew by {grown} rows; \
         refusals: {} × 401, {} × 429",
        started.elapsed(),
        statuses.iter().filter(|s| **s == 401).count(),
        statuses.iter().filter(|s| **s == 429).count()
    );
    assert!(
        (1..=8).contains(&grown),
        "1,001 attempts added {grown} audit rows"
    );
    // A clean stop writes what was only counted: every attempt is accounted for.
    server.stop();
    let counted: u64 = audit_details(&server, "login-failed")
        .iter()
        .filter(|(actor, _)| actor == "(unknown)")
        .map(|(_, detail)| match detail.split_once(": ") {
            Some((_, more)) => more.split(' ').next().unwrap().parse::<u64>().unwrap(),
            None => 1,
        })
        .sum();
    assert_eq!(
        counted, 1_000,
        "every refusal is in the log, as a row of its own or in a count"
    );
}

#[tokio::test]
async fn an_unknown_name_and_a_cheap_file_take_as_long_as_a_wrong_passphrase_on_the_costliest() {
    // The demo reviewer's file has work factor 16; "aaa" (first in the
    // folder) a cheap 10, "zed" and "zoe" a costly 17.
    let server = Server::start();
    let folder = server.keys_dir().join("reviewers");
    for (name, work_factor) in [("aaa", 10), ("zed", 17), ("zoe", 17)] {
        let id = age::x25519::Identity::generate();
        let file = signaal::crypto::wrap_identity(&id, PASS, Some(work_factor)).unwrap();
        std::fs::write(folder.join(format!("{name}.age")), file).unwrap();
    }
    let attempt = |name: String| {
        let server = &server;
        async move {
            let started = Instant::now();
            let res = try_login(server, &name, "not the passphrase", "").await;
            assert_eq!(res.status().as_u16(), 401);
            started.elapsed().as_secs_f64()
        }
    };
    // In pairs, one right after the other, so that a busy moment of the
    // machine weighs on both alike; the median of the ratios is compared.
    // Nine pairs for each of "zed" and "zoe": a name has ten attempts
    // before its bucket is empty.
    let mut ratios = Vec::new();
    let mut cheap = Vec::new();
    for i in 0..18 {
        let costly = if i % 2 == 0 { "zed" } else { "zoe" };
        let known = attempt(costly.to_owned()).await;
        let unknown = attempt(format!("nobody{i}")).await;
        ratios.push(unknown / known);
        if i < 5 {
            cheap.push(attempt("aaa".to_owned()).await / known);
        }
    }
    ratios.sort_by(f64::total_cmp);
    cheap.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    eprintln!(
        "unknown / costliest (work factor 17): median {ratio:.2} of {ratios:.2?}; \
         cheapest (10) / costliest: median {:.3}",
        cheap[cheap.len() / 2]
    );
    assert!(
        (0.5..2.0).contains(&ratio),
        "an unknown name takes {ratio:.2} times as long as the costliest reviewer: {ratios:?}"
    );
    let cheap_ratio = cheap[cheap.len() / 2];
    assert!(
        (0.5..2.0).contains(&cheap_ratio),
        "a refusal on the cheapest file takes {cheap_ratio:.3} times as long as on the costliest: {cheap:?}"
    );
    // The files do differ in cost: opening work factor 10 is far quicker
    // than 17, so without the hold the cheap name would stand out.
    let time_open = |work_factor: u8| {
        let id = age::x25519::Identity::generate();
        let file = signaal::crypto::wrap_identity(&id, PASS, Some(work_factor)).unwrap();
        let started = Instant::now();
        assert!(signaal::crypto::unwrap_identity(&file, "not the passphrase").is_err());
        started.elapsed().as_secs_f64()
    };
    let (quick, slow) = (time_open(10), time_open(17));
    assert!(
        quick / slow < 0.3,
        "work factor 10: {quick:.3} s, 17: {slow:.3} s"
    );
}

/// Rewrites `name`'s second-factor record as if `wrong` wrong codes had
/// come in a row, the last long ago (the backoff is then over).
fn as_if_wrong_codes(server: &Server, name: &str, wrong: u32) {
    let conn = db(server);
    let key = format!("second_factor/{name}");
    let mut value: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
            r.get(0)
        })
        .unwrap();
    value[8..12].copy_from_slice(&wrong.to_be_bytes());
    value[12..20].copy_from_slice(&0u64.to_be_bytes());
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = ?2",
        rusqlite::params![value, key],
    )
    .unwrap();
}

#[tokio::test]
async fn wrong_second_factors_are_held_back_then_locked_until_reviewer_totp_and_reported_at_login()
{
    let team = TeamKey::generate();
    let server = Server::start_with(production(&team));
    let totp = totp_in(&add_reviewer(&server, "alice", PASS, &[]));
    let wrong = |c: &str| if c == "000000" { "111111" } else { "000000" }.to_owned();

    // Three typos are let through to be checked ...
    for _ in 0..3 {
        let res = try_login(&server, "alice", PASS, &wrong(&code(&totp, 0))).await;
        assert_eq!(res.status().as_u16(), 401);
    }
    // ... then even the right code waits (and is not used up).
    let res = try_login(&server, "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(
        res.status().as_u16(),
        401,
        "held back after three wrong codes"
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Naam, wachtwoordzin of code niet geaccepteerd."),
        "the same answer as any refusal"
    );

    // After nine wrong codes in a row, the tenth locks the second factor.
    as_if_wrong_codes(&server, "alice", 9);
    let res = try_login(&server, "alice", PASS, &wrong(&code(&totp, 0))).await;
    assert_eq!(res.status().as_u16(), 401);
    as_if_wrong_codes(&server, "alice", 10);
    let res = try_login(&server, "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(
        res.status().as_u16(),
        401,
        "locked: the right code opens nothing"
    );

    // A new second factor lifts the lock.
    let (status, out, err) = run_with_stdin(
        &server,
        &["reviewer", "totp", "alice"],
        &format!("{PASS}\n"),
    );
    assert_eq!(status, 0, "{err}");
    let renewed = totp_in(&out);
    let s = login(&server, "alice", PASS, &code(&renewed, 0)).await;
    let (status, page) = s.get("/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("data-refused-second-factors=\"6\""),
        "the next login tells how many were refused: {page}"
    );
    assert!(page.contains("6 mislukte pogingen met de tweede factor sinds uw vorige login"));
    let (_, again) = s.get("/").await;
    assert!(!again.contains("data-refused-second-factors"), "shown once");

    let failed: Vec<String> = audit_details(&server, "login-failed")
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    for reason in ["totp", "totp-backoff", "totp-lockout", "totp-locked"] {
        assert!(failed.iter().any(|d| d == reason), "{reason} in {failed:?}");
    }
    let logins = audit_details(&server, "login");
    let (who, detail) = logins.last().unwrap();
    assert_eq!(who, "alice");
    let label = detail
        .strip_prefix("session ")
        .and_then(|d| d.strip_suffix(", after 6 refused second factors"))
        .unwrap_or_else(|| panic!("{detail}"));
    assert!(
        label.len() == 8 && label.bytes().all(|b| b.is_ascii_hexdigit()),
        "{detail}"
    );
}

async fn get_with_host(server: &Server, host: &str) -> reqwest::Response {
    common::client()
        .get(format!("{}/login", server.review))
        .header("host", host)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_review_face_answers_only_to_its_own_address_and_the_configured_names() {
    let server = Server::start_with(Options {
        env: vec![(
            "SIGNAAL_REVIEW_HOSTS".into(),
            "review.signaal.example".into(),
        )],
        ..Options::default()
    });
    let port = server.review.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "review.signaal.example".to_owned(),
        "review.signaal.example:8443".to_owned(),
    ] {
        let res = get_with_host(&server, &host).await;
        assert_eq!(res.status().as_u16(), 200, "{host}");
    }
    // A name someone else chose for this address: DNS rebinding's shape,
    // where Host and Origin agree.
    let rebound = format!("rebound.attacker.example:{port}");
    let res = get_with_host(&server, &rebound).await;
    assert_eq!(res.status().as_u16(), 421);
    assert!(res.headers().get("content-security-policy").is_some());
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let page = res.text().await.unwrap();
    assert!(page.contains("Not this address"), "{page}");
    assert!(page.contains("review_hosts"));
    let res = common::client()
        .post(format!("{}/login", server.review))
        .header("host", &rebound)
        .header("origin", format!("http://{rebound}"))
        .form(&[("name", "demo"), ("passphrase", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 421, "a POST too");
}

#[tokio::test]
async fn a_review_form_that_is_not_utf8_gets_a_readable_400() {
    let server = Server::start();
    let s = demo_login(&server).await;
    // The login form itself, and a note on a signal.
    let res = common::client()
        .post(format!("{}/login", server.review))
        .header("origin", &server.review)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=demo%ff&passphrase=x&totp=")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.headers().get("content-security-policy").is_some());
    assert!(res.text().await.unwrap().contains("Niet begrepen"));
    assert!(
        !audit_details(&server, "login-failed")
            .iter()
            .any(|(actor, _)| actor.contains('\u{fffd}')),
        "nothing was decoded lossily into the log"
    );

    submit_signal(&server, &[("situation", "Een regel die te hard uitpakt.")]).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let csrf = s.csrf().await;
    let res = s
        .client
        .post(format!("{}/signals/{id}/notes", s.base))
        .header("cookie", &s.cookie)
        .header("origin", &s.base)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&note=caf%E9"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("Niet begrepen"));
    let notes: i64 = db(&server)
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap_or(0);
    assert_eq!(notes, 0, "no note was stored with U+FFFD in it");
}

#[tokio::test]
async fn a_domain_typed_to_run_a_formula_is_defused_in_the_csv_for_comma_and_semicolon_spreadsheets()
 {
    let server = Server::start();
    let s = demo_login(&server).await;
    let typed = ["x;=1+1;", "\u{FF1D}1+1", "a|@SUM(A1)", "ok;+cmd"];
    for _ in typed {
        submit_signal(&server, &[("situation", "Een regel die te hard uitpakt.")]).await;
    }
    let ids = signal_ids(&s.get("/").await.1);
    // Triage offers only the form's domains and those already in use, so a
    // typed formula is refused on the page itself …
    for (id, domain) in ids.iter().zip(typed) {
        let res = s
            .post(
                &format!("/signals/{id}/triage"),
                &[
                    ("status", "in_progress"),
                    ("domain", domain),
                    ("origin", ""),
                ],
            )
            .await;
        assert_eq!(res.status().as_u16(), 422, "{domain}");
    }
    // … but a domain an earlier version let a reviewer type is still in the
    // report, and must still be defused there.
    let db = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    for (id, domain) in ids.iter().zip(typed) {
        let changed = db
            .execute(
                "UPDATE inbox_signals SET status = 'in_progress', domain = ?2 WHERE id = ?1",
                rusqlite::params![id, domain],
            )
            .unwrap();
        assert_eq!(changed, 1, "{id}");
    }
    drop(db);
    let (status, csv) = s.get("/report.csv").await;
    assert_eq!(status, 200);
    // However a spreadsheet splits a line (comma, semicolon, tab, pipe), and
    // whether or not it honours the quotes, no cell starts a formula.
    let starts = [
        '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ];
    for line in csv.lines().skip(1) {
        for cell in line.split([',', ';', '\t', '|']) {
            let bare = cell.trim_start_matches('"');
            assert!(
                !bare.starts_with(starts) || bare == "-",
                "the cell {cell:?} of {line:?} starts a formula\n{csv}"
            );
        }
    }
    assert_eq!(csv.lines().count(), 1 + typed.len(), "{csv}");
}

/// The head in an `audit head: row N, sha256 HEX` line.
fn head_in(text: &str) -> String {
    text.lines()
        .rev()
        .find_map(|l| l.split("audit head: ").nth(1))
        .and_then(|rest| rest.split("sha256 ").nth(1))
        .map(|hex| hex.chars().take(64).collect())
        .unwrap_or_else(|| panic!("no audit head in:\n{text}"))
}

#[tokio::test]
async fn cutting_off_or_rewriting_the_audit_chain_is_caught_against_a_head_kept_outside() {
    let mut server = Server::start_with(Options {
        env: vec![("SIGNAAL_MIX_INTERVAL_SECS".into(), "1".into())],
        ..Options::default()
    });
    let s = demo_login(&server).await;
    submit_signal(&server, &[("situation", "Een regel die te hard uitpakt.")]).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    assert_eq!(s.get(&format!("/signals/{id}")).await.0, 200);
    // A head goes to the log at every mix ...
    assert!(
        server.wait_for_output("audit head: row ", Duration::from_secs(10)),
        "{}",
        server.output()
    );
    // ... and beside every backup, which takes it off-site.
    let dest = server.root.path().join("backup.db");
    let (code, out, err) = server.run(&["backup", dest.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let at_backup =
        head_in(&std::fs::read_to_string(server.root.path().join("backup.db.head")).unwrap());
    assert_eq!(head_in(&out), at_backup, "and the backup says it");
    s.post("/logout", &[]).await;
    // ... and to the log at the stop.
    server.stop();
    let at_stop = head_in(&server.output());
    assert_ne!(at_stop, at_backup, "the logout came after the backup");
    let verify = |pin: &str| server.run(&["audit", "verify", "--head", pin]);
    assert_eq!(verify(&at_stop).0, 0, "{:?}", verify(&at_stop));
    assert_eq!(verify(&at_backup).0, 0);

    // The last rows cut off: the chain alone still links ...
    let conn = db(&server);
    let rows: i64 = conn
        .query_row("SELECT max(seq) FROM audit", [], |r| r.get(0))
        .unwrap();
    conn.execute("DELETE FROM audit WHERE seq > ?1", [rows - 2])
        .unwrap();
    let (code, out, _) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "the chain alone cannot tell: {out}");
    // ... but not the head the log kept.
    let (code, out, _) = verify(&at_stop);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT as pinned"), "{out}");

    // A row rewritten (who opened the signal) and every later one re-hashed.
    let kept: Vec<(String, String, Option<String>, String)> = conn
        .prepare("SELECT actor, action, signal_id, detail FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    conn.execute("DELETE FROM audit", []).unwrap();
    for (actor, action, signal, detail) in &kept {
        let actor = if action == "view" {
            "someone-else"
        } else {
            actor
        };
        signaal::audit::append_named(&conn, actor, action, signal.as_deref(), detail).unwrap();
    }
    drop(conn);
    let (code, out, _) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "re-hashed, the chain alone links again: {out}");
    let (code, out, _) = verify(&at_backup);
    assert_eq!(
        code, 1,
        "the backup's head is not in the rewritten chain: {out}"
    );
    let (code, _, err) = verify("not a hash");
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn sessions_ended_by_the_idle_timeout_or_a_revocation_and_a_command_line_export_are_audited()
{
    let mut server = Server::start_with(Options {
        env: vec![("SIGNAAL_REVIEW_IDLE_SECS".into(), "1".into())],
        ..Options::default()
    });
    let s = demo_login(&server).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        s.get_raw("/").await.status().as_u16(),
        303,
        "the session ended"
    );
    let ends = audit_details(&server, "logout");
    assert_eq!(ends, [("demo".to_owned(), "idle-timeout".to_owned())]);

    let s = demo_login(&server).await;
    let team_pub = server.keys_dir().join("team.pub");
    let before = std::fs::read_to_string(&team_pub).unwrap();
    let kept: String = before
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&team_pub, kept).unwrap();
    assert_eq!(s.get_raw("/").await.status().as_u16(), 303);
    let ends = audit_details(&server, "logout");
    assert_eq!(
        ends.last().unwrap(),
        &("demo".to_owned(), "revoked".to_owned())
    );
    std::fs::write(&team_pub, before).unwrap();

    let out_dir = server.root.path().join("export");
    let (code, _, err) = server.run(&["export", "--encrypted", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let exports = audit_details(&server, "export");
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert!(
        exports[0].0.starts_with("(command line, uid "),
        "{exports:?}"
    );
    assert_eq!(exports[0].1, "command line: 0 signals");

    // A session still open at a clean stop ends with it, on the record.
    let _open = demo_login(&server).await;
    server.stop();
    let ends = audit_details(&server, "logout");
    assert_eq!(
        ends.last().unwrap(),
        &("demo".to_owned(), "server-stopped".to_owned())
    );
}
