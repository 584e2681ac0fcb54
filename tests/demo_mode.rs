//! Demo mode never by accident: demo keys are made and used only for a form
//! on this machine (or with `demo = true`), and while they are in use every
//! page of the intake says DEMO, as every page of the review face does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::process::{Command, Stdio};

use common::{Options, Server, TeamKey, binary, client, receipt_in, submit};

/// Runs `signaal serve` in `dir` with `env`; returns (exit code, stderr).
fn serve_in(dir: &std::path::Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(binary());
    cmd.arg("serve")
        .current_dir(dir)
        .env("SIGNAAL_INTAKE_ADDR", "127.0.0.1:0")
        .env("SIGNAAL_REVIEW_ADDR", "127.0.0.1:0")
        .env("SIGNAAL_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let out = common::output_within(&mut cmd, None, common::DEADLINE);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PUBLIC: (&str, &str) = ("SIGNAAL_PUBLIC_URL", "https://signaal.example.nl/");

#[test]
fn a_missing_team_pub_under_a_public_address_stops_the_start_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let (code, err) = serve_in(dir.path(), &[PUBLIC]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    for word in [
        "team.pub",
        "does not exist",
        "public_url",
        "demo = true",
        "keys_dir",
    ] {
        assert!(err.contains(word), "{word}: {err}");
    }
    assert!(
        !err.contains("passphrase"),
        "no demo passphrase printed: {err}"
    );
    assert!(
        !dir.path().join("keys/team.pub").exists(),
        "no demo keys were made"
    );
    assert!(!dir.path().join("keys/reviewers/demo.age").exists());
}

#[test]
fn demo_keys_an_earlier_run_made_are_refused_under_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    signaal::keys::load_or_make_demo(&dir.path().join("keys"), false).unwrap();
    let (code, err) = serve_in(dir.path(), &[PUBLIC]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("holds demo keys") && err.contains("demo = true"),
        "{err}"
    );
    let (code, err) = serve_in(
        dir.path(),
        &[
            PUBLIC,
            ("SIGNAAL_DEMO", "true"),
            ("SIGNAAL_PRODUCTION", "true"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("demo"),
        "demo and production exclude each other: {err}"
    );
}

#[tokio::test]
async fn with_demo_true_a_demonstration_runs_under_a_public_address_and_says_so() {
    let server = Server::start_with(Options {
        env: vec![
            (PUBLIC.0.into(), PUBLIC.1.into()),
            ("SIGNAAL_DEMO".into(), "true".into()),
        ],
        ..Options::default()
    });
    let page = client()
        .get(format!("{}/?lang=en", server.intake))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-demo"), "{page}");
    assert!(page.contains("Do not send a real signal here"), "{page}");
}

#[tokio::test]
async fn every_intake_page_says_demo_while_demo_keys_are_in_use() {
    let server = Server::start();
    let c = client();
    let mut pages = Vec::new();
    for path in [
        "/",
        "/?lang=en",
        "/privacy",
        "/toegankelijkheid",
        "/accessibility",
        "/embed",
        "/follow-up",
        "/nergens",
    ] {
        let res = c
            .get(format!("{}{path}", server.intake))
            .send()
            .await
            .unwrap();
        pages.push((path.to_owned(), res.text().await.unwrap()));
    }
    let res = c
        .delete(format!("{}/", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    pages.push(("DELETE /".into(), res.text().await.unwrap()));
    let (status, receipt) = submit(&c, &server, &[("situation", "Een demonstratie.")]).await;
    assert_eq!(status, 200);
    let code = receipt_in(&receipt).unwrap();
    pages.push(("the receipt".into(), receipt));
    for (path, body) in [
        ("/follow-up", format!("receipt={code}")),
        ("/follow-up", "receipt=AAAA-BBBB-CCCC-DDDD-EEEE".to_owned()),
    ] {
        let res = c
            .post(format!("{}{path}", server.intake))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        pages.push((format!("POST {path}"), res.text().await.unwrap()));
    }
    for (what, page) in &pages {
        assert!(
            page.contains("data-demo"),
            "{what} has no DEMO notice: {page}"
        );
        assert!(page.contains("<strong>DEMO</strong>"), "{what}");
    }

    // With the team's own keys, no page says DEMO.
    let real = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    let page = c
        .get(format!("{}/", real.intake))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("data-demo"), "{page}");
}
