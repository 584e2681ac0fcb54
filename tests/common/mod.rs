//! The test kit: starts the real `signaal` binary on free loopback ports with
//! its own data and keys folders, and collects everything it prints.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use age::x25519;

/// A team identity made for a test, with its recipient in `team.pub`.
pub struct TeamKey {
    pub identity: x25519::Identity,
}

impl TeamKey {
    pub fn generate() -> Self {
        Self {
            identity: x25519::Identity::generate(),
        }
    }
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }
    /// Writes the identity in the plain form `age -d -i FILE` reads.
    pub fn write_identity_file(&self, path: &Path) {
        std::fs::write(
            path,
            format!("{}\n", self.identity.to_string().expose_secret()),
        )
        .unwrap();
    }
}

/// How to start a server.
#[derive(Default)]
pub struct Options {
    /// Environment variables on top of the kit's own.
    pub env: Vec<(String, String)>,
    /// Recipients for `team.pub`; none means demo mode.
    pub team: Vec<String>,
    /// Extra command-line arguments after `serve`.
    pub args: Vec<String>,
}

/// A running signaal.
pub struct Server {
    child: Option<Child>,
    pub intake: String,
    pub review: String,
    pub root: tempfile::TempDir,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    options_env: Vec<(String, String)>,
    args: Vec<String>,
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_signaal"))
}

impl Server {
    /// Starts in demo mode with generous limits.
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("keys")).unwrap();
        if !options.team.is_empty() {
            std::fs::write(
                root.path().join("keys/team.pub"),
                format!("# test team\n{}\n", options.team.join("\n")),
            )
            .unwrap();
        }
        let mut server = Server {
            child: None,
            intake: String::new(),
            review: String::new(),
            root,
            output: Arc::new(Mutex::new(String::new())),
            readers: Vec::new(),
            options_env: options.env,
            args: options.args,
        };
        server.spawn();
        server
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.root.path().join("keys")
    }

    /// The environment the server runs with (for running other subcommands).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("SIGNAAL_INTAKE_ADDR".into(), "127.0.0.1:0".into()),
            ("SIGNAAL_REVIEW_ADDR".into(), "127.0.0.1:0".into()),
            (
                "SIGNAAL_DATA_DIR".into(),
                self.data_dir().display().to_string(),
            ),
            (
                "SIGNAAL_KEYS_DIR".into(),
                self.keys_dir().display().to_string(),
            ),
            ("SIGNAAL_SUBMIT_BURST".into(), "10000".into()),
            ("SIGNAAL_SUBMIT_PER_HOUR".into(), "100000".into()),
            ("SIGNAAL_GLOBAL_PER_SECOND".into(), "100000".into()),
            ("SIGNAAL_LOG".into(), "debug".into()),
        ];
        env.extend(self.options_env.iter().cloned());
        env
    }

    /// Runs `signaal ARGS` with this server's settings; returns (status, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(binary())
            .args(args)
            .envs(self.env())
            .current_dir(self.root.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn spawn(&mut self) {
        let mut args = vec!["serve".to_owned()];
        args.extend(self.args.iter().cloned());
        let mut child = Command::new(binary())
            .args(&args)
            .envs(self.env())
            .current_dir(self.root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&self.output);
            let tx = tx.clone();
            self.readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    {
                        let mut out = output.lock().unwrap();
                        out.push_str(&line);
                        out.push('\n');
                    }
                    let _ = tx.send(line);
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut intake, mut review) = (None, None);
        let wants_intake = !self.args.iter().any(|a| a == "review");
        let wants_review = !self.args.iter().any(|a| a == "intake");
        while (wants_intake && intake.is_none()) || (wants_review && review.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("intake listening on ") {
                        intake = Some(a.trim().to_owned());
                    }
                    if let Some(a) = line.strip_prefix("review listening on ") {
                        review = Some(a.trim().to_owned());
                    }
                }
                Err(_) => panic!("signaal did not start:\n{}", self.output()),
            }
        }
        self.intake = intake.unwrap_or_default();
        self.review = review.unwrap_or_default();
        self.child = Some(child);
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The demo reviewer's passphrase, as printed at first start. It comes on
    /// stderr, which is read apart from stdout: wait a moment for it.
    pub fn demo_passphrase(&self) -> Option<String> {
        self.wait_for_output("Its passphrase:", Duration::from_secs(5));
        self.output().lines().find_map(|l| {
            l.trim()
                .strip_prefix("Its passphrase:")
                .map(|p| p.trim().to_owned())
        })
    }

    /// Waits until the output holds `needle` (or `timeout` passes); says whether it does.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.output().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// After the process is gone, lets the readers take in its last lines.
    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_readers();
    }

    /// Asks the process to stop (SIGTERM) and waits for it.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let status = child.wait().unwrap();
        self.join_readers();
        status
    }

    /// Starts the process again on the same folders (new ports).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Bytes of every file under the data folder.
    pub fn data_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        files_under(&self.data_dir())
    }

    /// Number of stored signals, read with the sqlite3 library directly.
    pub fn signal_count(&self) -> i64 {
        let conn = rusqlite::Connection::open_with_flags(
            self.data_dir().join("signaal.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        conn.query_row("SELECT count(*) FROM all_signals", [], |r| r.get(0))
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A unique marker to submit and then look for where it must not be.
pub fn canary(tag: &str) -> String {
    let n: u64 = rand::random();
    format!("CANARY{tag}{n:016x}")
}

/// An HTTP client that never follows redirects and keeps no cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client whose connections come from `ip` (any 127.x address works on Linux).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// Submits `situation` (plus extra fields); returns (status, body).
pub async fn submit(
    client: &reqwest::Client,
    server: &Server,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let res = client
        .post(format!("{}/signal", server.intake))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// The receipt code in a receipt page, from its `data-receipt` attribute.
pub fn receipt_in(page: &str) -> Option<String> {
    let start = page.find("data-receipt=\"")? + "data-receipt=\"".len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

/// Decrypts an age file with the Debian `age` CLI; `None` if it fails.
pub fn age_cli_decrypt(identity_file: &Path, file: &Path) -> Option<Vec<u8>> {
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity_file)
        .arg(file)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// Whether the `age` CLI exists; with CI=true its absence is a failure.
pub fn age_cli_available() -> bool {
    let ok = Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "the age CLI is missing in CI: install the Debian package age"
        );
        eprintln!("skipping: the age CLI is not installed (apt-get install age)");
    }
    ok
}
