//! What signaal writes is its owner's alone: the database and its WAL, the
//! demo keys, exports and backups are 0600 in 0700 folders, whatever the
//! umask of whoever started it; a database an older version left 0644 is
//! closed at the next start; and `signaal check` names every file that is
//! too open, with its mode.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod ops_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Options, Server, TeamKey};
use ops_support::{run, submit_many};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every file and folder under `dir`, with its mode.
fn modes_under(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push((path.display().to_string(), mode(&path)));
        if path.is_dir() {
            out.extend(modes_under(&path));
        }
    }
    out
}

fn assert_owner_only(dir: &Path, what: &str) {
    assert_eq!(mode(dir), 0o700, "{what}: {}", dir.display());
    let open: Vec<_> = modes_under(dir)
        .into_iter()
        .filter(|(_, m)| m & 0o077 != 0)
        .collect();
    assert!(open.is_empty(), "{what}: open to others: {open:?}");
    assert!(!modes_under(dir).is_empty(), "{what}: nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_exports_and_backups_are_owner_only_even_under_an_open_umask() {
    // The kit's own folders are made by the test under its umask (022);
    // the data folder is left for signaal to make.
    let team = TeamKey::generate();
    let mut server = Server::start_with(Options {
        team: vec![team.recipient()],
        ..Options::default()
    });
    submit_many(&server, 3, "modes").await;
    let data = server.data_dir();
    assert_owner_only(&data, "the running server's data folder");
    for name in ["signaal.db", "signaal.db-wal", "signaal.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }

    let export = server.root.path().join("export");
    std::fs::create_dir(&export).unwrap();
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out, err) = run(
        &server,
        &[],
        &[
            "export",
            "--encrypted",
            export.to_str().unwrap(),
            "--thread",
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_owner_only(&export, "an export into a folder that was 0755");

    let backups = server.root.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let (code, out, err) = run(
        &server,
        &[],
        &["backup", backups.join("copy.db").to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(mode(&backups.join("copy.db")), 0o600);

    // A database an older signaal left open to everyone is closed at start.
    assert!(server.stop().success());
    for name in ["signaal.db", "signaal.db-wal", "signaal.db-shm"] {
        let path = data.join(name);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    server.restart();
    assert_eq!(mode(&data.join("signaal.db")), 0o600);
    assert_owner_only(&data, "after a start on an open database");
}

#[test]
fn demo_keys_are_made_owner_only() {
    let server = Server::start();
    let keys = server.keys_dir();
    assert_eq!(mode(&keys.join("reviewers")), 0o700);
    assert_eq!(mode(&keys.join("reviewers/demo.age")), 0o600);
    assert_eq!(mode(&keys.join("team.pub")), 0o600);
}

#[test]
fn check_names_every_file_that_is_too_open_with_its_mode() {
    let mut server = Server::start_with(Options {
        team: vec![TeamKey::generate().recipient()],
        ..Options::default()
    });
    let (code, _, _) = run(
        &server,
        &[],
        &[
            "reviewer",
            "add",
            "anna",
            "--no-totp",
            "--work-factor",
            "10",
        ],
        "a long enough passphrase\n",
    );
    assert_eq!(code, 0);
    assert!(server.stop().success());
    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 0, "a sound installation: {out}{err}");

    let keys = server.keys_dir();
    let data = server.data_dir();
    let set = |path: &Path, m: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).unwrap()
    };
    set(&data.join("signaal.db"), 0o644);
    set(&keys.join("reviewers/anna.age"), 0o640);
    set(&keys.join("reviewers"), 0o755);
    set(&keys.join("team.pub"), 0o666);
    let (code, out, err) = run(&server, &[], &["check"], "");
    assert_eq!(code, 1, "{out}{err}");
    for (path, was, fix) in [
        (data.join("signaal.db"), "644", "0600"),
        (keys.join("reviewers/anna.age"), "640", "0600"),
        (keys.join("reviewers"), "755", "0700"),
        (keys.join("team.pub"), "666", "0644"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("{} is open", path.display())))
            .unwrap_or_else(|| panic!("{} is not named: {err}", path.display()));
        assert!(line.contains(&format!("(mode {was})")), "{line}");
        assert!(line.contains(&format!("chmod {fix}")), "{line}");
    }
    assert_eq!(err.lines().count(), 4, "{err}");
}
