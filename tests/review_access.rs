//! The review face's doors: no route without a session, no state change from
//! another site, sessions that really end, and headers that keep pages out of
//! indexes and caches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::{Options, Server};
use review_support::*;

async fn server_with_one_signal() -> (Server, String) {
    let server = Server::start();
    submit_signal(&server, &[("situation", "Een regel die te hard uitpakt")]).await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    (server, id)
}

#[tokio::test]
async fn without_a_session_every_review_route_redirects_to_login_or_is_refused() {
    let (server, id) = server_with_one_signal().await;
    let client = common::client();
    let bogus = format!("signaal-review={}", "ab".repeat(32));
    // The table the router is built from: the queue, the signal and its
    // forms, search, report, export and logout.
    let routes = signaal::review::routes();
    assert!(routes.len() >= 12, "{routes:?}");
    for route in [
        ("GET", "/"),
        ("POST", "/signals/{id}/triage"),
        ("POST", "/export"),
    ] {
        assert!(routes.contains(&route), "{route:?} in {routes:?}");
    }
    for cookie in [None, Some(bogus.as_str())] {
        for (method, path) in routes.iter() {
            let url = format!("{}{}", server.review, path.replace("{id}", &id));
            let mut req = match *method {
                "GET" => client.get(&url),
                "POST" => client.post(&url).header("origin", &server.review).form(&[
                    ("csrf", "x"),
                    ("status", "closed"),
                    ("note", "n"),
                    ("id", &id),
                ]),
                other => panic!("unexpected method {other}"),
            };
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            match *method {
                "GET" => {
                    assert_eq!(status, 303, "{method} {path}");
                    assert_eq!(res.headers()["location"], "/login", "{method} {path}");
                }
                _ => assert!(status == 401 || status == 403, "{method} {path}: {status}"),
            }
            let body = res.text().await.unwrap();
            assert!(
                !body.contains("Een regel"),
                "{method} {path} leaked content"
            );
        }
    }
    let (status, _) = {
        let res = client
            .get(format!("{}/login", server.review))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), ())
    };
    assert_eq!(status, 200, "the login page itself is public");
}

/// The calls that add routes to an axum router.
const ROUTE_CALLS: &[&str] = &[
    ".route(",
    ".route_service(",
    ".nest(",
    ".nest_service(",
    ".merge(",
];

/// Every call in `file` that adds routes, as (line, call, its first argument
/// as written). Line comments are left out.
fn route_calls(file: &std::path::Path) -> Vec<(usize, &'static str, String)> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let code: String = text
        .lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    for call in ROUTE_CALLS {
        for (at, _) in code.match_indices(call) {
            let line = code[..at].matches('\n').count() + 1;
            let rest = code[at + call.len()..].trim_start();
            let end = rest.find([',', ')']).unwrap_or(rest.len());
            out.push((line, *call, rest[..end].trim().to_owned()));
        }
    }
    out
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The no-session test walks the table the router is built from; a route
/// added to the router beside that table would slip past it. So every call
/// that adds a route to the review face is read from the source: the table's
/// loop, `/login`, `/style.css`, and the health router's `/healthz`, merged
/// in where the face is served, and nothing else.
#[test]
fn the_review_face_serves_no_route_outside_the_table_the_no_session_test_walks() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("review"), &mut files);
    files.push(src.join("health.rs"));
    let allowed: &[(&str, &str, &str)] = &[
        ("review/mod.rs", ".route(", "path"),
        ("review/mod.rs", ".route(", "\"/login\""),
        ("review/mod.rs", ".route(", "\"/style.css\""),
        ("health.rs", ".route(", "\"/healthz\""),
    ];
    let mut seen = Vec::new();
    for file in &files {
        let name = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (line, call, arg) in route_calls(file) {
            assert!(
                allowed.contains(&(name.as_str(), call, arg.as_str())),
                "src/{name}:{line}: {call}{arg}, …) adds a route outside the table \
                 the router is built from (review::GATED)"
            );
            seen.push((name.clone(), call, arg));
        }
    }
    for (name, call, arg) in allowed {
        assert!(
            seen.iter()
                .any(|s| (s.0.as_str(), s.1, s.2.as_str()) == (*name, *call, *arg)),
            "src/{name}: {call}{arg}, …) not found: the scan reads the wrong files"
        );
    }
    // Where the face is served, only the health router is merged into it.
    let server = src.join("server.rs");
    let text = std::fs::read_to_string(&server).unwrap();
    let built: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("review::router("))
        .collect();
    assert_eq!(built.len(), 1, "{built:?}");
    let merged: Vec<(usize, &str, String)> = route_calls(&server)
        .into_iter()
        .filter(|(line, _, _)| text.lines().nth(line - 1) == Some(built[0]))
        .collect();
    assert!(!merged.is_empty(), "{built:?}");
    for (line, call, arg) in merged {
        assert!(
            call == ".merge(" && arg.starts_with("crate::health::router("),
            "src/server.rs:{line}: the review face gets {call}{arg}, …)"
        );
    }
}

#[tokio::test]
async fn the_intake_listener_serves_no_review_route() {
    let (server, id) = server_with_one_signal().await;
    let client = common::client();
    for (method, path) in signaal::review::routes()
        .iter()
        .chain([("GET", "/login"), ("POST", "/login")].iter())
    {
        if *path == "/" {
            continue; // the intake's own form
        }
        let url = format!("{}{}", server.intake, path.replace("{id}", &id));
        let res = match *method {
            "GET" => client.get(&url).send().await.unwrap(),
            _ => client
                .post(&url)
                .form(&[("name", "demo"), ("passphrase", "x")])
                .send()
                .await
                .unwrap(),
        };
        let status = res.status().as_u16();
        assert!(
            status == 404 || status == 405 || status == 415,
            "{method} {path} answered {status} on the intake"
        );
        assert!(res.headers().get("set-cookie").is_none());
    }
}

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_site_is_refused() {
    let (server, id) = server_with_one_signal().await;
    let s = demo_login(&server).await;
    let csrf = s.csrf().await;
    let url = format!("{}/signals/{id}/triage", server.review);
    let post = |origin: &str, site: Option<&str>, csrf: &str| {
        let mut req = s
            .client
            .post(&url)
            .header("cookie", &s.cookie)
            .header("origin", origin.to_owned())
            .form(&[("csrf", csrf.to_owned()), ("status", "closed".to_owned())]);
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site.to_owned());
        }
        req.send()
    };
    assert_eq!(
        post(&server.review, None, "")
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        post(&server.review, None, &"0".repeat(64))
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        post("https://evil.example", None, &csrf)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        post(&server.review, Some("cross-site"), &csrf)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    // Under `Referrer-Policy: no-referrer` a browser sends `Origin: null`; only
    // Sec-Fetch-Site then says where the form was, and it must say same-origin.
    for site in [Some("cross-site"), None] {
        assert_eq!(
            post("null", site, &csrf).await.unwrap().status().as_u16(),
            403
        );
    }
    let status: String = db(&server)
        .query_row("SELECT status FROM all_signals WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "new", "nothing was changed");
    let ok = post(&server.review, Some("same-origin"), &csrf)
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 303);
    let as_a_browser_sends_it = post("null", Some("same-origin"), &csrf).await.unwrap();
    assert_eq!(as_a_browser_sends_it.status().as_u16(), 303);
    let login = common::client()
        .post(format!("{}/login", server.review))
        .header("origin", "https://evil.example")
        .form(&[("name", "demo"), ("passphrase", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status().as_u16(),
        403,
        "a cross-site login post is refused"
    );
}

#[tokio::test]
async fn after_logout_or_the_idle_timeout_the_old_cookie_opens_nothing() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_REVIEW_IDLE_SECS".into(), "2".into())],
        ..Options::default()
    });
    let s = demo_login(&server).await;
    assert_eq!(s.get("/").await.0, 200);
    let res = s.post("/logout", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(s.get_raw("/").await.status().as_u16(), 303, "logged out");

    let s = demo_login(&server).await;
    assert_eq!(s.get("/").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(s.get_raw("/").await.status().as_u16(), 303, "idle timeout");
}

#[tokio::test]
async fn a_note_or_message_sent_after_the_session_ended_comes_back_unsaved() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_REVIEW_IDLE_SECS".into(), "1".into())],
        ..Options::default()
    });
    submit_signal(&server, &[("situation", "Een regel die te hard uitpakt")]).await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let csrf = s.csrf().await;
    let envelope: Vec<u8> = db(&server)
        .query_row(
            "SELECT envelope FROM all_signals WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    let control = common::control_of(&envelope);
    // A long, careful answer: the reviewer took longer than the idle timeout.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for field in ["note", "message"] {
        let canary = common::canary(field);
        let typed = format!("Beste melder, <b>{canary}</b> & tot ziens");
        let res = s
            .client
            .post(format!("{}/signals/{id}/{field}s", server.review))
            .header("cookie", &s.cookie)
            .header("origin", &server.review)
            .form(&[("csrf", csrf.as_str()), (field, typed.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401, "{field}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        assert!(page.contains("<html lang=\"nl\">"), "{page}");
        assert!(page.contains("niets bewaard of verstuurd"), "{page}");
        let shown = format!(
            "readonly>Beste melder, &lt;b&gt;{canary}&lt;/b&gt; &amp; tot ziens</textarea>"
        );
        assert!(
            page.contains(&shown),
            "the text comes back, escaped: {page}"
        );
        assert!(!server.output().contains(&canary), "not in the log");
        let scan = server.data_files();
        scan.assert_read(&["signaal.db", "signaal.db-wal"]);
        scan.assert_nowhere(canary.as_bytes(), &canary);
        scan.assert_finds(&control, "the stored signal");
    }
    let conn = db(&server);
    for table in ["notes", "all_messages"] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "nothing was kept in {table}");
    }
    // Any other refusal stays what it was: a forged csrf with a live session.
    let s = demo_login(&server).await;
    let res = s
        .client
        .post(format!("{}/signals/{id}/notes", server.review))
        .header("cookie", &s.cookie)
        .header("origin", &server.review)
        .form(&[("csrf", "0".repeat(64).as_str()), ("note", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn every_review_response_is_noindex_no_store_and_under_the_strict_csp() {
    let (server, id) = server_with_one_signal().await;
    let s = demo_login(&server).await;
    let signal = format!("/signals/{id}");
    for path in [
        "/",
        signal.as_str(),
        "/search",
        "/report",
        "/login",
        "/no-such-page",
    ] {
        let res = s.get_raw(path).await;
        let h = res.headers();
        assert!(
            h["x-robots-tag"].to_str().unwrap().contains("noindex"),
            "{path}"
        );
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["content-security-policy"], signaal::web::CSP, "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains("data-demo"), "{path} shows the DEMO banner");
    }
}
