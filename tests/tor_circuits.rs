//! Visitors over Tor all reach signaal from the Tor daemon's address. On the
//! listener the operator names for the onion service (`tor_addr`), each
//! connection starts with the PROXY header Tor sends
//! (`HiddenServiceExportCircuitID haproxy`), and each circuit is a client of
//! its own for the limits. The header is accepted there only: on the public
//! intake it is a request like any other bad one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Options, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The address the Tor listener announced.
fn tor_addr(server: &Server) -> String {
    assert!(
        server.wait_for_output("tor listening on http://", Duration::from_secs(10)),
        "{}",
        server.output()
    );
    server
        .output()
        .lines()
        .find_map(|l| l.strip_prefix("tor listening on http://"))
        .unwrap()
        .trim()
        .to_owned()
}

/// What Tor sends before a visitor's first byte: version 1, the circuit
/// id in the last 32 bits of the source address.
fn v1(circuit: u32) -> Vec<u8> {
    format!(
        "PROXY TCP6 fc00:dead:beef:4dad::{:x}:{:x} ::1 65535 42\r\n",
        circuit >> 16,
        circuit & 0xffff
    )
    .into_bytes()
}

/// The same in version 2 (what haproxy and others send).
fn v2(circuit: u32) -> Vec<u8> {
    let source = std::net::Ipv6Addr::new(
        0xfc00,
        0xdead,
        0xbeef,
        0x4dad,
        0,
        0,
        (circuit >> 16) as u16,
        (circuit & 0xffff) as u16,
    );
    ppp::v2::Builder::with_addresses(
        ppp::v2::Version::Two | ppp::v2::Command::Proxy,
        ppp::v2::Protocol::Stream,
        ppp::v2::IPv6::new(source, std::net::Ipv6Addr::LOCALHOST, 65535, 42),
    )
    .build()
    .unwrap()
}

/// Sends `prefix` and a submission on a new connection to `addr`; returns
/// the status and the answer.
async fn submit_over(addr: &str, prefix: &[u8], situation: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = format!("situation={situation}");
    let mut request = prefix.to_vec();
    request.extend_from_slice(
        format!(
            "POST /signal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

fn tor_server() -> Server {
    Server::start_with(Options {
        env: vec![
            ("SIGNAAL_TOR_ADDR".into(), "127.0.0.1:0".into()),
            ("SIGNAAL_SUBMIT_BURST".into(), "2".into()),
            ("SIGNAAL_SUBMIT_PER_HOUR".into(), "2".into()),
        ],
        ..Options::default()
    })
}

#[tokio::test]
async fn each_tor_circuit_has_its_own_limit_though_all_come_from_one_address() {
    let server = tor_server();
    let tor = tor_addr(&server);
    for header in [v1(7), v1(7)] {
        let (status, page) = submit_over(&tor, &header, "via+tor").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("data-receipt"));
    }
    let (status, page) = submit_over(&tor, &v2(7), "te+veel").await;
    assert_eq!(status, 429, "the same circuit, in version 2: {page}");
    // Another circuit, over the same loopback connection source, is served.
    for header in [v1(0x0001_0008), v2(9)] {
        let (status, page) = submit_over(&tor, &header, "andere+circuit").await;
        assert_eq!(status, 200, "{page}");
    }
    assert_eq!(server.signal_count(), 4);
    assert!(
        !server.output().contains("fc00:dead"),
        "no circuit in the log"
    );
}

#[tokio::test]
async fn the_header_is_required_on_the_tor_listener_and_refused_everywhere_else() {
    let server = tor_server();
    let tor = tor_addr(&server);
    let (status, page) = submit_over(&tor, b"", "zonder+kop").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("content-security-policy:"), "{page}");
    assert!(
        page.contains("lang=\"en\""),
        "a page in both languages: {page}"
    );
    assert!(
        server.wait_for_output(
            "HiddenServiceExportCircuitID haproxy",
            Duration::from_secs(5)
        ),
        "the operator is told what to set: {}",
        server.output()
    );
    for header in [v1(11), v2(11)] {
        let intake = server.intake.trim_start_matches("http://");
        let (status, page) = submit_over(intake, &header, "vals").await;
        assert_eq!(status, 400, "a PROXY header on the public intake: {page}");
        assert!(page.contains("content-security-policy:"), "{page}");
    }
    assert_eq!(server.signal_count(), 0);
}
