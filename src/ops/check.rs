//! `signaal check [--server]`: the version, the configuration, texts, keys,
//! their files' modes, the database, and (with `--server`) the running faces.
//!
//! Invariant: a check reads and reports; the one thing it writes is the
//! database of a new installation, as the first start would. Every problem
//! is one line naming a path or a setting, never a key or a passphrase.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::inspect;
use crate::config::Config;
use crate::keys;
use crate::review::reviewers;
use crate::store::DB_FILE;

/// This build's version, as `--version` prints it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the check; one line per problem on stderr, exit 1. Warnings about
/// the files around the installation ([`super::around`]) are said on stderr
/// too, but do not fail it.
pub fn check(config: &Config, server: bool, file: Option<&Path>) -> ExitCode {
    println!("signaal {VERSION}");
    let mut problems = Vec::new();
    if let Err(e) = config.validate() {
        problems.push(e.to_string());
    }
    if let Err(e) = crate::server::check_templates() {
        problems.push(e.to_string());
    }
    match keys::load_team(&config.keys_dir) {
        Ok(team) if team.demo && config.production => {
            problems.push("production mode refuses the demo keys in team.pub".to_owned());
        }
        Ok(team) if team.demo && !config.demo && !config.public_url_is_loopback() => {
            problems.push(format!(
                "team.pub holds demo keys, and public_url {} is not an address of this machine; \
                 make the team's keys, or set demo = true if a demonstration is meant",
                config.public_url
            ));
        }
        Ok(team) if team.demo => println!("demo keys in use: never for real signals"),
        Ok(team) => println!("team.pub: {} recipients", team.recipients.len()),
        Err(e) => problems.push(e.to_string()),
    }
    problems.extend(reviewer_files(&config.keys_dir, config.production));
    if config.production {
        // The privacy page names them: a sender must be able to check who
        // runs the channel and whom to ask before writing.
        for name in config.organisation.missing() {
            problems.push(format!(
                "{name} is empty; in production the privacy page must name it (article 13 of the GDPR)"
            ));
        }
    }
    // team.pub and backup.pub are public, but whoever may change them could
    // add a key of their own; the reviewer files are nobody else's.
    let keys_forbidden = if config.production { 0o027 } else { 0o022 };
    problems.extend(too_open(&config.keys_dir, keys_forbidden));
    for public in [
        keys::team_pub_path(&config.keys_dir),
        config.keys_dir.join("backup.pub"),
    ] {
        problems.extend(too_open(&public, 0o022));
    }
    problems.extend(too_open(&reviewers::folder(&config.keys_dir), 0o077));
    let db = config.data_dir.join(DB_FILE);
    if !db.exists() && made_by_root_for_another(&config.data_dir) {
        // Root would make a database the service's user cannot open.
        problems.push(format!(
            "{} holds no database yet, and one made now would be root's, which the \
             service's user cannot open; run check as that user \
             (runuser -u signaal -- signaal --config … check)",
            config.data_dir.display()
        ));
    } else if !db.exists() {
        // A new installation: make the folder and the database as the first
        // start would, which also proves the folder is writable.
        match crate::store::Store::open(&config.data_dir) {
            Ok(store) => {
                store.close();
                println!("made a new database in {}", config.data_dir.display());
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    problems.extend(data_folder(&config.data_dir));
    problems.extend(open_files_in(&config.data_dir));
    if db.exists() {
        match inspect(&db) {
            Ok(h) if h.schema_version < crate::store::CURRENT_VERSION => println!(
                "database ok: schema version {}, {} signals (signaal serve upgrades it to {} at start)",
                h.schema_version,
                h.signals,
                crate::store::CURRENT_VERSION
            ),
            Ok(h) => println!(
                "database ok: schema version {}, {} signals",
                h.schema_version, h.signals
            ),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if server {
        problems.extend(faces(config));
    }
    let warnings = super::around::warnings(config, file);
    for w in &warnings {
        eprintln!("signaal check: warning: {w}");
    }
    if problems.is_empty() {
        match warnings.len() {
            0 => println!("ok"),
            1 => println!("ok, with 1 warning"),
            n => println!("ok, with {n} warnings"),
        }
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("signaal check: {p}");
        }
        ExitCode::from(1)
    }
}

/// The data folder holds every envelope: only the signaal user may enter it.
fn data_folder(dir: &Path) -> Option<String> {
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "the data folder {} is open to every user (mode {:o}); chmod 0700 it",
            dir.display(),
            mode & 0o777
        )
    })
}

/// Every file and folder under the data folder that others may read or
/// change (the database, its WAL and shared memory, the lock files).
fn open_files_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        problems.extend(too_open(&path, 0o077));
        if path.is_dir() {
            problems.extend(open_files_in(&path));
        }
    }
    problems
}

/// A folder or file whose mode grants any of `forbidden`, with the mode
/// that would not.
fn too_open(path: &Path, forbidden: u32) -> Option<String> {
    let mode = std::fs::symlink_metadata(path).ok()?.permissions().mode();
    open_sentence(path, mode, forbidden)
}

/// The sentence for `path` whose `mode` grants any of `forbidden`, if it does.
pub(super) fn open_sentence(path: &Path, mode: u32, forbidden: u32) -> Option<String> {
    let mode = mode & 0o777;
    (mode & forbidden != 0).then(|| {
        format!(
            "{} is open to other users (mode {mode:o}); chmod {:04o} it",
            path.display(),
            mode & !forbidden
        )
    })
}

/// Every `reviewers/NAME.age` must look like an age file (they are not opened:
/// that needs the reviewer's passphrase) and have a readable second factor
/// beside it, if any; both must be closed to other users, and in production
/// the second factor must be there.
fn reviewer_files(keys_dir: &Path, production: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for name in reviewers::list(keys_dir) {
        let path = keys::reviewer_path(keys_dir, &name);
        let head = std::fs::read(&path).map(|b| b.into_iter().take(40).collect::<Vec<u8>>());
        match head {
            Ok(head)
                if head.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
                    || head.starts_with(b"age-encryption.org/v1") => {}
            Ok(_) => problems.push(format!(
                "{} is not an age-encrypted identity; make it again with signaal reviewer add",
                path.display()
            )),
            Err(e) => problems.push(format!("{} cannot be read ({})", path.display(), e.kind())),
        }
        problems.extend(too_open(&path, 0o077));
        let totp = reviewers::totp_path(keys_dir, &name);
        match std::fs::File::open(&totp) {
            Ok(_) => problems.extend(too_open(&totp, 0o077)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if production {
                    problems.push(format!(
                        "reviewer {name} has no second factor ({} is missing), and production \
                         refuses the login; run signaal reviewer totp {name}",
                        totp.display()
                    ));
                }
            }
            Err(e) => problems.push(format!(
                "{} cannot be read ({}); the service could not check {name}'s second factor",
                totp.display(),
                e.kind()
            )),
        }
    }
    problems
}

/// Asks each face's `/healthz` (a face on an unspecified address is asked on
/// loopback).
fn faces(config: &Config) -> Vec<String> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return vec![format!("cannot ask the faces: {}", e.kind())],
    };
    let mut problems = Vec::new();
    for (face, setting, addr) in [
        ("intake", "intake_addr", config.intake_addr),
        ("review", "review_addr", config.review_addr),
    ] {
        let mut addr = addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        match runtime.block_on(healthz(addr)) {
            Ok(200) => println!("{face} face on {addr}: ok"),
            Ok(status) => problems.push(format!(
                "the {face} face on {addr} answers /healthz with {status}: its store or keys \
                 cannot be used; see its log"
            )),
            Err(reason) => problems.push(format!(
                "the {face} face on {addr} ({setting}) does not answer: {reason}; is signaal \
                 running?"
            )),
        }
    }
    problems
}

/// `GET /healthz` on `addr`; the status code.
async fn healthz(addr: std::net::SocketAddr) -> Result<u16, String> {
    let ask = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.kind().to_string())?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = axum::http::Request::get("/healthz")
            .header(axum::http::header::HOST, addr.to_string())
            .body(axum::body::Body::empty())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    };
    tokio::time::timeout(Duration::from_secs(10), ask)
        .await
        .unwrap_or_else(|_| Err("no answer within 10 seconds".to_owned()))
}

/// Whether root is running this and `dir` belongs to another user (the
/// package's data folder belongs to the service's user).
fn made_by_root_for_another(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    rustix::process::geteuid().is_root() && std::fs::metadata(dir).is_ok_and(|m| m.uid() != 0)
}
