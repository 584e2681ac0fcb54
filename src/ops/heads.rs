//! The heads kept beside the backups: `DEST.head`, one line
//! `audit head: row N, sha256 HEX` written beside every backup; reading them
//! back from a folder of backups; and the check of a backup's copy against
//! them.
//!
//! Each head travels off-site with its copy, where the server cannot rewrite
//! it, and `signaal audit verify --head` (one head) or `--heads DIR` (every
//! head in the backups' folder) checks the live chain against them. A backup
//! itself reads the heads beside the others in DEST's folder before it writes
//! anything, and refuses unless the copy's chain holds the newest of them (by
//! row): holding it, the chain holds every row up to it unchanged. So the
//! daily backup fails, and alerts, when rows that an earlier backup saw were
//! cut off or rewritten.
//!
//! Invariant: a head file that cannot be read as a head is a failure, named,
//! never skipped: skipping it would let a garbled newest head pass unseen.
//! A head file holds no more than the row and hash of the chain's last row.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::OpsError;
use crate::audit::{Pin, Verdict};

/// The file beside a backup that holds the head of its audit chain.
pub fn head_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".head");
    dest.with_file_name(name)
}

/// A head file found in a folder of backups, and what it holds.
#[derive(Debug, Clone)]
pub struct KeptHead {
    /// The file.
    pub file: PathBuf,
    /// The head it holds, or why it cannot be read as one.
    pub head: Result<Pin, String>,
}

/// The longest head file read: its one line is about 100 bytes.
const HEAD_FILE_MAX: u64 = 1024;

/// Every `*.head` file directly in `dir`, sorted by name, each with the head
/// it holds or why it cannot be read as one.
pub fn kept_heads(dir: &Path) -> Result<Vec<KeptHead>, OpsError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| OpsError::path(dir, format!("cannot be read ({})", e.kind())))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| OpsError::path(dir, format!("cannot be read ({})", e.kind())))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().ends_with(b".head") && name.len() > ".head".len() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files
        .into_iter()
        .map(|file| {
            let head = read_head(&file);
            KeptHead { file, head }
        })
        .collect())
}

fn read_head(file: &Path) -> Result<Pin, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(HEAD_FILE_MAX + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot be read ({})", e.kind()))?;
    if text.len() as u64 > HEAD_FILE_MAX {
        return Err("is too long for a head file".into());
    }
    Pin::from_line(&text)
        .ok_or_else(|| "does not hold one line `audit head: row N, sha256 HEX`".to_owned())
}

/// The heads a backup into `dest` must find in its copy: the newest (by
/// row) of those beside the other backups in DEST's folder; all of them when
/// several stand at that row. None in a folder that does not exist yet (the
/// copy's own file then names the problem). A head file that cannot be read
/// refuses the backup.
pub(super) fn heads_to_hold(dest: &Path) -> Result<Vec<(PathBuf, Pin)>, OpsError> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut heads = Vec::new();
    for kept in kept_heads(dir)? {
        match kept.head {
            Ok(pin) => heads.push((kept.file, pin)),
            Err(problem) => {
                return Err(OpsError::path(
                    &kept.file,
                    format!(
                        "{problem}, so the audit chain cannot be checked against it; nothing \
                         was written. Put back the head this backup's file had, or move the file \
                         out of {} if it is not a backup's head",
                        dir.display()
                    ),
                ));
            }
        }
    }
    let newest = heads.iter().filter_map(|(_, p)| p.seq).max();
    heads.retain(|(_, p)| p.seq == newest);
    Ok(heads)
}

/// Checks the audit chain of the plain copy `path`, and that it holds each
/// head of `kept`; returns its head.
pub(super) fn checked_head(
    path: &Path,
    kept: &[(PathBuf, Pin)],
) -> Result<crate::audit::Head, OpsError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let pins: Vec<Pin> = kept.iter().map(|(_, p)| *p).collect();
    match crate::audit::verify(&conn, &pins)? {
        Verdict::Broken { seq, reason } => Err(OpsError::Database {
            path: path.to_owned(),
            problem: format!(
                "has an audit chain broken at row {seq} ({reason}); run signaal audit verify"
            ),
        }),
        Verdict::Unpinned { missing, .. } => {
            let Some((file, pin)) = missing.first().and_then(|&i| kept.get(i)) else {
                return Err(OpsError::path(path, "does not hold a kept audit head"));
            };
            let row = pin.seq.unwrap_or_default();
            let dir = file.parent().unwrap_or(Path::new("."));
            Err(OpsError::path(
                file,
                format!(
                    "is the newest head kept beside the backups (row {row}), and the database's \
                     audit chain does NOT hold it: rows up to it were removed, or rewritten and \
                     re-hashed. Nothing was written. Check with signaal audit verify --heads {}; \
                     after restoring an older backup on purpose, move the later heads out of \
                     that folder",
                    dir.display()
                ),
            ))
        }
        Verdict::Intact { .. } => Ok(crate::audit::head(&conn)?),
    }
}
