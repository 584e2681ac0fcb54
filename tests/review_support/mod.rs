//! Helpers for the review tests: adding reviewers with the real CLI, logging in
//! over HTTP, and a session that sends its cookie, the CSRF field and a
//! same-origin `Origin` like a browser would.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{self, Server};

/// Runs `signaal ARGS` with `stdin` piped in; returns (status, stdout, stderr).
pub fn run_with_stdin(server: &Server, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(common::binary())
        .args(args)
        .envs(server.env())
        .current_dir(server.root.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that needs no input may exit before reading it: a closed pipe
    // is not a failure of the test.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `signaal reviewer add NAME --add-recipient --work-factor 12 EXTRA…`, the
/// passphrase given twice on stdin. Returns its stdout.
pub fn add_reviewer(server: &Server, name: &str, passphrase: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "reviewer",
        "add",
        name,
        "--add-recipient",
        "--work-factor",
        "12",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run_with_stdin(server, &args, &format!("{passphrase}\n{passphrase}\n"));
    assert_eq!(code, 0, "reviewer add failed:\n{out}\n{err}");
    out
}

/// The TOTP that `reviewer add` printed as an otpauth URI.
pub fn totp_in(stdout: &str) -> totp_rs::TOTP {
    let uri = stdout
        .lines()
        .find_map(|l| l.strip_prefix("otpauth URI: "))
        .expect("an otpauth URI");
    totp_rs::TOTP::from_url_unchecked(uri.trim()).unwrap()
}

/// The code of the time step `offset` steps from now.
pub fn code(totp: &totp_rs::TOTP, offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate((now as i64 + offset * 30) as u64)
}

/// Attempts a login; returns the response.
pub async fn try_login(
    server: &Server,
    name: &str,
    passphrase: &str,
    totp: &str,
) -> reqwest::Response {
    common::client()
        .post(format!("{}/login", server.review))
        .header("origin", &server.review)
        .form(&[("name", name), ("passphrase", passphrase), ("totp", totp)])
        .send()
        .await
        .unwrap()
}

/// A logged-in reviewer.
pub struct Session {
    pub base: String,
    pub cookie: String,
    pub set_cookie: String,
    pub client: reqwest::Client,
}

/// Logs in and panics if refused.
pub async fn login(server: &Server, name: &str, passphrase: &str, totp: &str) -> Session {
    let res = try_login(server, name, passphrase, totp).await;
    assert_eq!(res.status().as_u16(), 303, "login refused");
    assert_eq!(res.headers()["location"], "/");
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Session {
        base: server.review.clone(),
        cookie,
        set_cookie,
        client: common::client(),
    }
}

/// Logs in as the demo reviewer.
pub async fn demo_login(server: &Server) -> Session {
    let pass = server.demo_passphrase().expect("demo passphrase printed");
    login(server, "demo", &pass, "").await
}

impl Session {
    /// GET with the session cookie; (status, body).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = self.get_raw(path).await;
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// GET with the session cookie.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// The same session in a browser that sends `Accept-Language: value`.
    pub fn in_language(&self, value: &str) -> Session {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("accept-language", value.parse().unwrap());
        Session {
            base: self.base.clone(),
            cookie: self.cookie.clone(),
            set_cookie: self.set_cookie.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap(),
        }
    }

    /// The CSRF token from the queue page's forms.
    pub async fn csrf(&self) -> String {
        let (_, page) = self.get("/").await;
        attr_after(&page, "name=\"csrf\" value=\"").expect("a csrf field")
    }

    /// POST a form as the browser would: cookie, same-origin Origin, the csrf field.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

/// The value after `marker` up to the next `"`.
pub fn attr_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

/// Every `data-signal` id on a page, in order.
pub fn signal_ids(page: &str) -> Vec<String> {
    page.match_indices("data-signal=\"")
        .filter_map(|(i, m)| attr_after(&page[i..], m))
        .collect()
}

/// Submits a signal with `situation` on the intake; asserts it was received.
pub async fn submit_signal(server: &Server, fields: &[(&str, &str)]) {
    let (status, page) = common::submit(&common::client(), server, fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(common::receipt_in(&page).is_some());
}

/// Opens the database read-write with the sqlite library (for tampering).
pub fn db(server: &Server) -> rusqlite::Connection {
    rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap()
}

/// Runs the Debian `age` CLI under a pseudo-terminal (`script`), typing
/// `passphrase` at each of its `prompts` prompts, as a person would. True on success.
pub fn age_with_tty(dir: &std::path::Path, args: &str, passphrase: &str, prompts: usize) -> bool {
    let mut child = Command::new("script")
        .args(["-qec", &format!("age {args}"), "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for _ in 0..prompts {
        std::thread::sleep(std::time::Duration::from_millis(700));
        let _ = stdin.write_all(format!("{passphrase}\n").as_bytes());
    }
    drop(stdin);
    child.wait_with_output().unwrap().status.success()
}

/// Runs `signaal ARGS` under a pseudo-terminal with the server's settings,
/// typing each of `inputs` after a pause; returns (success, everything printed).
pub fn signaal_with_tty(server: &Server, args: &str, inputs: &[&str]) -> (bool, String) {
    let command = format!("{} {args}", common::binary().display());
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .envs(server.env())
        .current_dir(server.root.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for input in inputs {
        std::thread::sleep(std::time::Duration::from_millis(700));
        let _ = stdin.write_all(format!("{input}\n").as_bytes());
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
