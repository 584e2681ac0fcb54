//! `signaal check`, the health check operators and tests share: `ok` on a
//! sound installation, one line per problem and a non-zero exit otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use common::{Options, Server, TeamKey};
use ops_support::{db, run};

fn stopped_server() -> Server {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    assert!(server.stop().success());
    server
}

#[test]
fn check_says_ok_on_a_sound_installation_running_or_not() {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(
        code, 0,
        "as a health check of the running server: {out}{err}"
    );
    assert!(server.stop().success());
    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "schema version {}",
            signaal::store::CURRENT_VERSION
        )),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("ok"));
}

#[test]
fn check_names_each_problem_on_its_own_line_and_fails() {
    let server = stopped_server();
    let keys = server.keys_dir();
    std::fs::write(keys.join("team.pub"), "# team\nage1notarecipient\n").unwrap();
    std::fs::create_dir_all(keys.join("reviewers")).unwrap();
    std::fs::write(
        keys.join("reviewers/ann.age"),
        "AGE-SECRET-KEY-1PLAINTEXTSECRET\n",
    )
    .unwrap();
    // Owner-only, as signaal makes them: the file modes are checked in tests/file_modes.rs.
    let owner = |m| std::os::unix::fs::PermissionsExt::from_mode(m);
    std::fs::set_permissions(keys.join("reviewers"), owner(0o700)).unwrap();
    std::fs::set_permissions(keys.join("reviewers/ann.age"), owner(0o600)).unwrap();
    db(&server.data_dir().join("signaal.db"))
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let open = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(server.data_dir(), open).unwrap();

    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines.iter().all(|l| l.starts_with("signaal check: ")),
        "{err}"
    );
    assert!(lines[0].contains("team.pub line 2"), "{err}");
    assert!(
        lines[1].contains("ann.age is not an age-encrypted identity"),
        "{err}"
    );
    assert!(lines[2].contains("open to every user (mode 755)"), "{err}");
    assert!(lines[3].contains("schema version 99"), "{err}");
    assert!(
        !err.contains("PLAINTEXTSECRET"),
        "a secret was echoed: {err}"
    );
}

#[test]
fn check_refuses_a_file_that_is_not_a_database_and_a_bad_setting() {
    let server = stopped_server();
    std::fs::remove_file(server.data_dir().join("signaal.db-wal")).ok();
    std::fs::remove_file(server.data_dir().join("signaal.db-shm")).ok();
    std::fs::write(server.data_dir().join("signaal.db"), vec![0x42; 8192]).unwrap();
    let (code, _, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 1);
    assert!(
        err.contains("signaal.db is not a readable SQLite database"),
        "{err}"
    );

    let (code, _, err) = run(&server, &[("SIGNAAL_MAX_BODY_BYTES", "12")], &["check"], "");
    assert_ne!(code, 0);
    assert!(err.contains("max_body_bytes"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn the_example_configuration_documents_every_setting_and_is_valid() {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/signaal.toml.example"
    ))
    .unwrap();
    let config = signaal::config::Config::from_toml(&example).unwrap();
    config.validate().unwrap();
    // Every field of the settings, nested tables included, as Debug names them.
    let debug = format!("{:?}", signaal::config::Config::default());
    let names: Vec<&str> = debug
        .split([' ', '{', ',', '('])
        .filter_map(|w| w.strip_suffix(':'))
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !w.is_empty())
        .collect();
    assert!(names.len() > 20, "{names:?}");
    let documented = |name: &str| {
        example.lines().any(|l| {
            let l = l.trim_start_matches(['#', ' ']);
            l.starts_with(&format!("{name} =")) || l.starts_with(&format!("[{name}]"))
        })
    };
    let missing: Vec<&&str> = names.iter().filter(|n| !documented(n)).collect();
    assert!(
        missing.is_empty(),
        "not in deploy/signaal.toml.example: {missing:?}"
    );
}

#[test]
fn check_says_demo_keys_are_in_use_and_production_refuses_them() {
    // No team key given: the server makes demo keys, as a first `cargo run` does.
    let mut server = Server::start_with(Options::default());
    assert!(server.stop().success());
    let team = std::fs::read_to_string(server.keys_dir().join("team.pub")).unwrap();
    assert!(team.contains("DEMO"), "{team}");

    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("demo keys in use"), "{out}");

    let (code, out, err) = run(
        &server,
        &[
            ("SIGNAAL_PRODUCTION", "true"),
            ("SIGNAAL_PUBLIC_URL", "https://signaal.example.nl/"),
        ],
        &["check"],
        "",
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("production mode refuses the demo keys in team.pub"),
        "{err}"
    );
}

/// The files an operator keeps beside the configuration (the off-site
/// settings and password, the TLS keys) are looked at: too open, a missing
/// password file, or a KEEP_WITHIN that keeps copies longer than the privacy
/// page says is a warning with the fix — and the check still passes, since
/// it runs before every start and these must not stop the intake.
#[test]
fn check_warns_about_the_off_site_files_the_tls_keys_and_a_keep_within_the_page_does_not_state() {
    use std::os::unix::fs::PermissionsExt;
    let server = stopped_server();
    let etc = server.root.path().join("etc");
    std::fs::create_dir_all(etc.join("tls/ca")).unwrap();
    let conf = etc.join("signaal.toml");
    std::fs::write(&conf, "backup_keep_days = 15\n").unwrap();
    let conf_arg = conf.to_str().unwrap();
    let mode = |path: &std::path::Path, m| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let write = |name: &str, text: &str, m| {
        let path = etc.join(name);
        std::fs::write(&path, text).unwrap();
        mode(&path, m);
        path
    };
    let pass = etc.join("offsite.pass");
    let env = |keep: &str| {
        format!(
            "# comment\nRESTIC_REPOSITORY=/srv/restic\nRESTIC_PASSWORD_FILE={}\nKEEP_WITHIN={keep}\n",
            pass.display()
        )
    };
    // As the guide makes them: nothing to say.
    write("offsite.env", &env("13d"), 0o640);
    write("offsite.pass", "secret-restic-password\n", 0o400);
    write("tls/review.key", "PRIVATE\n", 0o600);
    mode(&etc.join("tls/ca"), 0o700);
    let (code, out, err) = run(&server, &[], &["--config", conf_arg, "check"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(out.lines().last(), Some("ok"), "{out}");

    // Too open, and kept 30 days off the machine while the page says 15.
    write("offsite.env", &env("30d"), 0o644);
    write("offsite.pass", "secret-restic-password\n", 0o644);
    write("tls/review.key", "PRIVATE\n", 0o644);
    mode(&etc.join("tls/ca"), 0o755);
    let (code, out, err) = run(&server, &[], &["--config", conf_arg, "check"], "");
    assert_eq!(code, 0, "warnings do not fail the check: {out}{err}");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("signaal check: warning: "))
        .collect();
    assert_eq!(warnings.len(), 5, "{err}");
    for (path, fix) in [
        ("offsite.env", "chmod 0640"),
        ("offsite.pass", "chmod 0600"),
        ("tls/review.key", "chmod 0600"),
        ("tls/ca", "chmod 0700"),
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&format!("{path} is open to other users")) && w.contains(fix)),
            "{path}: {err}"
        );
    }
    assert!(
        warnings.iter().any(|w| w.contains("KEEP_WITHIN")
            && w.contains("32 days")
            && w.contains("backup_keep_days = 32")),
        "{err}"
    );
    assert_eq!(out.lines().last(), Some("ok, with 5 warnings"), "{out}");
    assert!(
        !err.contains("secret-restic-password") && !err.contains("PRIVATE"),
        "{err}"
    );

    // A password file that is not there, and a duration restic would refuse.
    std::fs::remove_file(&pass).unwrap();
    write("offsite.env", &env("two weeks"), 0o640);
    let (code, _, err) = run(&server, &[], &["--config", conf_arg, "check"], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("which is not there"), "{err}");
    assert!(err.contains("is not a restic duration"), "{err}");

    // In production, no offsite.env means no copy leaves the machine.
    std::fs::remove_file(etc.join("offsite.env")).unwrap();
    let (_, _, err) = run(&server, &[], &["--config", conf_arg, "check"], "");
    assert!(!err.contains("offsite.env is missing"), "{err}");
    let (_, _, err) = run(
        &server,
        &[
            ("SIGNAAL_PRODUCTION", "true"),
            ("SIGNAAL_PUBLIC_URL", "https://meldpunt.example.nl/"),
        ],
        &["--config", conf_arg, "check"],
        "",
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("signaal check: warning: ")
                && l.contains("offsite.env is missing: no copy leaves this machine")),
        "{err}"
    );
}
