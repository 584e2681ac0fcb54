//! Browser tests: the real binary, twice, driven by real headless Chromium
//! through `tests/browser/run.mjs` (playwright-core + axe-core).
//!
//! Without Chromium, node or `tests/browser/node_modules` the test says so and
//! passes as skipped; with `CI=true` a missing piece is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Options, Server};
use signaal::store::Store;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("SIGNAAL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What is missing to run the browser tests, if anything.
fn missing() -> Option<String> {
    if !chromium().exists() {
        return Some(format!(
            "no browser at {} (apt-get install chromium)",
            chromium().display()
        ));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    for package in ["playwright-core", "axe-core"] {
        if !browser_dir().join("node_modules").join(package).exists() {
            return Some(format!(
                "{package} is not installed (npm ci --prefix tests/browser)"
            ));
        }
    }
    None
}

fn available() -> bool {
    match missing() {
        None => true,
        Some(what) => {
            common::skip(&format!("the browser tests: {what}"));
            false
        }
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A server with one hardship published, as the review face will publish
/// it: two measures (one past its target), and one signal linked to it,
/// whose receipt code comes back too.
fn published_server() -> (Server, String) {
    use signaal::crypto::FORMAT_AGE_X25519;
    use signaal::signal::sealed::seal_fields;
    use signaal::store::hardships::{NewHardship, NewMeasure};
    use signaal::store::publications::NewPublication;
    let server = Server::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let code = runtime.block_on(async {
        let (status, page) = common::submit(
            &common::client(),
            &server,
            &[("situation", "Een kleine fout kost het hele bedrag.")],
        )
        .await;
        assert_eq!(status, 200, "{page}");
        common::receipt_in(&page).unwrap()
    });
    let signal: String = rusqlite::Connection::open(server.data_dir().join("signaal.db"))
        .unwrap()
        .query_row("SELECT id FROM all_signals", [], |r| r.get(0))
        .unwrap();
    let team = signaal::keys::load_team(&server.keys_dir())
        .unwrap()
        .recipients;
    let sealed = |fields: &[(&str, &str)]| seal_fields(fields, &team).unwrap();
    let store = Store::open(&server.data_dir()).unwrap();
    runtime.block_on(async {
        let hardship = store
            .add_hardship(
                "demo".into(),
                NewHardship {
                    origin: "law".into(),
                    domain: "benefits".into(),
                    format: FORMAT_AGE_X25519,
                    envelope: sealed(&[("title", "Intern"), ("description", "Intern")]),
                },
            )
            .await
            .unwrap();
        let mut measures = Vec::new();
        for (kind, lever, target, text) in [
            (
                "recommendation",
                "policy_rule",
                "",
                "Een kleine fout leidt niet tot terugvordering van alles.",
            ),
            (
                "measure",
                "law",
                "2026-01-31",
                "De wet krijgt een hardheidsclausule.",
            ),
        ] {
            let id = store
                .add_measure(
                    hardship.clone(),
                    "demo".into(),
                    NewMeasure {
                        kind: kind.into(),
                        lever: lever.into(),
                        target_on: target.into(),
                        format: FORMAT_AGE_X25519,
                        envelope: sealed(&[("text", "Intern")]),
                        note: sealed(&[("note", "")]),
                    },
                )
                .await
                .unwrap()
                .unwrap();
            measures.push((
                id,
                text.to_owned(),
                "Dienst Toeslagen".to_owned(),
                String::new(),
            ));
        }
        store
            .set_measure_status(
                hardship.clone(),
                measures[1].0.clone(),
                "in_progress".into(),
                "demo".into(),
                sealed(&[("note", "")]),
            )
            .await
            .unwrap();
        assert!(
            store
                .link(signal, hardship.clone(), "demo".into())
                .await
                .unwrap()
        );
        let new = NewPublication {
            title: "Een kleine fout kost het hele bedrag".into(),
            summary: "Wie een kleine fout maakt in de aanvraag, betaalt alles terug.".into(),
            cause: "Artikel 26 Awir".into(),
            measures,
        };
        assert!(store.publish(hardship, "demo".into(), new).await.unwrap());
    });
    store.close();
    (server, code)
}

#[test]
fn the_intake_and_the_review_face_work_in_a_real_browser_without_javascript_and_pass_axe_in_both_languages()
 {
    if !available() {
        return;
    }
    // Many look-ups of receipt codes from one address: allow them here (the
    // strict server shows the limit).
    let server = Server::start_with(Options {
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "100000")]),
        ..Options::default()
    });
    // Tight limits so the 429 and 413 pages can be reached, and loopback
    // counted as a work network so the notice shows.
    let strict = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_SUBMIT_BURST", "1"),
            ("SIGNAAL_SUBMIT_PER_HOUR", "1"),
            ("SIGNAAL_LOOKUP_PER_HOUR", "1"),
            ("SIGNAAL_MAX_BODY_BYTES", "2048"),
            ("SIGNAAL_WORK_NETWORKS", "127.0.0.0/8"),
        ]),
        ..Options::default()
    });
    // Two things an hour from an address: a signal, a message, then the
    // limit stops the next message.
    let busy = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_SUBMIT_BURST", "2"),
            ("SIGNAAL_SUBMIT_PER_HOUR", "1"),
        ]),
        ..Options::default()
    });
    // One look-up or submission a second for everyone together: a message
    // sent at once after opening its thread is held back before the look-up.
    let held = Server::start_with(Options {
        env: env(&[("SIGNAAL_GLOBAL_PER_SECOND", "1")]),
        ..Options::default()
    });
    let (published, part_of_code) = published_server();
    // The annual report of the published hardship, as the command line
    // writes it, in each language: a standalone document the browser opens.
    let annual = tempfile::tempdir().unwrap();
    let year = time::OffsetDateTime::now_utc().year().to_string();
    let mut annual_files = Vec::new();
    for lang in ["nl", "en"] {
        let (code, html, err) =
            published.run(&["report", "hardships", "--year", &year, "--lang", lang]);
        assert_eq!(code, 0, "{err}");
        let path = annual.path().join(format!("annual-{lang}.html"));
        std::fs::write(&path, html).unwrap();
        annual_files.push(path);
    }
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("node");
    cmd.arg("run.mjs")
        .current_dir(browser_dir())
        .env("SIGNAAL_URL", &server.intake)
        .env("SIGNAAL_STRICT_URL", &strict.intake)
        .env("SIGNAAL_BUSY_URL", &busy.intake)
        .env("SIGNAAL_HELD_URL", &held.intake)
        .env("SIGNAAL_PUBLISHED_URL", &published.intake)
        .env("SIGNAAL_PART_OF_CODE", &part_of_code)
        .env("SIGNAAL_REVIEW_URL", &server.review)
        .env("SIGNAAL_DB", server.data_dir().join("signaal.db"))
        .env(
            "SIGNAAL_REVIEW_PASSPHRASE",
            server
                .demo_passphrase()
                .expect("the demo passphrase is printed"),
        )
        .env("SIGNAAL_ANNUAL_NL", &annual_files[0])
        .env("SIGNAAL_ANNUAL_EN", &annual_files[1])
        .env("SIGNAAL_REPORT", report.path())
        .env("SIGNAAL_CHROMIUM", chromium());
    // Every check waits for its page a few seconds at most; the whole run
    // takes about a minute.
    let out = common::output_within(&mut cmd, None, std::time::Duration::from_secs(600));
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    let rows = report["axe"].as_array().unwrap();
    // Twenty-seven intake pages (one of them a thread with the team's open
    // question, three the results and a thread that is part of a published
    // hardship), the annual report, and sixteen review pages (seven of them
    // the hardships': the overview, empty and with measures, a refused form,
    // a hardship with a refused measure, a hardship, the guard's check
    // before publishing, the hardship published; then the overview with a
    // refused year and a signal that does not exist), two languages, each
    // checked and clean.
    assert_eq!(rows.len(), 88, "{rows:?}");
    assert!(rows.iter().all(|r| r["violations"] == 0), "{rows:?}");
    // Nothing the browser typed reached the log.
    let log = server.output();
    for typed in [
        "123456782",
        "Gemeente Voorbeeld",
        "j.jansen@example.nl",
        "peildatum",
        "06-12345678",
    ] {
        assert!(
            !log.contains(typed),
            "{typed} appears in the server's output"
        );
    }
}
