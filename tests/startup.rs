//! An operator starts signaal: every bad setting stops it with one clear
//! sentence that names the setting, and never echoes a secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::process::Command;

use common::{TeamKey, binary};

/// Runs `signaal ARGS` in a fresh folder with `env`; returns (exit code, stderr).
fn run_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(dir)
        .env("SIGNAAL_INTAKE_ADDR", "127.0.0.1:0")
        .env("SIGNAAL_REVIEW_ADDR", "127.0.0.1:0")
        .envs(env.iter().copied());
    // A refusal that did not happen would serve for ever: the deadline ends it.
    let out = common::output_within(&mut cmd, None, common::DEADLINE);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_address_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run_in(
        dir.path(),
        &["serve"],
        &[("SIGNAAL_INTAKE_ADDR", "localhost:80:80")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("SIGNAAL_INTAKE_ADDR"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear sentence: {err}");
}

#[test]
fn a_team_pub_line_that_is_not_a_recipient_is_named_by_its_number_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let good = TeamKey::generate().recipient();
    std::fs::write(
        dir.path().join("keys/team.pub"),
        format!("# team\n{good}\nAGE-SECRET-KEY-1PASTEDBYMISTAKE\n"),
    )
    .unwrap();
    let (code, err) = run_in(dir.path(), &["serve"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("line 3"), "{err}");
    assert!(
        !err.contains("PASTEDBYMISTAKE"),
        "a secret was echoed: {err}"
    );
}

#[test]
fn an_unusable_data_folder_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), b"").unwrap();
    let (code, err) = run_in(
        dir.path(),
        &["serve"],
        &[("SIGNAAL_DATA_DIR", "a-file/data")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("data folder"), "{err}");
}

#[test]
fn production_mode_refuses_to_make_or_use_demo_keys() {
    let dir = tempfile::tempdir().unwrap();
    let https = ("SIGNAAL_PUBLIC_URL", "https://signaal.example/");
    let (code, err) = run_in(dir.path(), &["serve", "--production"], &[https]);
    assert_eq!(code, 2);
    assert!(err.contains("team.pub"), "{err}");
    assert!(
        !dir.path().join("keys/team.pub").exists(),
        "no demo keys were made"
    );

    // Demo keys made by an earlier demo run are refused too.
    signaal::keys::load_or_make_demo(&dir.path().join("keys"), false).unwrap();
    let (code, err) = run_in(dir.path(), &["serve", "--production"], &[https]);
    assert_eq!(code, 2);
    assert!(err.contains("demo"), "{err}");
    let (code, err) = run_in(dir.path(), &["serve"], &[("SIGNAAL_PRODUCTION", "true")]);
    assert_eq!(code, 2);
    assert!(err.contains("public_url"), "production needs https: {err}");
}

#[test]
fn a_misspelt_setting_in_the_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("signaal.toml"),
        "data_dir = \"d\"\n\n[limits]\nsubmit_brust = 3\n",
    )
    .unwrap();
    let (code, err) = run_in(dir.path(), &["--config", "signaal.toml", "serve"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("submit_brust") && err.contains("line 4"),
        "{err}"
    );
    let (code, err) = run_in(
        dir.path(),
        &["serve"],
        &[("SIGNAAL_CONFIG", "missing.toml")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn the_file_sets_what_the_environment_does_not_override() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("signaal.toml"),
        "data_dir = \"from-file\"\nreceived_precision = \"week\"\n[limits]\nsubmit_burst = 0\n",
    )
    .unwrap();
    let (code, err) = run_in(dir.path(), &["--config", "signaal.toml", "serve"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("limits.submit_burst"),
        "validated after loading: {err}"
    );
    let (code, err) = run_in(
        dir.path(),
        &["--config", "signaal.toml", "check"],
        &[
            ("SIGNAAL_SUBMIT_BURST", "4"),
            ("SIGNAAL_KEYS_DIR", "nokeys"),
        ],
    );
    assert_eq!(code, 1, "check reports the missing keys: {err}");
    assert!(err.contains("nokeys"), "{err}");
    assert!(
        dir.path().join("from-file/signaal.db").exists(),
        "data_dir came from the file"
    );
}

#[test]
fn a_demo_start_says_demo_and_prints_the_passphrase_once() {
    let mut server = common::Server::start();
    let passphrase = server
        .demo_passphrase()
        .expect("the passphrase is printed at first start");
    assert!(server.output().contains("DEMO"));
    let file = std::fs::read(server.keys_dir().join("reviewers/demo.age")).unwrap();
    assert!(
        file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
        "the format age -p writes"
    );
    let identity = signaal::crypto::unwrap_identity(&file, &passphrase).unwrap();
    let team = std::fs::read_to_string(server.keys_dir().join("team.pub")).unwrap();
    assert!(team.contains(&identity.to_public().to_string()));
    let status = server.stop();
    assert!(status.success(), "SIGTERM stops it cleanly");
    assert!(server.output().contains("stopped"));
    server.restart();
    // The second start's banner, which stands where the passphrase stood:
    // only once it is in does its absence mean anything.
    assert!(
        server.wait_for_output(
            "its passphrase was shown when it was made",
            common::DEADLINE
        ),
        "{}",
        server.output()
    );
    let after = server.output();
    assert_eq!(after.matches("DEMO MODE").count(), 2, "two starts: {after}");
    assert_eq!(
        after.matches(&passphrase).count(),
        1,
        "shown once, not again"
    );
}
