//! What `signaal check` warns about around the installation: the files the
//! service itself does not read but an operator keeps beside it — the
//! off-site settings and the restic password (`offsite.env`, `offsite.pass`),
//! the TLS keys (`tls/`, all beside the configuration file) and the sealed
//! copies (`/var/backups/signaal`) — and whether the off-site copies are kept
//! as long as the privacy page says.
//!
//! Invariant: these are warnings, never problems. `check` runs before every
//! start of the service (`ExecStartPre`): a too-open TLS key or a mistyped
//! `KEEP_WITHIN` must be said, but must not keep the channel from taking
//! signals. A warning names a path or a setting, never what a file holds.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// Days a deleted signal can outlast `KEEP_WITHIN` in the copies: one
/// withdrawn after the day's backup is in that copy, which stays on the
/// machine until the backup two days later and so reaches the next day's
/// off-site snapshot, from which restic counts `KEEP_WITHIN`
/// (deploy/README.md, "How long a purged or withdrawn signal lingers").
const LINGER: u64 = 2;

/// Where the packaged backup unit writes its sealed copies.
pub const BACKUPS: &str = "/var/backups/signaal";

/// The warnings about the files beside `file` (the configuration file, if
/// one is used) and in [`BACKUPS`].
pub fn warnings(config: &Config, file: Option<&Path>) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(dir) = file.and_then(Path::parent) {
        warnings.extend(offsite(config, dir));
        warnings.extend(tls_keys(&dir.join("tls")));
    }
    warnings.extend(backups(Path::new(BACKUPS)));
    warnings
}

/// `offsite.env` (group signaal may read it: it may hold S3 keys), the
/// password file it names (the service's user alone), and `KEEP_WITHIN`
/// against `backup_keep_days`.
fn offsite(config: &Config, dir: &Path) -> Vec<String> {
    let env = dir.join("offsite.env");
    let text = match std::fs::read_to_string(&env) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // The off-site unit then does nothing, and says nothing.
            return if config.production {
                vec![format!(
                    "{} is missing: no copy leaves this machine (deploy/README.md, \
                     \"Off the machine with restic\")",
                    env.display()
                )]
            } else {
                Vec::new()
            };
        }
        // A file this user cannot read: only its mode can be said.
        Err(_) => return open_file(&env, 0o027).into_iter().collect(),
    };
    let mut warnings: Vec<String> = open_file(&env, 0o027).into_iter().collect();
    let setting = |name: &str| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            .next_back()
    };
    match setting("RESTIC_PASSWORD_FILE") {
        Some(pass) => {
            let pass = PathBuf::from(pass);
            if std::fs::metadata(&pass).is_err() {
                warnings.push(format!(
                    "{} names RESTIC_PASSWORD_FILE {}, which is not there (or not readable \
                     by this user): the off-site unit cannot open its repository",
                    env.display(),
                    pass.display()
                ));
            }
            warnings.extend(open_file(&pass, 0o077));
        }
        None if setting("RESTIC_PASSWORD").is_some() => warnings.push(format!(
            "{} holds RESTIC_PASSWORD itself; keep it in a file of the service's user \
             (RESTIC_PASSWORD_FILE, mode 0400)",
            env.display()
        )),
        None => {}
    }
    match setting("KEEP_WITHIN").as_deref().map(restic_days) {
        Some(Some(days)) if days + LINGER != u64::from(config.backup_keep_days) => {
            warnings.push(format!(
                "KEEP_WITHIN in {} keeps off-site copies up to {} days, so a deleted \
                 signal can be in one for {} days, but backup_keep_days = {} is what the \
                 privacy page states; set backup_keep_days = {} (or KEEP_WITHIN = {}d)",
                env.display(),
                days,
                days + LINGER,
                config.backup_keep_days,
                days + LINGER,
                u64::from(config.backup_keep_days).saturating_sub(LINGER)
            ));
        }
        Some(None) => warnings.push(format!(
            "KEEP_WITHIN in {} is not a restic duration such as 14d or 1m",
            env.display()
        )),
        Some(Some(_)) => {}
        None => warnings.push(format!(
            "{} sets no KEEP_WITHIN: the off-site unit's forget --keep-within fails",
            env.display()
        )),
    }
    warnings
}

/// The longest span a restic duration (`1y2m3d4h`) can cover, in whole days
/// (a year 366 days, a month 31, hours rounded up); `None` if it is none.
pub fn restic_days(text: &str) -> Option<u64> {
    let mut days = 0u64;
    let mut hours = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = std::mem::take(&mut number).parse().ok()?;
        match c {
            'y' => days = days.checked_add(n.checked_mul(366)?)?,
            'm' => days = days.checked_add(n.checked_mul(31)?)?,
            'd' => days = days.checked_add(n)?,
            'h' => hours = hours.checked_add(n)?,
            _ => return None,
        }
    }
    if !number.is_empty() || (days == 0 && hours == 0) {
        return None;
    }
    days.checked_add(hours.div_ceil(24))
}

/// Every private key under `tls/` that this user can see and others may
/// read (a symbolic link is followed: Let's Encrypt's keys are linked).
fn tls_keys(tls: &Path) -> Vec<String> {
    let mut warnings: Vec<String> = open_file(&tls.join("ca"), 0o077).into_iter().collect();
    for dir in [tls.to_owned(), tls.join("ca")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut keys: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "key"))
            .collect();
        keys.sort();
        for key in keys {
            warnings.extend(open_file(&key, 0o077));
        }
    }
    warnings
}

/// The sealed copies' folder and what is in it: the service's user alone.
fn backups(dir: &Path) -> Vec<String> {
    let mut warnings: Vec<String> = open_file(dir, 0o077).into_iter().collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            warnings.extend(open_file(&path, 0o077));
        }
    }
    warnings
}

/// A file or folder (links followed) whose mode grants any of `forbidden`.
fn open_file(path: &Path, forbidden: u32) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    super::check::open_sentence(path, mode, forbidden)
}

#[cfg(test)]
mod tests {
    use super::restic_days;

    #[test]
    fn a_restic_duration_is_read_as_the_longest_span_it_can_cover() {
        assert_eq!(restic_days("14d"), Some(14));
        assert_eq!(restic_days("2m"), Some(62));
        assert_eq!(restic_days("1y2m3d4h"), Some(366 + 62 + 3 + 1));
        assert_eq!(restic_days("48h"), Some(2));
        assert_eq!(restic_days("49h"), Some(3));
        for bad in ["", "14", "14 d", "d", "0d", "14w", "-1d"] {
            assert_eq!(restic_days(bad), None, "{bad}");
        }
    }
}
