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
    wait_for_counts(&server, &expected);
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

/// Waits (up to 20 s) until the summaries hold at least the `expected` counts.
fn wait_for_counts(server: &Server, expected: &[(&str, u64)]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while expected
        .iter()
        .any(|(k, n)| counted(&server.output(), k) < *n)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
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

/// What the intake refuses before a route sees it (a client over its share of
/// connections, a head too large, a head that never comes) and a body that
/// stops coming (408) reach the summary as counts, with no line of their own.
#[tokio::test(flavor = "multi_thread")]
async fn refusals_before_routing_and_timeouts_are_counted_in_the_summary() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start_with(Options {
        env: vec![
            ("SIGNAAL_MIX_INTERVAL_SECS".into(), "2".into()),
            ("SIGNAAL_MAX_CONNECTIONS_PER_CLIENT".into(), "1".into()),
            ("SIGNAAL_HEADER_TIMEOUT_SECS".into(), "2".into()),
            ("SIGNAAL_REQUEST_TIMEOUT_SECS".into(), "2".into()),
        ],
        ..Options::default()
    });
    let host = server.intake.trim_start_matches("http://").to_owned();
    // Each from an address of its own, but the held one and the one over the bound.
    let connect = |from: &str| {
        let (from, host) = (from.to_owned(), host.clone());
        async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
            socket.connect(host.parse().unwrap()).await.unwrap()
        }
    };
    let answer_of = |from: &str, request: Vec<u8>| {
        let connecting = connect(from);
        async move {
            let mut stream = connecting.await;
            stream.write_all(&request).await.unwrap();
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
                .await;
            String::from_utf8_lossy(&answer).into_owned()
        }
    };
    // A body that stops coming: 408 from the request timeout.
    let slow = answer_of(
        "127.0.3.1",
        format!(
            "POST /signal HTTP/1.1\r\nHost: {host}\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nsituation="
        )
        .into_bytes(),
    );
    // A head hyper refuses by itself: 431.
    let long = answer_of(
        "127.0.3.2",
        format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nX-Long: {}\r\n\r\n",
            "a".repeat(70 * 1024)
        )
        .into_bytes(),
    );
    let (slow, long) = tokio::join!(slow, long);
    assert!(slow.starts_with("HTTP/1.1 408"), "{slow}");
    assert!(long.starts_with("HTTP/1.1 431"), "{long}");
    // A connection that never sends a head is closed after the header timeout.
    let silent = answer_of("127.0.3.3", Vec::new()).await;
    assert!(silent.is_empty(), "{silent}");
    // One connection held open by this client; its second gets 503.
    let mut held = connect("127.0.3.4").await;
    held.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    // The server takes the slot in the connection's own task: give it the
    // moment to run (the header timeout, 2 s, keeps the connection longer).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let over = answer_of(
        "127.0.3.4",
        format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
    )
    .await;
    assert!(over.starts_with("HTTP/1.1 503"), "{over}");
    // The held head never ends: the header timeout closes it without a page.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), held.read_to_end(&mut rest))
        .await
        .expect("the header timeout closes a head that never ends")
        .unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    // A page served and then left idle is no refusal.
    let c = client_from("127.0.3.5");
    let form = c.get(format!("{}/", server.intake)).send().await.unwrap();
    assert_eq!(form.status(), 200);

    let expected = [
        ("- connection:bad-head 431", 1),
        ("- connection:per-client-bound 503", 1),
        // The silent connection, and the held one (its head never ended).
        ("- connection:head-timeout 408", 2),
        ("POST - 408", 1),
    ];
    wait_for_counts(&server, &expected);
    // Two more intervals, so that the idle keep-alive connection of the
    // form's request has timed out and would have been counted.
    std::thread::sleep(Duration::from_secs(6));
    let log = server.output();
    for (key, n) in expected {
        assert_eq!(counted(&log, key), n, "{key} in the summaries: {log}");
    }
    assert_eq!(counted(&log, "GET / 200"), 1, "{log}");
    let own_lines = log
        .lines()
        .filter(|l| l.contains("connection:") && !l.contains("intake summary"))
        .count();
    assert_eq!(own_lines, 0, "refusals have lines of their own: {log}");
    assert!(!log.contains("127.0.3."), "an address in the log: {log}");
}

/// The review face logs a line for every answer, also those no route gave:
/// a POST from another site (403), a name it does not answer to (421), an
/// address it does not have (404); and a start that makes the database logs
/// each migration, a start on it none.
#[tokio::test]
async fn the_review_face_logs_refusals_and_a_new_database_logs_its_migrations() {
    let mut server = Server::start();
    let c = common::client();
    let foreign = c
        .post(format!("{}/logout", server.review))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let misdirected = c
        .get(format!("{}/login", server.review))
        .header("host", "elders.example")
        .send()
        .await
        .unwrap();
    assert_eq!(misdirected.status(), 421);
    let missing = c
        .get(format!("{}/nergens", server.review))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let line = |method: &str, status: u16| {
        let method = method.to_owned();
        move |l: &&str| {
            l.contains("request")
                && l.contains(&format!("method={method}"))
                && l.contains("route=\"-\"")
                && l.contains(&format!("status={status}"))
        }
    };
    assert!(server.wait_for_output("status=404", std::time::Duration::from_secs(5)));
    let log = server.output();
    for (method, status) in [("POST", 403), ("GET", 421), ("GET", 404)] {
        assert_eq!(
            log.lines().filter(line(method, status)).count(),
            1,
            "{method} {status}: {log}"
        );
    }
    // A routed request is logged once, by its route.
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("route=\"/logout\""))
            .count(),
        0,
        "the refused POST never reached its route: {log}"
    );
    let migrated: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("migrated the database schema"))
        .collect();
    assert_eq!(migrated.len(), signaal::store::CURRENT_VERSION, "{log}");
    assert!(
        migrated
            .last()
            .is_some_and(|l| l.contains(&format!("to={}", signaal::store::CURRENT_VERSION))),
        "{migrated:?}"
    );
    server.restart();
    let again = server.output();
    let both_starts = again
        .lines()
        .filter(|l| l.contains("migrated the database schema"))
        .count();
    assert_eq!(
        both_starts,
        migrated.len(),
        "no migration on a current database: {again}"
    );
}
