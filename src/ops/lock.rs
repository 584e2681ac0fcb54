//! The lock that says "signaal is serving from this data folder".
//!
//! Invariant: every serving process holds a shared `flock` on
//! `DATA_DIR/signaal.lock` for as long as it runs; `restore` needs it
//! exclusively. So a restore can never replace the database under a running
//! server — whose later writes would go to the replaced file and be lost,
//! receipts and all. The kernel drops the lock when the process ends, however
//! it ends.

use std::path::Path;

use rustix::fs::{FlockOperation, flock};

use super::OpsError;

/// The lock file inside the data folder (empty; only its lock matters).
pub const LOCK_FILE: &str = "signaal.lock";

/// A held lock; released when dropped or when the process ends.
#[derive(Debug)]
pub struct Held(#[allow(dead_code)] std::fs::File);

/// Opens (and if needed makes, owner-only) the data folder's lock file.
fn open(data_dir: &Path) -> Result<std::fs::File, OpsError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|e| {
            OpsError::path(
                data_dir,
                format!(
                    "cannot be created ({}); create it or fix data_dir / SIGNAAL_DATA_DIR",
                    e.kind()
                ),
            )
        })?;
    let path = data_dir.join(LOCK_FILE);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| {
            OpsError::path(
                &path,
                format!(
                    "cannot be opened ({}); give the signaal user write access",
                    e.kind()
                ),
            )
        })
}

/// Taken by a serving process: many may share it (intake and review apart).
pub fn serving(data_dir: &Path) -> Result<Held, OpsError> {
    let file = open(data_dir)?;
    flock(&file, FlockOperation::NonBlockingLockShared).map_err(|_| {
        OpsError::path(
            data_dir,
            "is being restored (signaal restore holds it); start signaal when it is done",
        )
    })?;
    Ok(Held(file))
}

/// Taken by `restore`: refused while any signaal serves from `data_dir`.
pub fn exclusive(data_dir: &Path) -> Result<Held, OpsError> {
    let file = open(data_dir)?;
    flock(&file, FlockOperation::NonBlockingLockExclusive).map_err(|_| {
        OpsError::path(
            data_dir,
            "is in use by a running signaal; stop it first (systemctl stop signaal)",
        )
    })?;
    Ok(Held(file))
}
