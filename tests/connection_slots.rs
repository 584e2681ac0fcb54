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

/// Opens `n` connections from `ip` to `base`, each sending `request`, whose
/// body never comes.
async fn stalled(ip: &str, base: &str, request: &str, n: usize) -> Vec<TcpStream> {
    let mut slow = Vec::new();
    for _ in 0..n {
        let mut s = connect_from(ip, base).await;
        s.write_all(request.as_bytes()).await.unwrap();
        slow.push(s);
    }
    slow
}

/// Counts the connections that still hold their slot after 3 s; the others
/// must have got the 503 page with the headers, in both languages, and been
/// closed. Returns (held, refused).
async fn held_and_refused(slow: &mut [TcpStream]) -> (usize, usize) {
    let (mut held, mut refused) = (0, 0);
    for s in slow {
        let mut answer = Vec::new();
        match tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await {
            Ok(Ok(_)) => {
                let text = String::from_utf8_lossy(&answer);
                assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
                assert!(text.contains("content-security-policy:"), "{text}");
                assert!(text.contains("x-content-type-options: nosniff"), "{text}");
                assert!(text.contains("retry-after: 10"), "{text}");
                assert!(text.contains("Het is nu te druk"), "{text}");
                assert!(text.contains("It is too busy right now"), "{text}");
                refused += 1;
            }
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => held += 1,
        }
    }
    (held, refused)
}

/// A stalled submission to the intake, from `forwarded` behind a proxy if given.
fn stalled_submission(forwarded: Option<&str>) -> String {
    let xff = forwarded.map_or(String::new(), |a| format!("X-Forwarded-For: {a}\r\n"));
    format!(
        "POST /signal HTTP/1.1\r\nHost: x\r\n{xff}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nsituation="
    )
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
    // Eight sockets from one address start a submission and never finish it:
    // two hold their slots, the six over the bound get a page at once.
    let mut slow = stalled("127.0.0.2", &server.intake, &stalled_submission(None), 8).await;
    assert_eq!(held_and_refused(&mut slow).await, (2, 6));

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
/// beside it) is served meanwhile. The refused request's connection is
/// closed, so it frees its place at once.
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
    let request = stalled_submission(Some("192.0.2.7"));
    let mut slow = stalled("127.0.0.5", &server.intake, &request, 8).await;
    assert_eq!(held_and_refused(&mut slow).await, (2, 6));

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
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nname="
    );
    let mut slow = stalled("127.0.0.9", &server.review, &request, 3).await;
    assert_eq!(held_and_refused(&mut slow).await, (2, 1));
    drop(slow);
}
