//! The operator's commands: `check`, `backup`, `restore`, `purge` and
//! `keys rewrap`, each printing one line per outcome and exiting non-zero on
//! any problem.
//!
//! Invariant: output names paths, settings and counts — never a passphrase,
//! never content.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use zeroize::Zeroizing;

use super::{backup, inspect, purge, rewrap, sealed};
use crate::config::Config;
use crate::keys;
use crate::store::DB_FILE;

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("signaal: {error}");
    ExitCode::from(2)
}

/// `signaal check`: configuration (already loaded and validated by the time
/// this runs), texts, keys and database. One line per problem on stderr, exit 1.
pub fn check(config: &Config) -> ExitCode {
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
        Ok(_) => {}
        Err(e) => problems.push(e.to_string()),
    }
    problems.extend(check_reviewer_files(&config.keys_dir));
    let db = config.data_dir.join(DB_FILE);
    if !db.exists() {
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
    problems.extend(check_data_folder(&config.data_dir));
    if db.exists() {
        match inspect(&db) {
            Ok(h) if h.schema_version < crate::store::CURRENT_VERSION => println!(
                "database schema version {} (signaal serve upgrades it to {} at start)",
                h.schema_version,
                crate::store::CURRENT_VERSION
            ),
            Ok(h) => println!(
                "database ok: schema version {}, {} signals",
                h.schema_version, h.signals
            ),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        println!("ok");
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("signaal check: {p}");
        }
        ExitCode::from(1)
    }
}

/// The data folder holds every envelope: only the signaal user may enter it.
fn check_data_folder(dir: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    (mode & 0o007 != 0).then(|| {
        format!(
            "the data folder {} is open to every user (mode {:o}); chmod 0700 it",
            dir.display(),
            mode & 0o777
        )
    })
}

/// Every `reviewers/*.age` must look like an age file; the files are not
/// opened (that needs the reviewer's passphrase).
fn check_reviewer_files(keys_dir: &Path) -> Vec<String> {
    let folder = keys_dir.join("reviewers");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "age") {
            continue;
        }
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
    }
    problems
}

/// `signaal backup DEST [--encrypt-to RECIPIENT]`: sealed to the recipient
/// named, else to `keys/backup.pub`; a plain copy only outside production.
pub fn backup(config: &Config, dest: &Path, encrypt_to: Option<&str>) -> ExitCode {
    let recipients = match encrypt_to {
        Some(spec) => match sealed::recipients(spec) {
            Ok(r) => Some(r),
            Err(e) => return fail(&e),
        },
        None => match sealed::default_recipients(&config.keys_dir) {
            Some(path) => match sealed::recipients_file(&path) {
                Ok(r) => Some(r),
                Err(e) => return fail(&e),
            },
            None if config.production => {
                return fail(&format!(
                    "production mode writes only sealed backups: put the backup recipient in \
                     {} (see keys/README.md) or name it with --encrypt-to",
                    config.keys_dir.join(sealed::BACKUP_PUB).display()
                ));
            }
            None => None,
        },
    };
    match backup::backup(&config.data_dir, dest, recipients.as_deref()) {
        Ok(h) => {
            let how = match &recipients {
                Some(r) => format!("sealed to {} backup recipient(s)", r.len()),
                None => format!(
                    "not sealed: there is no {}",
                    config.keys_dir.join(sealed::BACKUP_PUB).display()
                ),
            };
            println!(
                "backup written to {} ({how}): schema version {}, {} signals",
                dest.display(),
                h.schema_version,
                h.signals
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `signaal restore SRC [--replace] [--identity FILE]`.
pub fn restore(config: &Config, src: &Path, replace: bool, identity: Option<&Path>) -> ExitCode {
    let identities = match identity.map(sealed::identities) {
        Some(Ok(i)) => Some(i),
        Some(Err(e)) => return fail(&e),
        None => None,
    };
    match backup::restore(src, &config.data_dir, replace, identities.as_deref()) {
        Ok(h) => {
            println!(
                "restored {} signals from {} into {}; now run signaal check",
                h.signals,
                src.display(),
                config.data_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `signaal purge`.
pub fn purge(config: &Config) -> ExitCode {
    let today = time::OffsetDateTime::now_utc().date();
    let actor = super::command_line_actor();
    match purge::purge(&config.data_dir, &config.retention, today, &actor) {
        Ok(p) => {
            println!("purged {} signals past their retention period", p.signals);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `signaal keys rewrap --reviewer NAME`.
pub fn rewrap(config: &Config, reviewer: &str) -> ExitCode {
    if !crate::review::reviewers::valid_name(reviewer) {
        return fail(&"no such reviewer name");
    }
    let team = match keys::load_team(&config.keys_dir) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let passphrase = match read_passphrase(reviewer) {
        Ok(p) => p,
        Err(e) => return fail(&format!("cannot read the passphrase: {e}")),
    };
    let identity = match rewrap::unlock(&config.keys_dir, &team, reviewer, &passphrase) {
        Ok((identity, true)) => identity,
        Ok((identity, false)) => {
            println!(
                "{reviewer}'s recipient is not in team.pub: after this rewrap {reviewer}'s key \
                 opens nothing stored"
            );
            identity
        }
        Err(e) => return fail(&e),
    };
    drop(passphrase);
    match rewrap::rewrap(&config.data_dir, &team, &identity, reviewer) {
        Ok(r) => {
            if r.resumed {
                println!("continued an interrupted rewrap");
            }
            println!(
                "rewrapped {} envelopes to the {} recipients in team.pub",
                r.rewrapped,
                team.recipients.len()
            );
            if r.not_openable > 0 {
                println!(
                    "{} envelopes do not open with {reviewer}'s key and were left as they were; \
                     run signaal keys rewrap again as a reviewer who can open them",
                    r.not_openable
                );
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Reads one passphrase: from the terminal without echo, or the first line of
/// standard input when that is not a terminal (automation).
fn read_passphrase(reviewer: &str) -> Result<Zeroizing<String>, String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Passphrase of {reviewer}: "))
            .map(Zeroizing::new)
            .map_err(|e| e.kind().to_string());
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.kind().to_string())?;
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}
