//! Off-site copies: a backup sealed to the backup recipient while senders keep
//! submitting, sent to a restic repository and back, restored on a fresh data
//! folder, holds every signal acknowledged before it — and nothing in its
//! pages tells the order in which they arrived.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod forensic;
mod ops_support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey};
use ops_support::{db, run, signal_of};

/// Whether a command-line tool is installed; with `CI=true` a missing one fails.
fn tool(name: &str, install: &str) -> bool {
    common::tool_available(name, &["version"], install)
}

fn restic(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("restic")
        .arg("--repo")
        .arg(repo)
        .args(["--no-cache", "--quiet"])
        .args(args)
        .env("RESTIC_PASSWORD", "a test repository's password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rowid_of(conn: &rusqlite::Connection, receipt: &str) -> i64 {
    let id = signal_of(conn, receipt).unwrap();
    conn.query_row("SELECT rid FROM all_signals WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Opens a sealed backup with the age library, as an examiner holding the
/// backup identity would.
fn decrypt(sealed: &Path, identity: &TeamKey, to: &Path) {
    let file = std::fs::File::open(sealed).unwrap();
    let decryptor = age::Decryptor::new(std::io::BufReader::new(file)).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity.identity as &dyn age::Identity))
        .unwrap();
    let mut out = std::fs::File::create(to).unwrap();
    std::io::copy(&mut reader, &mut out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sealed_backup_under_load_goes_off_site_and_comes_back_whole_and_without_order() {
    let unlimited = ["SIGNAAL_SUBMIT_BURST", "SIGNAAL_SUBMIT_PER_HOUR"]
        .map(|name| (name.to_owned(), "10000000".to_owned()));
    let server = Arc::new(Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        env: unlimited.to_vec(),
        ..Options::default()
    }));
    let backup_key = TeamKey::generate();
    std::fs::write(
        server.keys_dir().join("backup.pub"),
        format!("# the backup recipient\n{}\n", backup_key.recipient()),
    )
    .unwrap();
    let identity_file = server.root.path().join("backup.key");
    backup_key.write_identity_file(&identity_file);

    // One after another, so their order of arrival is known exactly.
    let in_order = ops_support::submit_many(&server, 400, "one after another").await;

    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..3 {
        let (server, acknowledged, stop) = (
            Arc::clone(&server),
            Arc::clone(&acknowledged),
            Arc::clone(&stop),
        );
        load.push(tokio::spawn(async move {
            let client = common::client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let text = format!("during the backup {worker}-{n}");
                let (status, page) =
                    common::submit(&client, &server, &[("situation", &text)]).await;
                assert_eq!(status, 200, "submission {worker}-{n} refused");
                let receipt = common::receipt_in(&page).unwrap();
                acknowledged.lock().unwrap().push((Instant::now(), receipt));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    // The backup starts once the load has acknowledged enough signals.
    let deadline = Instant::now() + common::DEADLINE;
    while acknowledged.lock().unwrap().len() < 10 {
        assert!(
            Instant::now() < deadline,
            "the load acknowledged too little"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let outbox = server.root.path().join("offsite");
    std::fs::create_dir_all(&outbox).unwrap();
    let sealed = outbox.join("signaal.db.age");
    let began = Instant::now();
    let backup = {
        let (server, dest) = (Arc::clone(&server), sealed.display().to_string());
        tokio::task::spawn_blocking(move || run(&server, &[], &["backup", &dest], ""))
    };
    let (code, out, err) = tokio::time::timeout(Duration::from_secs(60), backup)
        .await
        .expect("the sealed backup did not finish within a minute of steady load")
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sealed to 1 backup recipient"), "{out}");
    // … and stops once some signals were acknowledged after it.
    let ended = Instant::now();
    let deadline = ended + common::DEADLINE;
    while acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at > ended)
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "no load after the backup");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let mut before: Vec<String> = acknowledged
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, r)| r.clone())
        .collect();
    assert!(before.len() >= 10, "too little load: {}", before.len());
    assert!(
        acknowledged.len() > before.len(),
        "no load during the backup"
    );
    before.extend(in_order.iter().cloned());

    // What lies in the destination is age ciphertext, and beside it the
    // head of its audit chain, and nothing else.
    let bytes = std::fs::read(&sealed).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    assert!(!common::contains(&bytes, b"SQLite format 3"));
    let mut names: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["signaal.db.age", "signaal.db.age.head"],
        "a partial or plain file was left in the destination"
    );
    let head = std::fs::read_to_string(outbox.join("signaal.db.age.head")).unwrap();
    let (row, hash) = head
        .strip_prefix("audit head: row ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .and_then(|rest| rest.split_once(", sha256 "))
        .unwrap_or_else(|| panic!("only the chain's head: {head:?}"));
    assert!(row.parse::<u64>().is_ok(), "{head:?}");
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{head:?}"
    );
    assert!(
        !server.data_dir().join("signaal.db.backup-staging").exists(),
        "the plain copy was left in the data folder"
    );
    if common::age_cli_available() {
        let plain = common::age_cli_decrypt(&identity_file, &sealed).unwrap();
        assert!(plain.starts_with(b"SQLite format 3\0"));
    }

    // Off the machine with restic, and back.
    let mut from = sealed.clone();
    if tool("restic", "apt-get install restic") {
        let repo = server.root.path().join("restic-repo");
        restic(&repo, &["init"]);
        restic(
            &repo,
            &["backup", "--host", "signaal", sealed.to_str().unwrap()],
        );
        let back = server.root.path().join("restic-back");
        restic(
            &repo,
            &["restore", "latest", "--target", back.to_str().unwrap()],
        );
        from = back.join(sealed.strip_prefix("/").unwrap());
        assert_eq!(std::fs::read(&from).unwrap(), bytes);
    }

    // A fresh machine: empty data folder, the same keys, the backup identity.
    let restored = server.root.path().join("restored");
    let elsewhere = [("SIGNAAL_DATA_DIR", restored.to_str().unwrap())];
    let (code, _, err) = run(
        &server,
        &elsewhere,
        &["restore", from.to_str().unwrap()],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("--identity"), "{err}");
    let (code, out, err) = run(
        &server,
        &elsewhere,
        &[
            "restore",
            from.to_str().unwrap(),
            "--identity",
            identity_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&server, &elsewhere, &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
    let conn = db(&restored.join("signaal.db"));
    let missing = before
        .iter()
        .filter(|r| signal_of(&conn, r).is_none())
        .count();
    assert_eq!(missing, 0, "acknowledged signals lost");

    // The forensic check, on the decrypted copy itself.
    let plain = server.root.path().join("examined.db");
    decrypt(&sealed, &backup_key, &plain);
    let examined = db(&plain);
    let arrivals: Vec<i64> = in_order.iter().map(|r| rowid_of(&examined, r)).collect();
    drop(examined);
    let trees = forensic::order_correlations(&plain, &arrivals);
    eprintln!(
        "order in the decrypted copy (tree, rho overall, within pages, neighbours z): {trees:?}"
    );
    assert!(trees.len() >= 4, "too few b-trees examined: {trees:?}");
    for (tree, overall, within, z) in &trees {
        assert!(
            overall.abs() < 0.2
                && within.is_none_or(|w| w.abs() < 0.2)
                && z.is_none_or(|z| z.abs() < 4.5),
            "{tree} tells the order of arrival: rho {overall:.3} overall, {within:?} within pages, z {z:?}"
        );
    }
    let freelist = u32::from_be_bytes(std::fs::read(&plain).unwrap()[36..40].try_into().unwrap());
    assert_eq!(freelist, 0, "the copy carries free pages of the original");
}

#[test]
fn the_forensic_reader_sees_the_order_that_sqlite_leaves_in_its_pages() {
    // The control: rows with random rowids, inserted one by one, as a live
    // database holds them before they are mixed. A hundred index entries fit
    // in one page, which SQLite fills from the top in the order of arrival.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ordered.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE signals (id TEXT UNIQUE, received_on TEXT, envelope BLOB);
         CREATE INDEX signals_by_received ON signals (received_on);",
    )
    .unwrap();
    let mut arrivals = Vec::new();
    for i in 0..100 {
        let rowid = i64::from_le_bytes(rand::random::<[u8; 8]>()) & i64::MAX;
        conn.execute(
            "INSERT INTO signals (rowid, id, received_on, envelope) VALUES (?1, ?2, '2026-12-01', zeroblob(300))",
            rusqlite::params![rowid, format!("{:016x}", rand::random::<u64>() ^ i)],
        )
        .unwrap();
        arrivals.push(rowid);
    }
    drop(conn);
    let trees = forensic::order_correlations(&path, &arrivals);
    assert!(
        trees
            .iter()
            .any(|(_, _, within, _)| within.is_some_and(|w| w.abs() > 0.9)),
        "the reader found no order where SQLite leaves it: {trees:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn production_writes_only_sealed_backups_and_a_wrong_identity_restores_nothing() {
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    ops_support::submit_many(&server, 3, "sealed").await;
    let production = [
        ("SIGNAAL_PRODUCTION", "true"),
        ("SIGNAAL_PUBLIC_URL", "https://signaal.example.nl/"),
    ];
    let plain = server.root.path().join("plain.db");
    let (code, _, err) = run(
        &server,
        &production,
        &["backup", plain.to_str().unwrap()],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("backup.pub"), "{err}");
    assert!(!plain.exists());

    let key = TeamKey::generate();
    let sealed = server.root.path().join("b.age");
    let (code, out, err) = run(
        &server,
        &production,
        &[
            "backup",
            sealed.to_str().unwrap(),
            "--encrypt-to",
            &key.recipient(),
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&sealed).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "a backup is readable by its owner only");

    let stranger = server.root.path().join("stranger.key");
    TeamKey::generate().write_identity_file(&stranger);
    let restored = server.root.path().join("restored");
    let elsewhere = [("SIGNAAL_DATA_DIR", restored.to_str().unwrap())];
    let (code, _, err) = run(
        &server,
        &elsewhere,
        &[
            "restore",
            sealed.to_str().unwrap(),
            "--identity",
            stranger.to_str().unwrap(),
        ],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("does not open"), "{err}");
    assert!(!restored.join("signaal.db").exists());

    // An identity kept under a passphrase (age -p) opens it too.
    let wrapped =
        signaal::crypto::wrap_identity(&key.identity, "backup passphrase", Some(10)).unwrap();
    let protected = server.root.path().join("backup.key.age");
    std::fs::write(&protected, wrapped).unwrap();
    let (code, out, err) = run(
        &server,
        &elsewhere,
        &[
            "restore",
            sealed.to_str().unwrap(),
            "--identity",
            protected.to_str().unwrap(),
        ],
        "backup passphrase\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("restored 3 signals"), "{out}");
}

/// Runs `program` with `args` and `env`; panics with its output if it fails.
fn checked(program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args).envs(env.iter().copied());
    let out = common::output_within(&mut cmd, None, common::DEADLINE);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An OpenSSH server on a loopback port, for this test only; stopped when dropped.
struct Sshd(std::process::Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        common::stop_child(&mut self.0);
    }
}

/// The shipped off-site unit's two commands, as the operator's machine runs
/// them, against a real SFTP server (OpenSSH's, on a loopback port): the
/// daily sealed copies go there, and `forget --keep-within` then removes a
/// copy older than `KEEP_WITHIN`, its data pruned from the repository, while
/// the newer one comes back whole.
#[tokio::test(flavor = "multi_thread")]
async fn the_units_restic_commands_send_to_sftp_and_forget_what_is_older_than_keep_within() {
    let sshd_bin = Path::new("/usr/sbin/sshd");
    if !sshd_bin.exists() {
        common::skip("sshd is not installed (apt-get install openssh-server)");
        return;
    }
    if !tool("restic", "apt-get install restic") {
        return;
    }
    let team = TeamKey::generate();
    let server = Server::start_with(Options {
        team: vec![team.recipient()],
        ..Options::default()
    });
    ops_support::submit_many(&server, 3, "off-site").await;

    // The SFTP server, with a key of its own and one for the client.
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    for key in ["host", "client"] {
        checked(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", &d(key)],
            &[],
        );
    }
    std::fs::copy(d("client.pub"), d("authorized_keys")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        d("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nPermitRootLogin prohibit-password\nPidFile {}\n\
             Subsystem sftp internal-sftp\n",
            d("host"),
            d("authorized_keys"),
            d("sshd.pid")
        ),
    )
    .unwrap();
    // OpenSSH wants its privilege separation folder, which a package install makes.
    let _ = std::fs::create_dir_all("/run/sshd");
    let _sshd = Sshd(
        Command::new(sshd_bin)
            .args(["-D", "-e", "-f", &d("sshd_config")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let user = checked("id", &["-un"], &[]).trim().to_owned();
    let sftp = format!(
        "sftp.command=ssh -p {port} -i {} -o BatchMode=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR {user}@127.0.0.1 -s sftp",
        d("client")
    );
    std::fs::write(d("offsite.pass"), "a test repository's password\n").unwrap();
    let repo = format!("sftp:{user}@127.0.0.1:{}", d("repo"));
    let env = [
        ("RESTIC_REPOSITORY", repo.as_str()),
        ("RESTIC_PASSWORD_FILE", &d("offsite.pass")),
        ("RESTIC_CACHE_DIR", &d("cache")),
    ];
    checked("restic", &["-o", &sftp, "init"], &env);

    // The unit's commands, as shipped, with this test's folder and KEEP_WITHIN.
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd/signaal-offsite.service"),
    )
    .unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let command = |key: &str| -> Vec<String> {
        let line = unit
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in the unit"));
        let words: Vec<String> = line
            .replace("/var/backups/signaal", &backups.display().to_string())
            .replace("${KEEP_WITHIN}", "14d")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(words[0], "/usr/bin/restic", "{line}");
        words[1..].to_vec()
    };
    let send = command("ExecStart=");
    let forget = command("ExecStartPost=");
    assert!(forget.contains(&"--prune".to_owned()), "{forget:?}");
    let restic_unit = |words: &[String], extra: &[&str]| -> String {
        let mut args: Vec<&str> = vec!["-o", &sftp];
        args.extend(words.iter().map(String::as_str));
        args.extend(extra);
        checked("restic", &args, &env)
    };

    let sealed_backup = |dest: &Path| {
        let (code, out, err) = run(
            &server,
            &[],
            &[
                "backup",
                dest.to_str().unwrap(),
                "--encrypt-to",
                &team.recipient(),
            ],
            "",
        );
        assert_eq!(code, 0, "{out}{err}");
    };
    let raw_size = || -> u64 {
        let words = ["stats", "--json", "--mode", "raw-data"].map(String::from);
        let stats: serde_json::Value = serde_json::from_str(&restic_unit(&words, &[])).unwrap();
        stats["total_size"].as_u64().unwrap()
    };
    let holds_old = || {
        restic_unit(&["find".into(), "signaal-old.db.age".into()], &[])
            .contains("signaal-old.db.age")
    };

    // Twenty days ago: a sealed copy, sent that day.
    let old = backups.join("signaal-old.db.age");
    sealed_backup(&old);
    let twenty_days_ago = checked(
        "date",
        &["-u", "-d", "20 days ago", "+%Y-%m-%d %H:%M:%S"],
        &[],
    );
    restic_unit(&send, &["--time", twenty_days_ago.trim()]);
    // The machine keeps two days of copies; today's is the only one left.
    std::fs::remove_file(&old).unwrap();
    std::fs::remove_file(backups.join("signaal-old.db.age.head")).unwrap();
    ops_support::submit_many(&server, 1, "since").await;
    let new = backups.join("signaal-new.db.age");
    sealed_backup(&new);
    restic_unit(&send, &[]);
    let before = raw_size();
    assert!(holds_old());

    restic_unit(&forget, &[]);
    let snapshots: serde_json::Value =
        serde_json::from_str(&restic_unit(&["snapshots".into(), "--json".into()], &[])).unwrap();
    let snapshots = snapshots.as_array().unwrap();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    assert!(
        !holds_old(),
        "the copy older than KEEP_WITHIN is still in the repository"
    );
    let after = raw_size();
    println!("raw data before forget: {before} bytes, after: {after} bytes");
    assert!(after < before, "prune removed no data: {before} → {after}");

    // The newer copy comes back from the SFTP server byte for byte.
    let back = dir.path().join("back");
    restic_unit(
        &[
            "restore".into(),
            "latest".into(),
            "--target".into(),
            back.display().to_string(),
        ],
        &[],
    );
    let restored = back.join(new.strip_prefix("/").unwrap());
    assert_eq!(
        std::fs::read(&restored).unwrap(),
        std::fs::read(&new).unwrap()
    );
}
