//! No switch but the settings: the binary reads no environment variable that
//! the README's settings table does not list (save the few that its libraries
//! consult, which the README names), only the configuration module reads the
//! environment, and no hidden switch is compiled in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The variables named in the settings table's second column.
fn settings_table() -> BTreeSet<String> {
    readme()
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(2))
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect()
}

/// The libraries' own variables that the README names, after "No environment
/// variable outside this table".
fn named_platform_variables() -> BTreeSet<String> {
    let text = readme();
    let start = text
        .find("No environment variable outside this table")
        .expect("the README says which other variables are read");
    let paragraph = &text[start..start + text[start..].find("\n\n").unwrap()];
    paragraph
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_configuration_module_reads_the_environment() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20, "the source tree was read: {files:?}");
    let config = src.join("config.rs");
    let forbidden = [
        "env::var",
        "var_os",
        "env::vars",
        "getenv",
        "env = \"",
        "from_env(",
    ];
    let mut found = Vec::new();
    for file in files.iter().filter(|f| **f != config) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f)) && !line.contains("config::") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "read outside src/config.rs:\n{}",
        found.join("\n")
    );
    // And what the configuration reads is what the README lists, and back.
    let text = std::fs::read_to_string(&config).unwrap();
    let read: BTreeSet<String> = text
        .split('"')
        .filter(|w| {
            w.starts_with("SIGNAAL_") && w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
        .map(str::to_owned)
        .collect();
    let listed: BTreeSet<String> = settings_table()
        .into_iter()
        .filter(|n| n.starts_with("SIGNAAL_"))
        .collect();
    assert!(listed.len() > 20, "the README's table was read: {listed:?}");
    assert_eq!(
        read, listed,
        "src/config.rs and the README's settings table differ"
    );
}

#[test]
fn the_binary_holds_no_hidden_switch() {
    let bytes = std::fs::read(common::binary()).unwrap();
    assert!(bytes.len() > 1_000_000, "the binary was read");
    assert!(
        common::contains(&bytes, b"SIGNAAL_DATA_DIR"),
        "the control is found"
    );
    // A switch's name: ZZ_ and then a name (a bare "ZZ_" also occurs by
    // chance in the bytes of a large binary's debug information).
    let named = bytes.windows(6).any(|w| {
        w.starts_with(b"ZZ_")
            && w[3..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
    });
    assert!(!named, "a ZZ_ switch is in the binary");
}

fn gdb_available() -> bool {
    common::tool_available("gdb", &["--version"], "apt-get install gdb")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_serving_signaal_reads_no_variable_the_readme_does_not_name() {
    if !gdb_available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let script = root.path().join("getenv.gdb");
    std::fs::write(
        &script,
        "set pagination off\nset breakpoint pending on\nhandle SIGTERM nostop noprint pass\n\
         break getenv\ncommands\nsilent\nprintf \"GETENV %s\\n\", name\ncontinue\nend\n\
         break secure_getenv\ncommands\nsilent\nprintf \"GETENV %s\\n\", name\ncontinue\nend\nrun\n",
    )
    .unwrap();
    let mut child = Command::new("gdb")
        .args(["-q", "-batch", "-x"])
        .arg(&script)
        .arg("--args")
        .arg(common::binary())
        .arg("serve")
        .env("SIGNAAL_DATA_DIR", root.path().join("data"))
        .env("SIGNAAL_KEYS_DIR", root.path().join("keys"))
        .env("SIGNAAL_INTAKE_ADDR", "127.0.0.1:0")
        .env("SIGNAAL_REVIEW_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line.clone());
            lines.push(line);
        }
        lines
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut intake, mut review) = (None, None);
    while intake.is_none() || review.is_none() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("signaal started under gdb");
        if let Some(a) = line.strip_prefix("intake listening on ") {
            intake = Some(a.trim().to_owned());
        }
        if let Some(a) = line.strip_prefix("review listening on ") {
            review = Some(a.trim().to_owned());
        }
    }
    let (intake, review) = (intake.unwrap(), review.unwrap());
    // What senders and reviewers do: a signal, a look-up, a message, pages.
    let c = common::client();
    let page = c
        .post(format!("{intake}/signal"))
        .form(&[("situation", "Een regel die te hard uitpakt.")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let receipt = common::receipt_in(&page).expect("a receipt");
    for (path, fields) in [
        ("/follow-up", vec![("receipt", receipt.as_str())]),
        (
            "/follow-up/message",
            vec![("receipt", receipt.as_str()), ("message", "Nog iets.")],
        ),
        ("/receipt", vec![("receipt", receipt.as_str())]),
    ] {
        let res = c
            .post(format!("{intake}{path}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    for url in [
        format!("{intake}/"),
        format!("{intake}/privacy"),
        format!("{review}/"),
    ] {
        c.get(url).send().await.unwrap();
    }
    let _ = c
        .post(format!("{review}/login"))
        .header("origin", review.as_str())
        .form(&[
            ("name", "demo"),
            ("passphrase", "wrong"),
            ("totp", "000000"),
        ])
        .send()
        .await
        .unwrap();
    // A clean stop: the mix and the summary run too.
    let inferior = common::child_of(child.id()).expect("gdb runs signaal as its child");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(inferior).unwrap()).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = common::wait_within(&mut child, common::DEADLINE).unwrap_or_else(|| {
        let _ = child.kill();
        panic!(
            "gdb did not end within {:?} after SIGTERM",
            common::DEADLINE
        )
    });
    assert!(status.success(), "gdb ended cleanly");
    let lines = reader.join().unwrap();
    let read: BTreeSet<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("GETENV "))
        .map(|n| n.trim().to_owned())
        .collect();
    assert!(
        read.contains("SIGNAAL_DATA_DIR"),
        "the trace works: {read:?}"
    );
    let mut allowed = settings_table();
    allowed.extend(named_platform_variables());
    let unlisted: Vec<&String> = read.iter().filter(|n| !allowed.contains(*n)).collect();
    assert!(
        unlisted.is_empty(),
        "read but not in the README: {unlisted:?} (allowed: {allowed:?})"
    );
}
