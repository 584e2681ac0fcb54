//! `signaal backup DEST` and `signaal restore SRC`.
//!
//! Invariants: a backup is one consistent snapshot, made with `VACUUM INTO`
//! in a single read transaction, so it runs while the server serves and a
//! steady stream of submissions cannot make it start over. `VACUUM INTO`
//! writes every table and index anew in key order, and the keys of a signal
//! (random rowid, random id, lookup tag) are random: nothing in the copy's
//! pages follows the order in which signals arrived, and it has no freelist
//! and no WAL. A backup is written beside DEST and renamed into place only
//! after it passed the integrity check, so a file at DEST is always whole.
//! Sealed to a backup recipient, the copy reaches DEST only as age
//! ciphertext: the plain copy it is streamed from is made inside the data
//! folder (beside the database it copies, under the same owner-only modes),
//! overwritten and removed as soon as it is sealed. A restore checks the copy
//! before it replaces anything.
//!
//! Beside each backup lies `DEST.head`: the head of the copy's audit chain
//! (its last row and hash, nothing else), written after the copy's chain was
//! checked: that it links, and that it holds the newest head beside the
//! other backups in DEST's folder (see [`super::heads`]). A backup that
//! check refuses writes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use age::x25519;
use rusqlite::{Connection, OpenFlags};

use super::heads::{checked_head, head_path, heads_to_hold};
use super::{Health, OpsError, inspect, sealed};
use crate::store::DB_FILE;

/// The plain copy that a sealed backup is streamed from, inside the data folder.
pub const STAGING_FILE: &str = "signaal.db.backup-staging";
/// How long to wait, in total, for a lock another connection holds.
const BUSY_PATIENCE: Duration = Duration::from_secs(30);

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// What the copy holds.
    pub health: Health,
    /// The head of the copy's audit chain, as written to `DEST.head`.
    pub head: crate::audit::Head,
}

/// Copies the database in `data_dir` to the new file `dest`, consistently and
/// without order, while the server may be writing; sealed to `recipients`
/// when there are any; and the head of its audit chain beside it in
/// `DEST.head`. Refuses to overwrite an existing file, and refuses when the
/// copy's chain does not hold the newest head beside the other backups in
/// DEST's folder.
pub fn backup(
    data_dir: &Path,
    dest: &Path,
    recipients: Option<&[x25519::Recipient]>,
) -> Result<Written, OpsError> {
    let source = data_dir.join(DB_FILE);
    if !source.is_file() {
        return Err(OpsError::path(
            &source,
            "does not exist; check data_dir / SIGNAAL_DATA_DIR",
        ));
    }
    for taken in [dest.to_owned(), head_path(dest)] {
        if taken.exists() {
            return Err(OpsError::path(
                &taken,
                "exists already; name a new file (backups are never overwritten)",
            ));
        }
    }
    // Read before anything is written: a refusal leaves no file behind.
    let kept = heads_to_hold(dest)?;
    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    let checked = |copy: &Path| -> Result<Written, OpsError> {
        let health = inspect(copy)?;
        Ok(Written {
            health,
            head: checked_head(copy, &kept)?,
        })
    };
    let result = match recipients {
        None => vacuum_into(&source, &partial).and_then(|()| checked(&partial)),
        Some(recipients) => {
            let staging = data_dir.join(STAGING_FILE);
            wipe(&staging);
            let sealed = vacuum_into(&source, &staging)
                .and_then(|()| checked(&staging))
                .and_then(|w| sealed::seal_file(&staging, &partial, recipients).map(|()| w));
            wipe(&staging);
            sealed
        }
    };
    match result {
        Ok(written) => {
            // The head beside it, then the copy into place; if either fails
            // (a full disk), neither is left behind, so the next run starts clean.
            let head_file = head_path(dest);
            let mut made_head = false;
            let mut finish = || -> Result<(), OpsError> {
                let mut file = create_private(&head_file)?;
                made_head = true;
                std::io::Write::write_all(
                    &mut file,
                    format!("audit head: {}\n", written.head).as_bytes(),
                )
                .and_then(|()| file.sync_all())
                .map_err(|e| {
                    OpsError::path(&head_file, format!("cannot be written ({})", e.kind()))
                })?;
                std::fs::rename(&partial, dest)
                    .map_err(|e| OpsError::path(dest, format!("cannot be written ({})", e.kind())))
            };
            if let Err(e) = finish() {
                if made_head {
                    let _ = std::fs::remove_file(&head_file);
                }
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            sync_parent(dest);
            Ok(written)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Writes an order-free copy of the database `from` into the new file `to`
/// with `VACUUM INTO`, and syncs it. One read transaction: WAL readers never
/// block the server's writer, and the writer never makes this start over.
fn vacuum_into(from: &Path, to: &Path) -> Result<(), OpsError> {
    let target = to
        .to_str()
        .ok_or_else(|| OpsError::path(to, "is not a UTF-8 path; name another file"))?;
    // An empty file first, owner-only: SQLite keeps the mode.
    drop(create_private(to)?);
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(BUSY_PATIENCE)?;
    // Any sorting stays in memory, never in a temporary file.
    src.pragma_update(None, "temp_store", "MEMORY")?;
    src.execute("VACUUM INTO ?1", [target])
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
                OpsError::path(from, "stayed locked for 30 seconds; try the backup again")
            }
            other => OpsError::Sqlite(other),
        })?;
    drop(src);
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| OpsError::path(to, format!("cannot be synced ({})", e.kind())))
}

/// Overwrites a plain copy with zeros, syncs and removes it (what
/// `secure_delete` does for the database's own deleted pages).
pub fn wipe(path: &Path) {
    use std::io::Write;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_file() {
        if let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(path) {
            let zeros = vec![0u8; 1 << 20];
            let mut left = meta.len();
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                if file.write_all(zeros.get(..n).unwrap_or_default()).is_err() {
                    break;
                }
                left -= n as u64;
            }
            let _ = file.sync_all();
        }
    }
    let _ = std::fs::remove_file(path);
}

/// Replaces the database in `data_dir` by the backup `src`, after checking
/// it; a sealed backup is opened with `identities` first. Refuses when the
/// current database holds signals, unless `replace`, and always while a
/// server runs from `data_dir` (it would keep writing to the replaced file):
/// see [`super::lock`].
pub fn restore(
    src: &Path,
    data_dir: &Path,
    replace: bool,
    identities: Option<&[x25519::Identity]>,
) -> Result<Health, OpsError> {
    let is_sealed = sealed::is_sealed(src);
    if is_sealed && identities.is_none() {
        return Err(OpsError::path(
            src,
            "is a sealed backup; name the backup identity with --identity FILE",
        ));
    }
    if !is_sealed {
        inspect(src)?;
    }
    let target = data_dir.join(DB_FILE);
    // Also makes the data folder (owner-only) on a new machine.
    let _restoring = super::lock::exclusive(data_dir)?;
    if target.exists() && !replace {
        let current = inspect(&target).map(|h| h.signals).unwrap_or(1);
        if current > 0 {
            return Err(OpsError::path(
                &target,
                "already holds signals; add --replace to overwrite it with the backup \
                 (stop signaal first)",
            ));
        }
    }
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    wipe(&incoming);
    let arrived = match identities {
        Some(identities) if is_sealed => sealed::open_file(src, &incoming, identities),
        _ => copy_to(src, &incoming),
    };
    let health = match arrived.and_then(|()| inspect(&incoming)) {
        Ok(health) => health,
        Err(e) => {
            wipe(&incoming);
            return Err(e);
        }
    };
    // The old database's WAL and index belong to the old file: remove them
    // with it, or SQLite would replay the old WAL into the restored file.
    let [_, wal, shm] = crate::store::database_files(&data_dir.join(DB_FILE));
    for side in [wal, shm] {
        if side.exists() {
            std::fs::remove_file(&side)
                .map_err(|e| OpsError::path(&side, format!("cannot be removed ({})", e.kind())))?;
        }
    }
    std::fs::rename(&incoming, &target)
        .map_err(|e| OpsError::path(&target, format!("cannot be replaced ({})", e.kind())))?;
    sync_parent(&target);
    // Whatever happened after the backup is gone, its audit rows included:
    // the chain says where it was restored from.
    let mut conn = super::open_db(&target)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let name = src.file_name().unwrap_or_default().to_string_lossy();
    let detail = format!("restored from {name} ({} signals)", health.signals);
    crate::audit::append_named(&tx, &super::command_line_actor(), "restore", None, &detail)?;
    tx.commit()?;
    Ok(health)
}

/// Copies the backup file `from` into a new file `to` with the backup API
/// (one step), then makes `to` a self-contained rollback-journal file and
/// syncs it.
/// Notes the time of a finished backup in the database (`meta.last_backup`,
/// Unix seconds), for the metrics.
pub fn note_done(data_dir: &Path) -> Result<(), OpsError> {
    let conn = super::open_db(&data_dir.join(crate::store::DB_FILE))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_backup', ?1)",
        [now.to_be_bytes().as_slice()],
    )?;
    Ok(())
}

fn copy_to(from: &Path, to: &Path) -> Result<(), OpsError> {
    drop(create_private(to)?);
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(BUSY_PATIENCE)?;
    let mut dst = Connection::open(to)?;
    let step = rusqlite::backup::Backup::new(&src, &mut dst)?.step(-1)?;
    if step != rusqlite::backup::StepResult::Done {
        return Err(OpsError::path(
            from,
            "is locked by another program; try again",
        ));
    }
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    dst.pragma_update(None, "synchronous", "FULL")?;
    drop(dst);
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| OpsError::path(to, format!("cannot be synced ({})", e.kind())))
}

/// Creates an empty file readable by its owner only (SQLite keeps the mode).
pub(super) fn create_private(path: &Path) -> Result<std::fs::File, OpsError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| OpsError::path(path, format!("cannot be created ({})", e.kind())))
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Makes a rename durable (best effort: not every file system allows it).
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let _ = std::fs::File::open(parent).and_then(|d| d.sync_all());
    }
}
