//! The test kit: starts the real `signaal` binary on free loopback ports with
//! its own data and keys folders, and collects everything it prints.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
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

/// Longest a server may take to stop, and a command run by a test to end,
/// before the test kills it and fails with what it printed.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// How to start a server.
#[derive(Default)]
pub struct Options {
    /// Environment variables on top of the kit's own.
    pub env: Vec<(String, String)>,
    /// Recipients for `team.pub`; none means demo mode.
    pub team: Vec<String>,
    /// Extra command-line arguments after `serve`.
    pub args: Vec<String>,
    /// Run the server under strace, with this `-e inject=` expression (e.g.
    /// `error=EIO:when=2`, `delay_exit=20000`) applied to its syncs of the WAL;
    /// every such sync is logged (see [`Server::wal_syncs`]). Check
    /// [`strace_available`] first.
    pub strace: Option<String>,
    /// Serve with the configured submission limits, not the kit's generous ones.
    pub configured_limits: bool,
    /// Run the server as this user id (and the group of the same number),
    /// with its folders handed to that user. Only root can do this.
    pub uid: Option<u32>,
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
    strace: Option<String>,
    configured_limits: bool,
    uid: Option<u32>,
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
            strace: options.strace,
            configured_limits: options.configured_limits,
            uid: options.uid,
        };
        if let Some(uid) = server.uid {
            give_to(server.root.path(), uid);
        }
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
            ("SIGNAAL_LOG".into(), "debug".into()),
        ];
        if !self.configured_limits {
            env.extend([
                ("SIGNAAL_SUBMIT_BURST".into(), "10000".into()),
                ("SIGNAAL_SUBMIT_PER_HOUR".into(), "100000".into()),
                ("SIGNAAL_GLOBAL_PER_SECOND".into(), "100000".into()),
            ]);
        }
        env.extend(self.options_env.iter().cloned());
        env
    }

    /// Runs `signaal ARGS` with this server's settings; returns (status, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .envs(self.env())
            .current_dir(self.root.path());
        let out = output_within(&mut cmd, None, DEADLINE);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn spawn(&mut self) {
        let mut args = vec!["serve".to_owned()];
        args.extend(self.args.iter().cloned());
        let mut cmd = match &self.strace {
            Some(inject) => {
                let mut cmd = Command::new("strace");
                cmd.args(strace_args(
                    &self.data_dir().join("signaal.db-wal"),
                    inject,
                    &self.strace_log(),
                ))
                .arg(binary());
                cmd
            }
            None => Command::new(binary()),
        };
        cmd.args(&args)
            .envs(self.env())
            .current_dir(self.root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(uid) = self.uid {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(uid);
        }
        let mut child = cmd.spawn().unwrap();
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
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("signaal did not start:\n{}", self.output())
                }
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

    /// Where strace writes its log.
    fn strace_log(&self) -> PathBuf {
        self.root.path().join("strace.log")
    }

    /// The syncs of the WAL that strace saw (and delayed or failed), so far.
    pub fn wal_syncs(&self) -> Vec<Synced> {
        syncs_in(&self.strace_log(), "signaal.db-wal")
    }

    /// The process id of the running signaal, from the handle of the child the
    /// kit started (under strace: strace's child).
    pub fn pid(&self) -> u32 {
        let child = self.child.as_ref().expect("running").id();
        if self.strace.is_none() {
            return child;
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(pid) = child_of(child) {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "strace started no signaal:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` to the serving process.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("a pid");
        rustix::process::kill_process(pid, signal).expect("the signal was sent");
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Under strace, the server first: strace killed first might
            // leave it running.
            let served = child_of(child.id()).filter(|_| self.strace.is_some());
            if let Some(pid) = served.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
            let _ = child.kill();
            let _ = wait_within(&mut child, DEADLINE);
        }
        self.join_readers();
    }

    /// Asks the process to stop (SIGTERM) and waits for it, at most
    /// [`DEADLINE`]: past it the process is killed and the test fails with
    /// what it printed.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(rustix::process::Signal::TERM);
        let mut child = self.child.take().expect("running");
        let status = wait_within(&mut child, DEADLINE);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_readers();
        status.unwrap_or_else(|| {
            panic!(
                "signaal did not stop within {DEADLINE:?} of SIGTERM:\n{}",
                self.output()
            )
        })
    }

    /// Waits until the process has ended by itself (at most [`DEADLINE`]).
    pub fn wait(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = wait_within(&mut child, DEADLINE);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_readers();
        status.unwrap_or_else(|| panic!("signaal did not end:\n{}", self.output()))
    }

    /// Starts the process again on the same folders (new ports).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Starts the process again on the same folders, under strace with
    /// `inject` (see [`Options::strace`]), or bare.
    pub fn restart_with_strace(&mut self, inject: Option<&str>) {
        self.kill();
        self.strace = inject.map(str::to_owned);
        self.spawn();
    }

    /// Every file under the data folder, read whole.
    pub fn data_files(&self) -> Scan {
        scan(&self.data_dir())
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

/// What a scan of a folder read: every file under it, whole.
pub struct Scan {
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl Scan {
    /// The files whose bytes hold `needle`.
    pub fn holding(&self, needle: &[u8]) -> Vec<&Path> {
        self.files
            .iter()
            .filter(|(_, bytes)| contains(bytes, needle))
            .map(|(path, _)| path.as_path())
            .collect()
    }

    /// Asserts that `needle` is in no file.
    pub fn assert_nowhere(&self, needle: &[u8], what: &str) {
        let found = self.holding(needle);
        assert!(found.is_empty(), "{what} found in {found:?}");
    }

    /// Asserts that files of these names were read, and were not empty.
    pub fn assert_read(&self, names: &[&str]) {
        for name in names {
            assert!(
                self.files.iter().any(|(p, bytes)| {
                    p.file_name().is_some_and(|n| n == *name) && !bytes.is_empty()
                }),
                "{name} was not scanned: {:?}",
                self.files.iter().map(|(p, _)| p).collect::<Vec<_>>()
            );
        }
    }

    /// Asserts that the scan finds a control that is known to be there: the
    /// proof that "not found" means something.
    pub fn assert_finds(&self, control: &[u8], what: &str) {
        assert!(
            !self.holding(control).is_empty(),
            "the scan does not find {what}, which is there: it reads nothing"
        );
    }
}

/// Reads every file under `dir`. A folder or file that cannot be read fails
/// the test: a scan that silently skipped it would prove nothing. A file that
/// disappears between listing and reading (SQLite removes its WAL on close)
/// is left out; callers assert which files they need with [`Scan::assert_read`].
pub fn scan(dir: &Path) -> Scan {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let path = entry.path();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
        if kind.is_dir() {
            files.extend(scan(&path).files);
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => files.push((path, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        }
    }
    Scan { files }
}

/// 64 bytes from the body of a stored envelope: ciphertext that occurs
/// nowhere else by chance, so a scan of the data folder must find it.
pub fn control_of(envelope: &[u8]) -> Vec<u8> {
    assert!(
        envelope.len() > 200,
        "an envelope of {} bytes",
        envelope.len()
    );
    envelope[envelope.len() - 80..envelope.len() - 16].to_vec()
}

/// Waits for `child` to end, at most `deadline`; `None` if it did not.
pub fn wait_within(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return Some(status);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` with `stdin` written to it, and collects what it prints, for
/// at most `deadline`: past it the command is killed and the test fails with
/// its output so far.
pub fn output_within(cmd: &mut Command, stdin: Option<&str>, deadline: Duration) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let Some(text) = stdin {
        // A command that needs no input may exit before reading it: a closed
        // pipe is not a failure of the test.
        let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes());
    }
    let collect = |mut stream: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let status = wait_within(&mut child, deadline);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = Output {
        status: status.unwrap_or_else(|| child.wait().unwrap()),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        status.is_some(),
        "{cmd:?} did not end within {deadline:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The first child process of `pid`, if it has one.
pub fn child_of(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Hands `dir` and everything under it to `uid` (and the group of that number).
fn give_to(dir: &Path, uid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            give_to(&path, uid);
        } else {
            std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
        }
    }
}

/// Says that a test cannot run here and why, and counts as a skip (`.ci/run`
/// counts the lines that start with "skipping:"). With `CI` set, a missing
/// tool is a failure instead.
pub fn skip(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "this test cannot run in CI: {what}"
    );
    eprintln!("skipping: {what}");
}

/// Whether `program ARGS` runs and succeeds (a tool a test needs is
/// installed); without it, a skip naming `install` (with `CI` set, a failure).
pub fn tool_available(program: &str, args: &[&str], install: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!("{program} is not installed ({install})"));
    }
    ok
}

/// Whether strace is there; without it, a skip (with `CI` set, a failure).
pub fn strace_available() -> bool {
    tool_available("strace", &["-V"], "apt-get install strace")
}

/// strace's arguments to apply `inject` to the fsync-family calls on `file`
/// (by every thread, followed with `-f`), each one logged to `log` with its
/// thread, its wall-clock time and what it returned. Only those calls stop
/// the server (`--seccomp-bpf`), so it runs at its usual speed otherwise.
fn strace_args(file: &Path, inject: &str, log: &Path) -> Vec<String> {
    [
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-y",
        "-ttt",
        "-e",
        "trace=fsync,fdatasync",
        "-e",
        &format!("inject=fsync,fdatasync:{inject}"),
        "-P",
        &file.display().to_string(),
        "-o",
        &log.display().to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// One fsync-family call in a log that strace wrote.
#[derive(Debug, Clone)]
pub struct Synced {
    /// The thread that made it.
    pub thread: u32,
    /// When it was entered, in seconds since the Unix epoch (the same clock
    /// as [`std::time::SystemTime`]).
    pub at: f64,
    /// What it returned, with strace's note: `0 (DELAYED)`, `-1 EIO … (INJECTED)`.
    pub result: String,
}

/// The fsync-family calls on `file` in a log that strace wrote.
pub fn syncs_in(log: &Path, file: &str) -> Vec<Synced> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("sync(") && l.contains(&format!("{file}>")))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let thread = words.next()?.parse().ok()?;
            let at = words.next()?.parse().ok()?;
            let result = l.split_once(") = ")?.1.to_owned();
            Some(Synced { thread, at, result })
        })
        .collect()
}

/// When the server logged the first line holding `needle`, in seconds since
/// the Unix epoch (its log lines begin with an RFC 3339 time in UTC).
pub fn logged_at(output: &str, needle: &str) -> Option<f64> {
    let line = output.lines().find(|l| l.contains(needle))?;
    let stamp = line.split_whitespace().next()?.strip_suffix('Z')?;
    let (day, clock) = stamp.split_once('T')?;
    let d: Vec<i64> = day
        .split('-')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let t: Vec<i64> = hms
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(*d.first()?).ok()?,
        time::Month::try_from(u8::try_from(*d.get(1)?).ok()?).ok()?,
        u8::try_from(*d.get(2)?).ok()?,
    )
    .ok()?;
    let midnight = date.midnight().assume_utc().unix_timestamp();
    let seconds = midnight + t.first()? * 3600 + t.get(1)? * 60 + t.get(2)?;
    Some(seconds as f64 + format!("0.{fraction}").parse::<f64>().ok()?)
}

/// Seconds since the Unix epoch now, on the clock strace's `-ttt` uses.
pub fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A unique marker to submit and then look for where it must not be.
pub fn canary(tag: &str) -> String {
    let n: u64 = rand::random();
    format!("CANARY{tag}{n:016x}")
}

/// An HTTP client that never follows redirects, keeps no cookies, and gives
/// up on a request after [`DEADLINE`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DEADLINE)
        .build()
        .unwrap()
}

/// A client whose connections come from `ip` (any 127.x address works on Linux).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DEADLINE)
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
    let mut cmd = Command::new("age");
    cmd.arg("-d").arg("-i").arg(identity_file).arg(file);
    let out = output_within(&mut cmd, None, DEADLINE);
    out.status.success().then_some(out.stdout)
}

/// Whether the `age` CLI exists; with CI=true its absence is a failure.
pub fn age_cli_available() -> bool {
    let ok = Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip("the age CLI is not installed (apt-get install age)");
    }
    ok
}

/// Stops a helper process the test started (a proxy, an SSH server): SIGTERM,
/// so that a master process stops its workers too (a SIGKILL would leave
/// them running, holding the test's output open), then SIGKILL past
/// [`DEADLINE`].
pub fn stop_child(child: &mut Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
