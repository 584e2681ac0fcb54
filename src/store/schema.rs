//! The database schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Only what triage needs and what reveals nothing about the sender is kept in the
//! clear. Rows that stand for a signal get a random `rowid` (never SQLite's
//! counter), so neither the ids nor the file's physical order reveal the order in
//! which signals arrived. (`WITHOUT ROWID` would do the same but stores rows of
//! this size in overflow pages, more than doubling the file.)

use rusqlite::Connection;

/// Each entry moves the schema from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: signals and the install salt.
    "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE signals (
        id               TEXT NOT NULL UNIQUE,
        received_on      TEXT NOT NULL,
        status           TEXT NOT NULL DEFAULT 'new',
        domain           TEXT,
        lookup_tag       BLOB NOT NULL UNIQUE,
        source_recipient TEXT NOT NULL,
        format           TEXT NOT NULL,
        envelope         BLOB NOT NULL
     );
     CREATE INDEX signals_by_received ON signals (received_on);",
];

/// The schema version this build writes.
pub const CURRENT_VERSION: usize = MIGRATIONS.len();

/// A schema that cannot be brought up to date.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The database was written by a newer signaal.
    #[error(
        "the database has schema version {found}, newer than this signaal knows ({known}); upgrade signaal"
    )]
    TooNew { found: usize, known: usize },
    /// SQLite refused.
    #[error("database error while migrating: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings the schema up to [`CURRENT_VERSION`], each step in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let found: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > CURRENT_VERSION {
        return Err(SchemaError::TooNew {
            found,
            known: CURRENT_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}
