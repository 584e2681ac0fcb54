//! `signaal backup DEST` and `signaal restore SRC`.
//!
//! Invariants: a backup is a consistent snapshot made with SQLite's online
//! backup API, so it can run while the server serves; it is written beside
//! DEST and renamed into place only after it passed the integrity check, so a
//! file at DEST is always whole. It holds what the database holds — envelopes
//! and plaintext metadata, never plaintext of a signal — and is written
//! owner-only. A restore checks the copy before it replaces anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{Health, OpsError, inspect};
use crate::store::DB_FILE;

/// Copy every page in one step. In steps, SQLite restarts the copy whenever
/// another process commits in between, so under a steady stream of
/// submissions a stepwise backup may never finish. One step reads one WAL
/// snapshot, which does not block the server's writer (WAL readers never do).
const ALL_PAGES: std::os::raw::c_int = -1;
/// How long to wait, in total, for a lock another connection holds.
const BUSY_PATIENCE: Duration = Duration::from_secs(30);
/// How long to wait before trying again.
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// Copies the database in `data_dir` to the file `dest`, consistently, while
/// the server may be writing. Refuses to overwrite an existing file.
pub fn backup(data_dir: &Path, dest: &Path) -> Result<Health, OpsError> {
    let source = data_dir.join(DB_FILE);
    if !source.is_file() {
        return Err(OpsError::path(
            &source,
            "does not exist; check data_dir / SIGNAAL_DATA_DIR",
        ));
    }
    if dest.exists() {
        return Err(OpsError::path(
            dest,
            "exists already; name a new file (backups are never overwritten)",
        ));
    }
    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    let result = copy_to(&source, &partial).and_then(|()| inspect(&partial));
    match result {
        Ok(health) => {
            std::fs::rename(&partial, dest)
                .map_err(|e| OpsError::path(dest, format!("cannot be written ({})", e.kind())))?;
            sync_parent(dest);
            Ok(health)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Replaces the database in `data_dir` by the backup `src`, after checking
/// it. Refuses when the current database holds signals, unless `replace`, and
/// always while a server runs from `data_dir` (it would keep writing to the
/// replaced file): see [`super::lock`].
pub fn restore(src: &Path, data_dir: &Path, replace: bool) -> Result<Health, OpsError> {
    let health = inspect(src)?;
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
    let _ = std::fs::remove_file(&incoming);
    copy_to(src, &incoming)?;
    if let Err(e) = inspect(&incoming) {
        let _ = std::fs::remove_file(&incoming);
        return Err(e);
    }
    // The old database's WAL and index belong to the old file: remove them
    // with it, or SQLite would replay the old WAL into the restored file.
    for suffix in ["-wal", "-shm"] {
        let side = data_dir.join(format!("{DB_FILE}{suffix}"));
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

/// Copies the database `from` into a new file `to` with the backup API, then
/// makes `to` a self-contained rollback-journal file and syncs it.
fn copy_to(from: &Path, to: &Path) -> Result<(), OpsError> {
    create_private(to)?;
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(Duration::from_secs(30))?;
    let mut dst = Connection::open(to)?;
    {
        use rusqlite::backup::StepResult;
        let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
        let mut waited = Duration::ZERO;
        loop {
            match backup.step(ALL_PAGES)? {
                StepResult::Done => break,
                StepResult::More => {}
                // Busy or locked: another connection holds a lock a moment.
                _ if waited < BUSY_PATIENCE => {
                    std::thread::sleep(BUSY_PAUSE);
                    waited += BUSY_PAUSE;
                }
                _ => {
                    return Err(OpsError::path(
                        from,
                        "stayed locked for 30 seconds; try the backup again",
                    ));
                }
            }
        }
    }
    // One file, no WAL beside it: a backup is copied around as a single file.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    dst.pragma_update(None, "synchronous", "FULL")?;
    drop(dst);
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| OpsError::path(to, format!("cannot be synced ({})", e.kind())))
}

/// Creates an empty file readable by its owner only (SQLite keeps the mode).
fn create_private(path: &Path) -> Result<(), OpsError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
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
