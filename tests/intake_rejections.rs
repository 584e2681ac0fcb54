//! Bad input gets a clear page in the sender's language, the right status, and
//! nothing is stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Server, client, submit};

async fn post_raw(server: &Server, content_type: &str, body: Vec<u8>, lang: &str) -> (u16, String) {
    let res = client()
        .post(format!("{}/signal", server.intake))
        .header("content-type", content_type)
        .header("accept-language", lang)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn a_blank_or_missing_situation_reshows_the_form_with_what_was_typed() {
    let server = Server::start();
    let (status, page) = submit(
        &client(),
        &server,
        &[("situation", "  \n "), ("rule", "Wet X <b>&</b>")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Beschrijf wat er misgaat voor burgers."),
        "a Dutch message"
    );
    assert!(
        page.contains("Wet X &lt;b&gt;&amp;&lt;/b&gt;"),
        "what was typed is kept, escaped"
    );
    assert!(!page.contains("data-receipt"));
    let (status, page) = submit(&client(), &server, &[("rule", "x"), ("lang", "en")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Describe what goes wrong for people."),
        "an English message"
    );
    assert_eq!(server.signal_count(), 0);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_a_readable_page() {
    let server = Server::start();
    let body = format!("situation={}", "a".repeat(70 * 1024)).into_bytes();
    let (status, page) = post_raw(&server, FORM, body, "en").await;
    assert_eq!(status, 413);
    assert!(page.contains("Your text is too long"), "{page}");
    assert!(page.contains("Nothing was stored"));
    assert_eq!(server.signal_count(), 0);
}

#[tokio::test]
async fn an_over_long_answer_names_its_limit() {
    let server = Server::start();
    let (status, page) = submit(
        &client(),
        &server,
        &[("situation", "x"), ("organisation", &"o".repeat(301))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("300"), "the limit is named");
    let (status, _) = submit(&client(), &server, &[("situation", &"s".repeat(10_001))]).await;
    assert_eq!(status, 422);
    assert_eq!(server.signal_count(), 0);
}

#[tokio::test]
async fn hostile_bodies_get_a_clear_answer_and_store_nothing() {
    let server = Server::start();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("invalid UTF-8", b"situation=%C3%28".to_vec(), 400),
        ("raw invalid UTF-8", b"situation=\xff\xfe".to_vec(), 400),
        ("a lone percent", b"situation=100%".to_vec(), 400),
        ("a NUL byte", b"situation=a%00b".to_vec(), 400),
        ("an escape sequence", b"situation=%1B%5B31m".to_vec(), 400),
        ("a repeated field", b"situation=a&situation=b".to_vec(), 400),
        (
            "an unknown choice",
            b"situation=a&domain=%3Cscript%3E".to_vec(),
            422,
        ),
        ("no fields at all", b"".to_vec(), 422),
        ("only separators", b"&&&=&".to_vec(), 422),
    ];
    for (what, body, expected) in cases {
        let (status, page) = post_raw(&server, FORM, body, "nl").await;
        assert_eq!(status, expected, "{what}");
        assert!(page.contains("<html lang=\"nl\">"), "{what}: a Dutch page");
        assert!(!page.contains("data-receipt"), "{what}: no receipt");
    }
    let (status, page) = post_raw(
        &server,
        "application/json",
        b"{\"situation\":\"x\"}".to_vec(),
        "en",
    )
    .await;
    assert_eq!(status, 415);
    assert!(page.contains("Nothing was stored"));
    let (status, _) = post_raw(
        &server,
        "multipart/form-data; boundary=x",
        b"--x--".to_vec(),
        "en",
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(server.signal_count(), 0);
}

#[tokio::test]
async fn markup_and_unicode_are_stored_as_written_and_shown_escaped() {
    let server = Server::start();
    let nasty = "<script>alert(1)</script> \u{202e}evil\u{200b} 😀 Zoë's \"quote\" ' OR 1=1 --";
    let (status, page) = submit(
        &client(),
        &server,
        &[("situation", nasty), ("organisation", &"x".repeat(301))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(!page.contains("<script>alert(1)"), "never echoed unescaped");
    let (status, _) = submit(&client(), &server, &[("situation", nasty)]).await;
    assert_eq!(status, 200);
    assert_eq!(server.signal_count(), 1);
}

#[tokio::test]
async fn every_intake_response_carries_the_security_headers_and_no_cookie() {
    let server = Server::start();
    let c = client();
    let urls = [
        ("GET", "/"),
        ("GET", "/?lang=en"),
        ("GET", "/style.css"),
        ("GET", "/does-not-exist"),
        ("POST", "/signal"),
    ];
    for (method, path) in urls {
        let url = format!("{}{}", server.intake, path);
        let req = match method {
            "GET" => c.get(&url),
            _ => c.post(&url).form(&[("situation", "kopjes")]),
        };
        let res = req.send().await.unwrap();
        let h = res.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "{path}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert!(h.get("set-cookie").is_none(), "{path} sets a cookie");
        assert!(h.get("server").is_none(), "{path} names the server");
        // The blank form holds only its one-time token and may be kept by
        // the browser for going back (never by a shared cache); everything
        // that holds what was typed or a code is never stored.
        match (method, path) {
            (_, "/style.css") => {}
            ("GET", "/" | "/?lang=en") => {
                assert_eq!(h["cache-control"], "private, max-age=0", "{path}")
            }
            _ => assert_eq!(h["cache-control"], "no-store", "{path}"),
        }
    }
}

#[tokio::test]
async fn the_intake_serves_no_review_route() {
    let server = Server::start();
    for path in [
        "/login",
        "/review",
        "/signals/abc",
        "/report",
        "/audit",
        "/logout",
        "/search",
    ] {
        let res = client()
            .get(format!("{}{}", server.intake, path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let res = client()
            .post(format!("{}{}", server.intake, path))
            .send()
            .await
            .unwrap();
        assert!([404, 405].contains(&res.status().as_u16()), "{path}");
    }
}

#[tokio::test]
async fn a_slow_client_cannot_hold_a_connection_forever() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start();
    let addr = server.intake.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Headers never finish: the server must hang up after its header timeout (10 s).
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut buf),
    )
    .await;
    assert!(read.is_ok(), "the connection was still open after 20 s");
}
