//! What a reviewer does once inside: read, triage, note, write to the sender,
//! search, report, export — and what none of that leaves behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::{Server, canary, contains};
use review_support::*;

#[tokio::test]
async fn reading_noting_messaging_and_searching_leave_no_plaintext_on_disk_or_in_the_log() {
    let server = Server::start();
    let (said, noted, asked) = (canary("SIG"), canary("NOTE"), canary("MSG"));
    let (status, receipt_page) = common::submit(
        &common::client(),
        &server,
        &[("situation", &format!("Toeslag teruggevorderd {said}"))],
    )
    .await;
    assert_eq!(status, 200);
    let receipt = common::receipt_in(&receipt_page).unwrap();
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let page_path = format!("/signals/{id}");
    assert!(s.get(&page_path).await.1.contains(&said));

    let res = s
        .post(
            &format!("{page_path}/triage"),
            &[
                ("status", "in_progress"),
                ("domain", "benefits"),
                ("origin", "law"),
                ("labels", "urgent"),
                ("assignee", "demo"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        s.post(&format!("{page_path}/notes"), &[("note", &noted)])
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        s.post(&format!("{page_path}/messages"), &[("message", &asked)])
            .await
            .status()
            .as_u16(),
        303
    );
    let (_, page) = s.get(&page_path).await;
    assert!(page.contains(&noted) && page.contains(&asked));
    assert!(page.contains("data-status=\"in_progress\""));
    for action in ["view", "triage", "note", "message"] {
        assert!(
            page.contains(&format!("data-action=\"{action}\"")),
            "{action} in the trail"
        );
    }

    let hit = s
        .post("/search", &[("q", &said.to_lowercase())])
        .await
        .text()
        .await
        .unwrap();
    assert!(hit.contains(&format!("data-signal=\"{id}\"")), "{hit}");
    assert!(hit.contains("1 van 1 signalen doorzocht"), "{hit}");
    let miss = s
        .post("/search", &[("q", "nothing like this")])
        .await
        .text()
        .await
        .unwrap();
    assert!(miss.contains("0 gevonden."), "{miss}");

    // The sender can read the team's message with the receipt and nothing else.
    let conn = db(&server);
    let salt: Vec<u8> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'install_salt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let envelope: Vec<u8> = conn
        .query_row(
            "SELECT envelope FROM all_messages WHERE signal_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    let source = signaal::crypto::Receipt::parse(&receipt)
        .unwrap()
        .derive(&salt)
        .unwrap();
    let plain = signaal::crypto::open(&envelope, &[&source.identity]).unwrap();
    assert!(contains(&plain, asked.as_bytes()));
    drop(conn);

    // The search was typed in lower case: look for every text in the case it
    // was sent in and in the case it was searched in.
    let needles: Vec<String> = [&said, &noted, &asked]
        .into_iter()
        .flat_map(|s| [s.clone(), s.to_lowercase()])
        .collect();
    assert!(needles.contains(&said.to_lowercase()) && said.to_lowercase() != said);
    // The same scan must find the note's ciphertext, or "not found" means nothing.
    let note: Vec<u8> = db(&server)
        .query_row(
            "SELECT envelope FROM notes WHERE signal_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    let scan = server.data_files();
    scan.assert_read(&["signaal.db", "signaal.db-wal"]);
    for needle in &needles {
        scan.assert_nowhere(needle.as_bytes(), needle);
    }
    scan.assert_finds(&common::control_of(&note), "the stored note");
    let log = server.output();
    assert!(
        log.contains("route=\"/search\""),
        "requests are logged: {log}"
    );
    for needle in &needles {
        assert!(!log.contains(needle.as_str()), "{needle} in the log");
    }
}

#[tokio::test]
async fn the_queue_filters_sorts_pages_and_flags_overdue_signals_without_decrypting() {
    let server = Server::start();
    for i in 0..53 {
        submit_signal(&server, &[("situation", &format!("Signaal nummer {i}"))]).await;
    }
    let conn = db(&server);
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM all_signals ORDER BY id LIMIT 4")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // One "today" for the whole test, and ages far enough from the limits
    // (7 days to acknowledge, 3 months to give feedback) that the server's
    // day may be the next one.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for (id, age) in [
        (&ids[0], "-10 days"),
        (&ids[1], "-4 months"),
        (&ids[3], "-3 days"),
    ] {
        // The signal may be in the inbox or, after a mix, in the main table.
        for table in ["signals", "inbox_signals"] {
            conn.execute(
                &format!("UPDATE {table} SET received_on = date(?2, ?3) WHERE id = ?1"),
                [id.as_str(), today.as_str(), age],
            )
            .unwrap();
        }
    }
    drop(conn);
    let s = demo_login(&server).await;
    s.post(
        &format!("/signals/{}/triage", ids[2]),
        &[
            ("status", "closed"),
            ("domain", "taxes"),
            ("origin", ""),
            ("labels", ""),
            ("assignee", ""),
        ],
    )
    .await;

    let (_, first) = s.get("/").await;
    assert_eq!(signal_ids(&first).len(), 25);
    assert!(first.contains("data-total=\"53\""));
    assert!(
        first.contains("Signaal nummer"),
        "the queue shows what each signal is about"
    );
    let (_, second) = s.get("/?page=2").await;
    assert_eq!(signal_ids(&second).len(), 25);
    let (_, third) = s.get("/?page=3").await;
    assert_eq!(signal_ids(&third).len(), 3);
    assert!(!third.contains("rel=\"next\""), "the last page has no next");
    let (_, oldest) = s.get("/?sort=oldest").await;
    assert_eq!(
        signal_ids(&oldest)[..3],
        [ids[1].clone(), ids[0].clone(), ids[3].clone()]
    );
    // Each flag on its own signal's row, and on no other.
    let flags = |id: &str| -> Vec<String> {
        let row = &oldest[oldest.find(&format!("data-signal=\"{id}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        ["ack", "feedback", "reply"]
            .into_iter()
            .filter(|f| row.contains(&format!("data-flag=\"{f}\"")))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        flags(&ids[1]),
        ["ack", "feedback"],
        "four months without an answer"
    );
    assert_eq!(flags(&ids[0]), ["ack"], "ten days unacknowledged");
    assert!(flags(&ids[3]).is_empty(), "three days old");
    for id in signal_ids(&oldest).iter().skip(2) {
        assert!(flags(id).is_empty(), "{id} is new and flagged");
    }
    let (_, closed) = s.get("/?status=closed").await;
    assert_eq!(signal_ids(&closed), [ids[2].clone()]);
    let (_, taxes) = s.get("/?domain=taxes").await;
    assert_eq!(signal_ids(&taxes), [ids[2].clone()]);
    let partial = s
        .post("/search", &[("q", "signaal nummer 7"), ("scope", "10")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        partial.contains("10 van 53 signalen doorzocht"),
        "{partial}"
    );
    let conn = db(&server);
    let views: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'view'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(views, 0, "listing opens no signal");
}

#[tokio::test]
async fn the_report_shows_the_team_exact_counts_and_counts_below_five_as_less_than_five_for_publication()
 {
    let server = Server::start();
    for i in 0..7 {
        submit_signal(&server, &[("situation", &format!("Hardheid {i}"))]).await;
    }
    let s = demo_login(&server).await;
    let ids = signal_ids(&s.get("/").await.1);
    for id in &ids[..6] {
        s.post(
            &format!("/signals/{id}/triage"),
            &[
                ("status", "in_progress"),
                ("domain", "benefits"),
                ("origin", "law"),
                ("labels", ""),
                ("assignee", ""),
            ],
        )
        .await;
    }
    // All in one month, whatever day the test runs on (a run across a
    // month's end would split them otherwise).
    for table in ["signals", "inbox_signals"] {
        db(&server)
            .execute(
                &format!("UPDATE {table} SET received_on = '2026-03-16'"),
                [],
            )
            .unwrap();
    }
    let (_, page) = s.get("/report").await;
    // The team sees the exact count, and beside it what may be published.
    assert!(
        page.contains("<td class=\"count\">6</td><td class=\"count\" data-publishable>6</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td class=\"count\">1</td><td class=\"count\" data-publishable>&lt;5</td>"),
        "{page}"
    );
    let (_, csv) = s.get("/report.csv").await;
    let month = "2026-03";
    assert!(
        csv.contains(&format!("{month},benefits,in_progress,law,6\n")),
        "{csv}"
    );
    assert!(csv.contains(&format!("{month},-,new,-,<5\n")), "{csv}");
    let (code, out, err) = server.run(&["report", "--csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, csv, "the command line prints the same report");
    let reports: i64 = db(&server)
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'report'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reports, 3);
}

#[tokio::test]
async fn the_audit_chain_verifies_and_a_tampered_or_deleted_row_is_named() {
    let server = Server::start();
    submit_signal(&server, &[("situation", "Iets dat misging")]).await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    s.get(&format!("/signals/{id}")).await;
    s.post(
        &format!("/signals/{id}/triage"),
        &[
            ("status", "forwarded"),
            ("domain", ""),
            ("origin", ""),
            ("labels", ""),
            ("assignee", ""),
        ],
    )
    .await;
    s.get(&format!("/signals/{id}")).await;
    let (code, out, _) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain intact: 5 rows"), "{out}");
    let head: Vec<u8> = db(&server)
        .query_row(
            "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
    assert!(out.contains(&format!("head: sha256 {hex}")), "{out}");

    let conn = db(&server);
    conn.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2", [])
        .unwrap();
    let (code, out, _) = server.run(&["audit", "verify"]);
    assert_eq!(code, 1);
    assert!(out.contains("broken at row 2"), "{out}");
    conn.execute("UPDATE audit SET actor = 'demo' WHERE seq = 2", [])
        .unwrap();
    assert_eq!(
        server.run(&["audit", "verify"]).0,
        0,
        "restored, it verifies again"
    );
    conn.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    let (code, out, _) = server.run(&["audit", "verify"]);
    assert_eq!(code, 1);
    assert!(out.contains("broken at row 4"), "{out}");
}

#[tokio::test]
async fn a_selection_exports_as_a_tar_of_the_stored_age_files() {
    let server = Server::start();
    for i in 0..3 {
        submit_signal(&server, &[("situation", &format!("Export {i}"))]).await;
    }
    let s = demo_login(&server).await;
    let ids = signal_ids(&s.get("/").await.1);
    let res = s.post("/export", &[("id", &ids[0]), ("id", &ids[2])]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-tar");
    let bytes = res.bytes().await.unwrap();
    let mut archive = tar::Archive::new(&bytes[..]);
    let conn = db(&server);
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        let id = name.strip_suffix(".age").unwrap().to_owned();
        let stored: Vec<u8> = conn
            .query_row(
                "SELECT envelope FROM all_signals WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(content, stored, "byte for byte the stored envelope");
        names.push(id);
    }
    names.sort();
    let mut want = vec![ids[0].clone(), ids[2].clone()];
    want.sort();
    assert_eq!(names, want);
    let exports: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'export'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(exports, 2);
}

#[tokio::test]
async fn the_signal_page_flags_what_the_personal_data_guard_finds() {
    let server = Server::start();
    submit_signal(
        &server,
        &[
            (
                "situation",
                "Mail me op jan.jansen@example.nl over deze regel",
            ),
            ("confirm_personal_data", "yes"),
        ],
    )
    .await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let (_, page) = s.get(&format!("/signals/{id}")).await;
    assert!(page.contains("data-guard=\"email\""), "{page}");
}

#[tokio::test]
async fn since_when_and_reported_before_reach_the_reviewer_as_the_sender_chose_them() {
    let server = Server::start();
    let (status, page) = common::submit(
        &common::client(),
        &server,
        &[
            ("situation", "Een regel die al lang knelt."),
            ("since", "years"),
            ("reported", "elsewhere"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(common::receipt_in(&page).is_some());
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let path = format!("/signals/{id}");
    for (session, since, reported) in [
        (
            s.in_language("nl"),
            ["Sinds wanneer ziet u dit?", "Al jaren"],
            ["Hebt u dit al eerder ergens gemeld?", "Ja, ergens anders"],
        ),
        (
            s.in_language("en"),
            ["Since when have you seen this?", "For years"],
            [
                "Have you reported this anywhere before?",
                "Yes, somewhere else",
            ],
        ),
    ] {
        let (status, page) = session.get(&path).await;
        assert_eq!(status, 200, "{page}");
        for [label, answer] in [since, reported] {
            assert!(
                page.contains(&format!(
                    r#"<dt>{label}</dt><dd class="answer" dir="auto">{answer}</dd>"#
                )),
                "the reviewer sees {label:?} answered {answer:?}: {page}"
            );
        }
    }
}
