//! No silent traps: a command run where there is no installation, a log
//! setting with a typo, a reviewer without a second factor or a key file
//! open to everyone each get a sentence and a non-zero exit; `check` prints
//! the version and the schema, and `check --server` asks the running faces.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{Options, Server, TeamKey, binary};
use ops_support::run;

/// Runs `signaal ARGS` in `dir` with no SIGNAAL_* setting at all.
fn bare(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(binary());
    for (name, _) in std::env::vars() {
        if name.starts_with("SIGNAAL_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir);
    let out = common::output_within(&mut command, None, common::DEADLINE);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_command_run_where_there_is_no_installation_says_so_instead_of_making_one() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["audit", "verify"][..],
        &["report", "--csv"],
        &["backup", "copy.db"],
        &["export", "--encrypted", "out"],
        &["purge"],
        &["check"],
        &["restore", "copy.db"],
        &["reviewer", "list"],
    ] {
        let (code, out, err) = bare(dir.path(), args, &[]);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("not a signaal installation") && err.contains("--config"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!out.contains("ok"), "{args:?}: {out}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "something was made in the wrong place"
    );
    // A configuration (named either way) that sets no data_dir would make
    // an empty ./data here just the same.
    let elsewhere = tempfile::tempdir().unwrap();
    let conf = elsewhere.path().join("signaal.toml");
    std::fs::write(&conf, "max_body_bytes = 65536\n").unwrap();
    let conf = conf.to_str().unwrap();
    for (args, env) in [
        (vec!["--config", conf, "audit", "verify"], vec![]),
        (vec!["audit", "verify"], vec![("SIGNAAL_CONFIG", conf)]),
    ] {
        let (code, out, err) = bare(dir.path(), &args, &env);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("sets no data_dir") && err.contains(conf),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Where the installation is, the same command works.
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::set_permissions(
        dir.path().join("data"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let (code, out, err) = bare(dir.path(), &["audit", "verify"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    // The reviewer commands act on the keys alone: in a checkout whose keys
    // are made (keys/README.md) before the demo has made ./data, they work.
    let checkout = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(checkout.path().join("keys/reviewers")).unwrap();
    let (code, out, err) = bare(checkout.path(), &["reviewer", "list"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("not a signaal installation"), "{err}");
    assert!(
        !checkout.path().join("data").exists(),
        "a database was made"
    );
    let (code, _, err) = bare(checkout.path(), &["audit", "verify"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a signaal installation"), "{err}");
}

#[test]
fn a_log_setting_that_is_not_a_level_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["infoo", "signaal=loud", "debug,=info"] {
        let (code, _, err) = bare(
            dir.path(),
            &["serve"],
            &[
                ("SIGNAAL_LOG", bad),
                ("SIGNAAL_INTAKE_ADDR", "127.0.0.1:0"),
                ("SIGNAAL_REVIEW_ADDR", "127.0.0.1:0"),
            ],
        );
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("SIGNAAL_LOG"), "{bad}: {err}");
        assert!(!err.contains(bad), "the sentence repeats the value: {err}");
    }
    assert!(!dir.path().join("data").exists());
}

#[test]
fn version_and_check_print_the_version_and_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = bare(dir.path(), &["--version"], &[]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("signaal {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(env!("CARGO_PKG_VERSION"), "0.2.0");
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.lines().next(),
        Some(format!("signaal {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert!(
        out.contains(&format!(
            "schema version {}",
            signaal::store::CURRENT_VERSION
        )),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_with_server_asks_the_running_faces_and_fails_when_they_are_gone() {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    let faces = [
        (
            "SIGNAAL_INTAKE_ADDR",
            server.intake.trim_start_matches("http://").to_owned(),
        ),
        (
            "SIGNAAL_REVIEW_ADDR",
            server.review.trim_start_matches("http://").to_owned(),
        ),
    ];
    let faces: Vec<(&str, &str)> = faces.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out, err) = run(&server, &faces, &["check", "--server"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("intake face on") && out.contains("review face on"),
        "{out}"
    );
    assert!(server.stop().success());
    let (code, out, err) = run(&server, &faces, &["check", "--server"], "");
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.matches("does not answer").count(), 2, "{err}");
}

#[test]
fn check_in_production_names_a_missing_second_factor_an_unreadable_one_and_open_files() {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    assert!(server.stop().success());
    let keys = server.keys_dir();
    for dir in [keys.clone(), keys.join("reviewers")] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    for name in ["anna", "bert"] {
        let (code, out, err) = run(
            &server,
            &[],
            &["reviewer", "add", name, "--no-totp", "--work-factor", "10"],
            "a long enough passphrase\n",
        );
        assert_eq!(code, 0, "{out}{err}");
    }
    let production = [
        ("SIGNAAL_PRODUCTION", "true"),
        ("SIGNAAL_PUBLIC_URL", "https://signaal.example.nl/"),
        (
            "SIGNAAL_ORGANISATION_CONTACT",
            "https://signaal.example.nl/contact",
        ),
        ("SIGNAAL_ORGANISATION_DPO", "fg@example.nl"),
    ];
    let (code, out, err) = run(&server, &production, &["check"], "");
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.matches("has no second factor").count(), 2, "{err}");
    assert!(err.contains("reviewer totp anna"), "{err}");

    let (code, out, err) = run(
        &server,
        &[],
        &["reviewer", "totp", "anna"],
        "a long enough passphrase\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    // bert's second factor cannot be read; anna's identity is open to all.
    let bert_totp = keys.join("reviewers/bert.totp");
    std::os::unix::fs::symlink(&bert_totp, &bert_totp).unwrap();
    let anna = keys.join("reviewers/anna.age");
    std::fs::set_permissions(&anna, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out, err) = run(&server, &production, &["check"], "");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("bert.totp cannot be read"), "{err}");
    assert!(
        err.contains("anna.age is open to other users (mode 644)"),
        "{err}"
    );
    assert!(
        err.contains("keys is open to other users (mode 755)"),
        "{err}"
    );
    assert!(!err.contains("anna has no second factor"), "{err}");
    assert_eq!(err.lines().count(), 3, "{err}");

    std::fs::remove_file(&bert_totp).unwrap();
    std::fs::remove_file(keys.join("reviewers/bert.age")).unwrap();
    std::fs::set_permissions(&anna, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (code, out, err) = run(&server, &production, &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_folder_and_its_files_are_open_to_their_owner_only() {
    let server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    ops_support::submit_many(&server, 2, "exported").await;
    let dir = server.root.path().join("export");
    let (code, out, err) = run(
        &server,
        &[],
        &["export", "--encrypted", dir.to_str().unwrap(), "--thread"],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 2);
    for file in files {
        assert_eq!(mode(&file.path()), 0o600, "{}", file.path().display());
    }
}

/// A server started and stopped with a team key, when root runs the test
/// (`None`, said, otherwise: `why` only root can do it).
fn stopped_as_root(why: &str) -> Option<Server> {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping: {why}");
        return None;
    }
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    assert!(server.stop().success());
    Some(server)
}

#[test]
fn a_reviewer_added_by_root_belongs_to_the_service_that_must_read_it() {
    let Some(server) = stopped_as_root("only root can hand a file to another user") else {
        return;
    };
    use std::os::unix::fs::MetadataExt;
    // As the package makes it: the keys folders belong to the service's user.
    let service = 65534;
    let reviewers = server.keys_dir().join("reviewers");
    std::fs::create_dir_all(&reviewers).unwrap();
    for dir in [server.keys_dir(), reviewers.clone()] {
        std::os::unix::fs::chown(&dir, Some(service), Some(service)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // The first reviewer of a fresh install also makes team.pub.
    let team = server.keys_dir().join("team.pub");
    std::fs::remove_file(&team).unwrap();
    let (code, out, err) = run(
        &server,
        &[],
        &[
            "reviewer",
            "add",
            "anna",
            "--work-factor",
            "10",
            "--add-recipient",
        ],
        "a long enough passphrase\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    for path in [
        reviewers.join("anna.age"),
        reviewers.join("anna.totp"),
        team.clone(),
    ] {
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (service, service),
            "{}",
            path.display()
        );
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "{}",
            path.display()
        );
    }

    // A closed standard output (`… | head`) leaves no reviewer half added:
    // every file is written, and the command says how to get the second
    // factor it could not show.
    let mut child = std::process::Command::new(common::binary())
        .args([
            "reviewer",
            "add",
            "bob",
            "--work-factor",
            "10",
            "--add-recipient",
        ])
        .envs(server.env())
        .current_dir(server.root.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"another long enough passphrase\n",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + common::DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "reviewer add did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("signaal reviewer totp bob"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(reviewers.join("bob.age").exists() && reviewers.join("bob.totp").exists());
    assert!(
        std::fs::read_to_string(&team)
            .unwrap()
            .contains("# reviewer bob\n")
    );
}

/// `check` run as root on a new installation, whose data folder belongs to
/// the service's user, makes no database of root's (which the service could
/// not open, and would fail to start on): it says to run as that user.
#[test]
fn check_as_root_makes_no_database_the_service_cannot_open() {
    let Some(server) = stopped_as_root("only root can hand a folder to another user") else {
        return;
    };
    // A new installation: an empty data folder of the service's user.
    let data = server.data_dir();
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("runuser -u signaal"), "{out}{err}");
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "check wrote into the folder"
    );
}
