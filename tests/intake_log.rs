//! The intake's log keeps no moment of a sender: no line per request on the
//! routes that store, look up or answer with a code — only a summary of
//! counts after each mix, which holds no address, code or text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Options, Server, canary, client_from, receipt_in, submit};

#[tokio::test(flavor = "multi_thread")]
async fn senders_leave_counts_in_the_log_never_a_line_of_their_own() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_MIX_INTERVAL_SECS".into(), "2".into())],
        ..Options::default()
    });
    let c = client_from("127.0.0.61");
    let text = canary("LOG");
    let mut receipts = Vec::new();
    for i in 0..12 {
        let (status, page) = submit(&c, &server, &[("situation", &format!("{text} {i}"))]).await;
        assert_eq!(status, 200);
        receipts.push(receipt_in(&page).unwrap());
    }
    // One the guard holds back (a BSN), a look-up that fails, and a 404.
    let (status, held) = submit(&c, &server, &[("situation", "BSN 111222333 staat erin")]).await;
    assert_eq!(status, 200);
    assert!(!held.contains("data-receipt"));
    let wrong = c
        .post(format!("{}/follow-up", server.intake))
        .form(&[("receipt", "AAAA-BBBB-CCCC-DDDD-EEEE")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let missing = c
        .get(format!("{}/nergens", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    for (n, receipt) in receipts[..4].iter().enumerate() {
        // Each sender comes back from an address of their own.
        let c = client_from(&format!("127.0.1.{}", 61 + n));
        for (path, fields) in [
            ("/follow-up", vec![("receipt", receipt.as_str())]),
            (
                "/follow-up/message",
                vec![("receipt", receipt.as_str()), ("message", text.as_str())],
            ),
            ("/receipt", vec![("receipt", receipt.as_str())]),
        ] {
            let res = c
                .post(format!("{}{path}", server.intake))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
        }
    }
    // The review face keeps its lines (reviewers are accountable).
    client_from("127.0.0.62")
        .get(format!("{}/", server.review))
        .send()
        .await
        .unwrap();

    // Wait until the summaries after the next mixes hold every request.
    let expected = [
        ("POST /signal 200", 13),
        ("POST /follow-up 200", 4),
        ("POST /follow-up 404", 1),
        ("POST /follow-up/message 200", 4),
        ("POST /receipt 200", 4),
        ("GET - 404", 1),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while expected
        .iter()
        .any(|(k, n)| counted(&server.output(), k) < *n)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.output();
    for (key, n) in expected {
        assert_eq!(counted(&log, key), n, "{key} in the summaries: {log}");
    }
    // The stored signals and the one held back fall in the same bucket.
    for line in log.lines().filter(|l| l.contains("intake summary")) {
        assert!(
            !line.contains("1s_to_10s") && !line.contains("over_10s"),
            "{line}"
        );
    }
    for intake_route in ["/signal", "/follow-up", "/receipt", "/nergens"] {
        let own_lines = log
            .lines()
            .filter(|l| l.contains(intake_route) && !l.contains("intake summary"))
            .count();
        assert_eq!(own_lines, 0, "{intake_route} has lines of its own: {log}");
    }
    assert!(
        log.lines()
            .any(|l| l.contains("route=\"/\"") && l.contains("status=303")),
        "the review face still logs its requests: {log}"
    );
    assert!(!log.contains(&text), "a sender's text in the log");
    for receipt in &receipts {
        assert!(!log.contains(receipt.as_str()), "a receipt code in the log");
    }
    for address in ["127.0.0.61", "127.0.1.61", "127.0.1.64"] {
        assert!(!log.contains(address), "a sender's address in the log");
    }
    assert!(!log.contains("111222333"), "the held-back text in the log");
}

/// The sum of the counts for `key` (`METHOD ROUTE STATUS`) over every summary line.
fn counted(log: &str, key: &str) -> u64 {
    log.lines()
        .filter(|l| l.contains("intake summary"))
        .filter_map(|l| l.split("counts=").nth(1))
        .flat_map(|counts| counts.split("; "))
        .filter_map(|entry| entry.strip_prefix(&format!("{key}: ")))
        .filter_map(|rest| rest.split(' ').next()?.parse::<u64>().ok())
        .sum()
}
