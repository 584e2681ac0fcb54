//! An observer who sees only the lengths of what the server sends (TLS
//! records) cannot tell a right code from a wrong one or a limited one: every
//! answer to a code is one size, head and body. The status codes stay what
//! they are (a wrong code is a 404, a limited one a 429).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Options, Server, client_from, receipt_in, submit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs `body` to `path` from `ip` with `Connection: close`; returns the
/// status and the lengths of the head and the body as sent.
async fn sizes(server: &Server, ip: &str, path: &str, body: &str) -> (u16, usize, usize) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(server.intake.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    let head = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let status = String::from_utf8_lossy(&all[9..12]).parse().unwrap();
    (status, head, all.len() - head)
}

#[tokio::test]
async fn a_right_a_wrong_and_a_limited_code_get_answers_of_one_size() {
    let server = Server::start_with(Options {
        env: vec![
            // Two wrong codes use up an address's look-ups; one message its
            // submissions.
            ("SIGNAAL_LOOKUP_BURST".into(), "2".into()),
            ("SIGNAAL_LOOKUP_PER_HOUR".into(), "2".into()),
            ("SIGNAAL_SUBMIT_BURST".into(), "1".into()),
            ("SIGNAAL_SUBMIT_PER_HOUR".into(), "1".into()),
        ],
        ..Options::default()
    });
    let (status, page) = submit(
        &client_from("127.0.0.70"),
        &server,
        &[(
            "situation",
            "De peildatum pakt hard uit voor mantelzorgers.",
        )],
    )
    .await;
    assert_eq!(status, 200);
    let code = receipt_in(&page).unwrap();
    let right = format!("receipt={code}");
    let wrong = "receipt=AAAA-BBBB-CCCC-DDDD-EEEE";
    let message = format!("receipt={code}&message=Nog+een+aanvulling.");

    let mut seen = Vec::new();
    for (what, path, body, status) in [
        ("right code", "/follow-up", right.as_str(), 200),
        ("wrong code", "/follow-up", wrong, 404),
        ("malformed code", "/follow-up", "receipt=x", 404),
        ("message", "/follow-up/message", message.as_str(), 200),
        ("limited, wrong code", "/follow-up", wrong, 429),
        // A right code opens even after the wrong ones ran out.
        (
            "right code past the limit",
            "/follow-up",
            right.as_str(),
            200,
        ),
        ("receipt past the limit", "/receipt", right.as_str(), 200),
        (
            "limited message",
            "/follow-up/message",
            message.as_str(),
            429,
        ),
    ] {
        let (got, head, body) = sizes(&server, "127.0.0.71", path, body).await;
        assert_eq!(got, status, "{what}");
        println!("{what}: status {got}, head {head} bytes, body {body} bytes");
        seen.push((what, head, body));
    }
    // The receipt page again, from an address with tries left.
    let (got, head, body) = sizes(&server, "127.0.0.72", "/receipt", &right).await;
    assert_eq!(got, 200);
    seen.push(("receipt", head, body));
    let (_, head0, body0) = seen[0];
    assert_eq!(body0, 8192, "the smallest bucket");
    for (what, head, body) in &seen {
        assert_eq!(
            (*head, *body),
            (head0, body0),
            "{what} differs in size: {seen:?}"
        );
    }
}

#[tokio::test]
async fn an_ordinary_client_reads_the_padded_page_as_it_was() {
    let server = Server::start();
    let c = client_from("127.0.0.73");
    let res = c
        .post(format!("{}/follow-up", server.intake))
        .form(&[("receipt", "AAAA-BBBB-CCCC-DDDD-EEEE")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-length"], "8192");
    let page = res.text().await.unwrap();
    assert_eq!(page.len(), 8192);
    assert!(page.trim_end().ends_with("</html>"), "{page}");
}
