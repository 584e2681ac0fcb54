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
