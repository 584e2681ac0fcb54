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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, Server};

/// Runs `signaal ARGS` with `stdin` piped in; returns (status, stdout, stderr).
pub fn run_with_stdin(server: &Server, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut cmd = Command::new(common::binary());
    cmd.args(args)
        .envs(server.env())
        .current_dir(server.root.path());
    let out = common::output_within(&mut cmd, Some(stdin), common::DEADLINE);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `signaal reviewer add NAME --add-recipient EXTRA…`, the passphrase given
/// twice on stdin; returns its stdout. A quick scrypt work factor (12) where
/// that is allowed: outside production mode with `--work-factor 12`; in
/// production mode, which makes no file below age's default, with a file the
/// test wraps itself, as `age -p` would (unless EXTRA names an `--identity`).
pub fn add_reviewer(server: &Server, name: &str, passphrase: &str, extra: &[&str]) -> String {
    let made = server.root.path().join(format!("{name}-made.age"));
    let made_arg = made.display().to_string();
    let mut args = vec!["reviewer", "add", name, "--add-recipient"];
    if extra.contains(&"--identity") {
    } else if in_production(server) {
        let identity = age::x25519::Identity::generate();
        let file = signaal::crypto::wrap_identity(&identity, passphrase, Some(12)).unwrap();
        std::fs::write(&made, file).unwrap();
        args.extend(["--identity", made_arg.as_str()]);
    } else {
        args.extend(["--work-factor", "12"]);
    }
    args.extend_from_slice(extra);
    let (code, out, err) = run_with_stdin(server, &args, &format!("{passphrase}\n{passphrase}\n"));
    assert_eq!(code, 0, "reviewer add failed:\n{out}\n{err}");
    out
}

/// Whether `server` runs in production mode.
pub fn in_production(server: &Server) -> bool {
    server
        .env()
        .iter()
        .any(|(k, v)| k == "SIGNAAL_PRODUCTION" && v == "true")
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
    try_login_with(server, None, name, passphrase, totp).await
}

/// Attempts a login from a browser that sends `cookie`; returns the response.
pub async fn try_login_with(
    server: &Server,
    cookie: Option<&str>,
    name: &str,
    passphrase: &str,
    totp: &str,
) -> reqwest::Response {
    let mut req = common::client()
        .post(format!("{}/login", server.review))
        .header("origin", &server.review);
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.form(&[("name", name), ("passphrase", passphrase), ("totp", totp)])
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

    /// The CSRF token from the search page's form (which, unlike the queue,
    /// decrypts nothing and so leaves no audit row).
    pub async fn csrf(&self) -> String {
        let (_, page) = self.get("/search").await;
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

/// Runs the Debian `age` CLI under a pseudo-terminal, typing `passphrase` at
/// each of `prompts` as a person would. True on success.
pub fn age_with_tty(dir: &Path, args: &str, passphrase: &str, prompts: &[&str]) -> bool {
    let steps: Vec<(&str, &str)> = prompts.iter().map(|p| (*p, passphrase)).collect();
    in_terminal(&format!("age {args}"), dir, Vec::new(), &steps).0
}

/// Runs `signaal ARGS` under a pseudo-terminal with the server's settings,
/// answering each prompt with its input; returns (success, everything printed).
pub fn signaal_with_tty(server: &Server, args: &str, steps: &[(&str, &str)]) -> (bool, String) {
    let command = format!("{} {args}", common::binary().display());
    in_terminal(&command, server.root.path(), server.env(), steps)
}

/// Runs `command` under a pseudo-terminal (`script`) and types each input
/// once its prompt is on the screen and the program has turned the
/// terminal's echo off, as a person would: never into a terminal that still
/// echoes, never before the program asks. Every wait has [`common::DEADLINE`];
/// past it the test fails with the screen. Returns (success, the screen).
pub fn in_terminal(
    command: &str,
    dir: &Path,
    env: Vec<(String, String)>,
    steps: &[(&str, &str)],
) -> (bool, String) {
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .envs(env)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let screen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let reader = {
        let (screen, mut stdout) = (Arc::clone(&screen), child.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let shown = |screen: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&screen.lock().unwrap()).into_owned()
    };
    let until = Instant::now() + common::DEADLINE;
    let fail = |child: &mut std::process::Child, what: &str| -> ! {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} in {command}:\n{}", shown(&screen))
    };
    let mut seen = 0;
    let mut terminal = None;
    'steps: for (prompt, input) in steps {
        // The prompt, after the previous one.
        loop {
            if let Some(at) = shown(&screen)[seen..].find(prompt) {
                seen += at + prompt.len();
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break 'steps; // it ended before asking: its output says why
            }
            if Instant::now() > until {
                fail(&mut child, &format!("no prompt {prompt:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Then the terminal's echo off.
        loop {
            if terminal.is_none() {
                terminal = terminal_of(child.id());
            }
            if terminal.as_deref().is_some_and(echo_is_off) {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break 'steps;
            }
            if Instant::now() > until {
                fail(&mut child, &format!("echo never off at {prompt:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = stdin.write_all(format!("{input}\n").as_bytes());
    }
    let Some(status) = common::wait_within(&mut child, common::DEADLINE) else {
        fail(&mut child, "no end");
    };
    drop(stdin);
    reader.join().unwrap();
    (status.success(), shown(&screen))
}

/// The pseudo-terminal of the program that `script` (process `script`) runs.
fn terminal_of(script: u32) -> Option<PathBuf> {
    let program = common::child_of(script)?;
    let tty = std::fs::read_link(format!("/proc/{program}/fd/0")).ok()?;
    tty.starts_with("/dev/pts").then_some(tty)
}

/// Whether the terminal at `tty` has its echo off (a password prompt).
fn echo_is_off(tty: &Path) -> bool {
    use rustix::fs::{Mode, OFlags};
    let Ok(fd) = rustix::fs::open(
        tty,
        OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    ) else {
        return false;
    };
    rustix::termios::tcgetattr(&fd)
        .is_ok_and(|t| !t.local_modes.contains(rustix::termios::LocalModes::ECHO))
}

/// Submits a signal; returns its receipt code and (found in the queue) its id.
pub async fn signal_with_id(server: &Server, s: &Session, n: usize) -> (String, String) {
    let before = signal_ids(&s.get("/").await.1);
    let situation = format!("Situatie nummer {n}: de kostendelersnorm pakt hard uit.");
    let (status, page) =
        common::submit(&common::client(), server, &[("situation", &situation)]).await;
    assert_eq!(status, 200, "{page}");
    let code = common::receipt_in(&page).unwrap();
    let after = signal_ids(&s.get("/").await.1);
    let new: Vec<String> = after.into_iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(new.len(), 1, "one new signal in the queue");
    (code, new[0].clone())
}

/// The id in a `Location: /hardships/{id}?…` answer.
pub fn hardship_in(res: &reqwest::Response) -> String {
    let to = res.headers()["location"].to_str().unwrap();
    let rest = to.strip_prefix("/hardships/").expect(to);
    rest.split(['?', '/', '#']).next().unwrap().to_owned()
}
