//! Every answer of both faces, whatever produced it — a handler, axum (a 405),
//! the request timeout (408), our own bound on the address (414) or hyper
//! itself (a bad Content-Length, a broken request line, 431) — is a readable
//! page with the security headers, in the visitor's language where the
//! request could be read, in Dutch and English where it could not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Options, Server, client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer as it came over the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The page is HTML with a heading, and the security headers are there.
    fn assert_readable(&self, what: &str) {
        assert_eq!(
            self.header("content-security-policy"),
            Some(signaal::web::CSP),
            "{what}: {self:?}"
        );
        assert_eq!(
            self.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            self.header("referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(self.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(self.header("cache-control"), Some("no-store"), "{what}");
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{what}: {self:?}"
        );
        assert!(self.body.contains("<h1>"), "{what}: {}", self.body);
        assert!(self.body.contains("<html lang="), "{what}: {}", self.body);
    }
}

/// Reads one answer from `stream` (with `Content-Length`, as all of ours have).
async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Answer {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("an answer within 30 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("the whole body within 30 s")
            .unwrap();
        assert!(n > 0, "closed inside a body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buf[head_end..head_end + length].to_vec()).unwrap();
    buf.drain(..head_end + length);
    Answer {
        status,
        headers,
        body,
    }
}

/// Sends `request` on a new connection and reads `n` answers.
async fn exchange(base: &str, request: &[u8], n: usize) -> Vec<Answer> {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let mut answers = Vec::new();
    for _ in 0..n {
        answers.push(read_answer(&mut stream, &mut buf).await);
    }
    answers
}

fn long_header() -> String {
    format!("X-Filler: {}\r\n", "a".repeat(70 * 1024))
}

#[tokio::test]
async fn what_hyper_refuses_by_itself_is_a_page_in_both_languages_with_the_headers() {
    let server = Server::start();
    for base in [&server.intake, &server.review] {
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            (
                "a Content-Length that is not a number",
                b"POST /signal HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nsituation=x".to_vec(),
                400,
            ),
            (
                "two Content-Lengths that disagree",
                b"POST /signal HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".to_vec(),
                400,
            ),
            (
                "a broken request line",
                b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                400,
            ),
            (
                "a header block over 64 KiB",
                format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", long_header()).into_bytes(),
                431,
            ),
        ];
        for (what, request, status) in cases {
            let answer = exchange(base, &request, 1).await.remove(0);
            assert_eq!(answer.status, status, "{what} on {base}");
            answer.assert_readable(what);
            assert!(
                answer.body.contains("lang=\"nl\"") && answer.body.contains("lang=\"en\""),
                "{what}: both languages: {}",
                answer.body
            );
            assert_eq!(answer.header("connection"), Some("close"), "{what}");
        }
    }
}

#[tokio::test]
async fn a_refused_request_after_good_ones_on_the_same_connection_is_a_page_too() {
    let server = Server::start();
    // A page, a HEAD (whose answer has no body), a chunked POST, then junk:
    // the answers are followed one by one, and the last is a page.
    let request = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n\
        HEAD / HTTP/1.1\r\nHost: x\r\n\r\n\
        POST /signal HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
        Transfer-Encoding: chunked\r\n\r\n3\r\nx=1\r\n0\r\n\r\n\
        POST /signal HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n";
    let mut stream = TcpStream::connect(server.intake.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let css = read_answer(&mut stream, &mut buf).await;
    assert_eq!(css.status, 200);
    assert!(css.body.contains('{'), "the stylesheet");
    // A HEAD's answer says how long the page is but carries none of it.
    let head = read_head_only(&mut stream, &mut buf).await;
    assert_eq!(head.status, 200);
    let form = read_answer(&mut stream, &mut buf).await;
    assert_eq!(form.status, 422, "{form:?}");
    let refused = read_answer(&mut stream, &mut buf).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    refused.assert_readable("the fourth request");
}

/// Reads the head of an answer to HEAD, which has no body.
async fn read_head_only(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Answer {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..p].to_vec()).unwrap();
            buf.drain(..p + 4);
            let status = head.split(' ').nth(1).unwrap().parse().unwrap();
            return Answer {
                status,
                headers: Vec::new(),
                body: String::new(),
            };
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn a_wrong_method_or_a_long_address_is_a_page_in_the_visitors_language() {
    let server = Server::start();
    let long = format!("/?q={}", "x".repeat(9 * 1024));
    for base in [&server.intake, &server.review] {
        // The review face answers only to its own address.
        let host = base.trim_start_matches("http://");
        for (what, request, status) in [
            (
                "DELETE /",
                format!("DELETE / HTTP/1.1\r\nHost: {host}\r\nAccept-Language: en\r\n\r\n"),
                405,
            ),
            (
                "an address over 8 KiB",
                format!("GET {long} HTTP/1.1\r\nHost: {host}\r\nAccept-Language: en\r\n\r\n"),
                414,
            ),
        ] {
            let answer = exchange(base, request.as_bytes(), 1).await.remove(0);
            assert_eq!(answer.status, status, "{what} on {base}");
            answer.assert_readable(what);
            assert!(
                answer.body.contains("<html lang=\"en\""),
                "{what}: {}",
                answer.body
            );
        }
    }
    // A name the review face does not answer to gets its refusal as a page.
    let answer = exchange(
        &server.review,
        b"GET / HTTP/1.1\r\nHost: rebound.example\r\nAccept-Language: en\r\n\r\n",
        1,
    )
    .await
    .remove(0);
    assert_eq!(answer.status, 421);
    answer.assert_readable("another Host on the review face");
    // The same through an ordinary client, in Dutch.
    let res = client()
        .put(format!("{}/signal", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers().contains_key("allow"));
    assert_eq!(res.headers()["content-security-policy"], signaal::web::CSP);
    let page = res.text().await.unwrap();
    assert!(page.contains("Deze pagina werkt zo niet"), "{page}");
}

#[tokio::test]
async fn a_body_that_stops_coming_gets_a_408_page_with_the_headers() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_REQUEST_TIMEOUT_SECS".into(), "2".into())],
        ..Options::default()
    });
    // The review face waits longer (a search may take its time bound and
    // more), but answers the same way.
    for (base, path, within) in [
        (&server.intake, "/signal", 10),
        (&server.review, "/login", 30),
    ] {
        let host = base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).await.unwrap();
        stream
            .write_all(
                format!(
                    "POST {path}?lang=en HTTP/1.1\r\nHost: {host}\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nname="
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = Vec::new();
        let answer = read_answer(&mut stream, &mut buf).await;
        assert_eq!(answer.status, 408, "{base}: {answer:?}");
        assert!(started.elapsed() < Duration::from_secs(within));
        answer.assert_readable(&format!("a slow body on {base}"));
        assert!(
            answer.body.contains("This took too long"),
            "{base}: {}",
            answer.body
        );
    }
    assert_eq!(server.signal_count(), 0);
}
