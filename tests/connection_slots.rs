//! A slow client cannot starve the others: one client (one address) holds
//! at most `max_connections_per_client` connections, the ones over it are
//! answered 503 at once with a page, and a visitor from elsewhere is served
//! while the slow sockets hang.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::{Duration, Instant};

use common::{Options, Server, client_from};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

async fn connect_from(ip: &str, to: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    socket
        .connect(to.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_from_one_address_leave_room_for_a_visitor_from_another() {
    let server = Server::start_with(Options {
        env: vec![
            ("SIGNAAL_MAX_CONNECTIONS".into(), "8".into()),
            ("SIGNAAL_MAX_CONNECTIONS_PER_CLIENT".into(), "2".into()),
        ],
        ..Options::default()
    });
    // Eight sockets from one address start a submission and never finish it.
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut s = connect_from("127.0.0.2", &server.intake).await;
        s.write_all(
            b"POST /signal HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nsituation=",
        )
        .await
        .unwrap();
        slow.push(s);
    }
    // Two hold their slots; the six over the bound get a page at once.
    let mut refused = 0;
    let mut held = 0;
    for s in &mut slow {
        let mut answer = Vec::new();
        match tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await {
            Ok(Ok(_)) => {
                let text = String::from_utf8_lossy(&answer);
                assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
                assert!(text.contains("content-security-policy:"), "{text}");
                assert!(text.contains("retry-after:"), "{text}");
                assert!(text.contains("Het is nu te druk"), "{text}");
                assert!(text.contains("It is too busy right now"), "{text}");
                refused += 1;
            }
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => held += 1,
        }
    }
    assert_eq!((held, refused), (2, 6));

    // A colleague elsewhere gets the form at once, though the slow sockets
    // still hang (the request timeout is 30 s).
    let started = Instant::now();
    let res = client_from("127.0.0.3")
        .get(format!("{}/", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let took = started.elapsed();
    println!("a GET from another address while one holds its slots: {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    drop(slow);
}

/// Behind a trusted proxy every connection comes from the proxy: each
/// request then holds a slot of the client `X-Forwarded-For` names, so slow
/// bodies from one client behind the proxy take at most its share of the
/// proxy's connections to signaal, and everyone else behind the proxy (and
/// beside it) is served meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_from_one_client_behind_a_trusted_proxy_leave_room_for_the_others() {
    let server = Server::start_with(Options {
        env: vec![
            ("SIGNAAL_MAX_CONNECTIONS".into(), "8".into()),
            ("SIGNAAL_MAX_CONNECTIONS_PER_CLIENT".into(), "2".into()),
            ("SIGNAAL_TRUSTED_PROXIES".into(), "127.0.0.5/32".into()),
        ],
        ..Options::default()
    });
    // Every one of the proxy's connections carries one client's stalled
    // submission.
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut s = connect_from("127.0.0.5", &server.intake).await;
        s.write_all(
            b"POST /signal HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.7\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nsituation=",
        )
        .await
        .unwrap();
        slow.push(s);
    }
    let mut refused = 0;
    let mut held = 0;
    for s in &mut slow {
        let mut answer = vec![0u8; 64 * 1024];
        match tokio::time::timeout(Duration::from_secs(3), s.read(&mut answer)).await {
            Ok(Ok(n)) => {
                let text = String::from_utf8_lossy(&answer[..n]);
                assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
                assert!(text.contains("content-security-policy:"), "{text}");
                assert!(text.contains("x-content-type-options: nosniff"), "{text}");
                assert!(text.contains("retry-after: 10"), "{text}");
                // Closed, so the refused connection frees its slot at once.
                assert!(text.contains("connection: close"), "{text}");
                assert!(text.contains("Het is nu te druk"), "{text}");
                assert!(text.contains("It is too busy right now"), "{text}");
                refused += 1;
            }
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => held += 1,
        }
    }
    assert_eq!((held, refused), (2, 6));

    // Another colleague behind the same proxy, on a connection of its own
    // (the proxy opens one per request in flight), gets the form at once;
    // so does a visitor who comes in directly.
    for (via, forwarded) in [("127.0.0.5", Some("192.0.2.8")), ("127.0.0.6", None)] {
        let started = Instant::now();
        let mut s = connect_from(via, &server.intake).await;
        let xff = forwarded.map_or(String::new(), |a| format!("X-Forwarded-For: {a}\r\n"));
        s.write_all(
            format!("GET / HTTP/1.1\r\nHost: x\r\n{xff}Connection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer))
            .await
            .expect("no answer while one client's bodies stall")
            .unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
        let took = started.elapsed();
        println!(
            "a GET via {via} ({forwarded:?}) while one client behind the proxy stalls: {took:?}"
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }
    drop(slow);
}

/// The review face has the same bound: a third connection from one place
/// gets the 503 page with the headers at once.
#[tokio::test(flavor = "multi_thread")]
async fn the_review_face_bounds_one_clients_connections_too() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_MAX_CONNECTIONS_PER_CLIENT".into(), "2".into())],
        ..Options::default()
    });
    let host = server.review.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..3 {
        let mut s = connect_from("127.0.0.9", &server.review).await;
        s.write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nname="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        slow.push(s);
    }
    let mut answers = Vec::new();
    for s in &mut slow {
        let mut answer = Vec::new();
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await
        {
            answers.push(String::from_utf8_lossy(&answer).into_owned());
        }
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    let text = &answers[0];
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    assert!(text.contains("content-security-policy:"), "{text}");
    assert!(text.contains("It is too busy right now"), "{text}");
    drop(slow);
}
