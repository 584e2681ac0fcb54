//! Operations: what an operator runs besides `serve` — `check`, backup and
//! restore (sealed to the backup recipient), retention (purge), re-encryption
//! after a key change (rewrap), and the hardening of the serving process.
//!
//! Invariant: no operation here ever writes plaintext of a signal anywhere.
//! Rewrap holds one envelope's plaintext at a time, in a wiped buffer, between
//! opening and resealing it; every other operation moves envelopes as opaque
//! bytes, and a sealed backup leaves the data folder only as age ciphertext.

pub mod around;
pub mod backup;
pub mod check;
pub mod commands;
pub mod hardening;
pub mod heads;
pub mod lock;
pub mod purge;
pub mod rewrap;
pub mod sealed;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// A failure of an operation. Messages name paths and settings, never content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// A file or folder could not be used.
    #[error("{path}: {problem}")]
    Path {
        /// The path concerned.
        path: PathBuf,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A database is damaged, too new, or not a signaal database.
    #[error("{path} {problem}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What the check found.
        problem: String,
    },
    /// The keys cannot be used.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeysError),
    /// A reviewer's identity could not be unlocked.
    #[error("{0}")]
    Unlock(String),
    /// SQLite refused a statement.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl OpsError {
    fn path(path: &Path, problem: impl Into<String>) -> Self {
        Self::Path {
            path: path.to_owned(),
            problem: problem.into(),
        }
    }
}

/// Opens the database for an operation beside (or instead of) a running
/// server: the same pragmas as the server's writer, and a patient busy timeout
/// so it waits for the writer's group commits instead of failing.
pub fn open_db(path: &Path) -> Result<Connection, OpsError> {
    if !path.exists() {
        return Err(OpsError::path(
            path,
            "does not exist; check data_dir / SIGNAAL_DATA_DIR",
        ));
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // VACUUM rebuilds the database in a temporary one: keep that in memory,
    // so no copy of the envelopes is written to a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// What [`inspect`] found in a database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `PRAGMA user_version`.
    pub schema_version: usize,
    /// Stored signals.
    pub signals: u64,
}

/// Checks a database file read-only: SQLite's integrity check, a schema this
/// build knows, and the signals table. Never writes, never migrates.
pub fn inspect(path: &Path) -> Result<Health, OpsError> {
    let damaged = |problem: String| OpsError::Database {
        path: path.to_owned(),
        problem,
    };
    if !path.is_file() {
        return Err(OpsError::path(path, "is not a file"));
    }
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let rows: Vec<String> = match conn.prepare("PRAGMA integrity_check").and_then(|mut s| {
        s.query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()
    }) {
        Ok(rows) => rows,
        Err(_) => return Err(damaged("is not a readable SQLite database".into())),
    };
    if rows != ["ok"] {
        let first: Vec<&str> = rows.iter().take(3).map(String::as_str).collect();
        return Err(damaged(format!(
            "fails the integrity check: {}",
            first.join("; ")
        )));
    }
    let schema_version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = crate::store::CURRENT_VERSION;
    if schema_version > known {
        return Err(damaged(format!(
            "has schema version {schema_version}, newer than this signaal knows ({known}); upgrade signaal"
        )));
    }
    if schema_version == 0 {
        return Err(damaged("holds no signaal schema (version 0)".into()));
    }
    // Every schema has had a signals table; the view over it and the inboxes
    // came with version 4. An older database is counted as it is and
    // migrated by serve's next start (check runs before serve in the units).
    let count = |table: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, u64>(0)
        })
    };
    let signals = match count("all_signals") {
        Err(_) if schema_version < known => count("signals"),
        counted => counted,
    }
    .map_err(|_| damaged("has no signals table".into()))?;
    Ok(Health {
        schema_version,
        signals,
    })
}

/// The actor of a command-line operation in the audit log.
/// The account is named by its user id, which the system vouches for (a
/// `USER` variable can say anything).
pub fn command_line_actor() -> String {
    format!("(command line, uid {})", rustix::process::getuid().as_raw())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An upgrade's first start runs `check` (the units' ExecStartPre) on
    /// the database an older release left, before serve migrates it: every
    /// older schema must pass, counted as it is.
    #[test]
    fn a_database_of_every_older_schema_passes_the_inspection_with_its_signals_counted() {
        let dir = tempfile::tempdir().unwrap();
        for version in 1..=crate::store::CURRENT_VERSION {
            let path = dir.path().join(format!("v{version}.db"));
            let mut conn = Connection::open(&path).unwrap();
            crate::store::migrate_to(&mut conn, version);
            conn.execute(
                "INSERT INTO signals (id, received_on, lookup_tag, source_recipient, format, envelope)
                 VALUES ('a', '2026-11-02', x'01', 'age1x', 'age-v1-x25519', x'00')",
                [],
            )
            .unwrap();
            drop(conn);
            let health = inspect(&path).unwrap();
            assert_eq!(health.schema_version, version);
            assert_eq!(health.signals, 1, "schema version {version}");
        }
        // A database with no signaal table at all is still refused.
        let path = dir.path().join("foreign.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 3;")
            .unwrap();
        drop(conn);
        let refused = inspect(&path).unwrap_err().to_string();
        assert!(refused.contains("has no signals table"), "{refused}");
    }
}
