//! The operator's commands: `backup`, `restore`, `purge` and
//! `keys rewrap`, each printing one line per outcome and exiting non-zero on
//! any problem.
//!
//! Invariant: output names paths, settings and counts — never a passphrase,
//! never content.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use zeroize::Zeroizing;

use super::{backup, heads, purge, rewrap, sealed};
use crate::config::Config;
use crate::keys;

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("signaal: {error}");
    ExitCode::from(2)
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
        Ok(backup::Written { health: h, head }) => {
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
            // A copy of the chain's head outside the database: in the log
            // (the journal of the backup unit) and beside the backup.
            println!(
                "audit head: {head} (also in {})",
                heads::head_path(dest).display()
            );
            // For the metrics' age of the last backup (an operator's act,
            // not a sender's: its time may be kept).
            if let Err(e) = backup::note_done(&config.data_dir) {
                eprintln!("signaal: the backup is written, but its time could not be noted: {e}");
            }
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
pub(crate) fn read_passphrase(reviewer: &str) -> Result<Zeroizing<String>, String> {
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
