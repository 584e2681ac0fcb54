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
    // 2: review — triage columns, notes, the message thread, the hash-chained audit log.
    // `origin` and `domain` are reviewer-confirmed categories of the hardship (not of
    // the sender), kept in the clear so the queue and the report need no decryption.
    // Notes and messages carry a per-signal `seq` for their order; their ids are random.
    "ALTER TABLE signals ADD COLUMN origin TEXT;
     ALTER TABLE signals ADD COLUMN labels TEXT NOT NULL DEFAULT '';
     ALTER TABLE signals ADD COLUMN assignee TEXT;
     ALTER TABLE signals ADD COLUMN acknowledged_on TEXT;
     ALTER TABLE signals ADD COLUMN feedback_on TEXT;
     CREATE INDEX signals_by_status ON signals (status, received_on);
     CREATE INDEX signals_by_domain ON signals (domain, received_on);
     CREATE TABLE notes (
        id        TEXT PRIMARY KEY,
        signal_id TEXT NOT NULL REFERENCES signals (id),
        seq       INTEGER NOT NULL,
        author    TEXT NOT NULL,
        day       TEXT NOT NULL,
        format    TEXT NOT NULL,
        envelope  BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX notes_by_signal ON notes (signal_id, seq);
     CREATE TABLE messages (
        id        TEXT PRIMARY KEY,
        signal_id TEXT NOT NULL REFERENCES signals (id),
        seq       INTEGER NOT NULL,
        author    TEXT NOT NULL CHECK (author IN ('team', 'sender')),
        day       TEXT NOT NULL,
        format    TEXT NOT NULL,
        envelope  BLOB NOT NULL,
        answered  INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID;
     CREATE INDEX messages_by_signal ON messages (signal_id, seq);
     CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        signal_id TEXT,
        detail    TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash      BLOB NOT NULL
     );
     CREATE INDEX audit_by_signal ON audit (signal_id) WHERE signal_id IS NOT NULL;",
    // 3: the domain is set at triage, never at intake, so the domain index only
    // needs triaged signals. As a partial index, the intake's insert no longer
    // has to place an entry for it (queries on `domain = ?` still use it).
    "DROP INDEX signals_by_domain;
     CREATE INDEX signals_by_domain ON signals (domain, received_on) WHERE domain IS NOT NULL;",
    // 4: the inboxes (see `store::mix`). What the intake writes goes to
    // `inbox_signals` and `inbox_messages`, which hold the current period only
    // and are rebuilt in key order at every mix; `all_signals` and
    // `all_messages` show main table and inbox as one. Notes and messages lose
    // their foreign key to `signals`, since a signal of today is in the inbox
    // (deleting a signal deletes its notes and messages explicitly).
    "CREATE TABLE inbox_signals (
        id               TEXT NOT NULL,
        received_on      TEXT NOT NULL,
        status           TEXT NOT NULL DEFAULT 'new',
        domain           TEXT,
        lookup_tag       BLOB NOT NULL,
        source_recipient TEXT NOT NULL,
        format           TEXT NOT NULL,
        envelope         BLOB NOT NULL,
        origin           TEXT,
        labels           TEXT NOT NULL DEFAULT '',
        assignee         TEXT,
        acknowledged_on  TEXT,
        feedback_on      TEXT
     );
     CREATE UNIQUE INDEX inbox_signals_a_id ON inbox_signals (id);
     CREATE UNIQUE INDEX inbox_signals_a_tag ON inbox_signals (lookup_tag);
     CREATE INDEX inbox_signals_a_received ON inbox_signals (received_on);
     CREATE INDEX inbox_signals_a_status ON inbox_signals (status, received_on);
     CREATE INDEX inbox_signals_a_domain ON inbox_signals (domain, received_on) WHERE domain IS NOT NULL;
     CREATE TABLE inbox_messages (
        id        TEXT PRIMARY KEY,
        signal_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        author    TEXT NOT NULL CHECK (author IN ('team', 'sender')),
        day       TEXT NOT NULL,
        format    TEXT NOT NULL,
        envelope  BLOB NOT NULL,
        answered  INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID;
     CREATE INDEX inbox_messages_a_signal ON inbox_messages (signal_id, seq);
     CREATE TABLE notes_next (
        id        TEXT PRIMARY KEY,
        signal_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        author    TEXT NOT NULL,
        day       TEXT NOT NULL,
        format    TEXT NOT NULL,
        envelope  BLOB NOT NULL
     ) WITHOUT ROWID;
     INSERT INTO notes_next SELECT id, signal_id, seq, author, day, format, envelope FROM notes;
     DROP TABLE notes;
     ALTER TABLE notes_next RENAME TO notes;
     CREATE INDEX notes_by_signal ON notes (signal_id, seq);
     CREATE TABLE messages_next (
        id        TEXT PRIMARY KEY,
        signal_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        author    TEXT NOT NULL CHECK (author IN ('team', 'sender')),
        day       TEXT NOT NULL,
        format    TEXT NOT NULL,
        envelope  BLOB NOT NULL,
        answered  INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID;
     INSERT INTO messages_next
        SELECT id, signal_id, seq, author, day, format, envelope, answered FROM messages;
     DROP TABLE messages;
     ALTER TABLE messages_next RENAME TO messages;
     CREATE INDEX messages_by_signal ON messages (signal_id, seq);
     CREATE VIEW all_signals AS
        SELECT rowid AS rid, * FROM signals UNION ALL SELECT rowid AS rid, * FROM inbox_signals;
     CREATE VIEW all_messages AS
        SELECT * FROM messages UNION ALL SELECT * FROM inbox_messages;",
    // 5: audit rows of what a sender did (a withdrawal): an audit row carries
    // the second and its place in the chain, so these wait here with only
    // their day, are mixed like the other inboxes, and join the chain at the
    // first mix after their day is over.
    "CREATE TABLE inbox_audit (
        id        TEXT PRIMARY KEY,
        day       TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        signal_id TEXT,
        detail    TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 6: the daily work of the review face. The untriaged signals, whose
    // sealed choice of domain a domain filter reads, and each reviewer's
    // signals are found by index; the labels the team has made are a list of
    // their own (reviewers' words, never a sender's).
    "CREATE INDEX signals_untriaged ON signals (received_on) WHERE domain IS NULL;
     CREATE INDEX signals_by_assignee ON signals (assignee, received_on) WHERE assignee IS NOT NULL;
     CREATE TABLE labels (
        name     TEXT PRIMARY KEY,
        added_by TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 7: hardships and what solves them. What a reviewer writes (a title,
    // the pattern, the causing rule, organisations, a measure's text, a
    // status note) is an age envelope; in the clear are only random ids,
    // days, and the categories the review face chooses from lists (origin,
    // domain, kind, lever, status). A link holds the day it was made, never
    // a time, so it dates no signal beyond what its day says.
    "CREATE TABLE hardships (
        id         TEXT PRIMARY KEY,
        created_on TEXT NOT NULL,
        author     TEXT NOT NULL,
        origin     TEXT,
        domain     TEXT,
        format     TEXT NOT NULL,
        envelope   BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE hardship_signals (
        hardship_id TEXT NOT NULL,
        signal_id   TEXT NOT NULL,
        linked_on   TEXT NOT NULL,
        PRIMARY KEY (hardship_id, signal_id)
     ) WITHOUT ROWID;
     CREATE INDEX hardship_signals_by_signal ON hardship_signals (signal_id);
     CREATE TABLE measures (
        id          TEXT PRIMARY KEY,
        hardship_id TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        lever       TEXT NOT NULL,
        status      TEXT NOT NULL,
        target_on   TEXT,
        created_on  TEXT NOT NULL,
        format      TEXT NOT NULL,
        envelope    BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX measures_by_hardship ON measures (hardship_id, seq);
     CREATE TABLE measure_statuses (
        id         TEXT PRIMARY KEY,
        measure_id TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        status     TEXT NOT NULL,
        day        TEXT NOT NULL,
        author     TEXT NOT NULL,
        format     TEXT NOT NULL,
        envelope   BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX measure_statuses_by_measure ON measure_statuses (measure_id, seq);",
    // 8: what the team published of a hardship, in the clear from the moment
    // it is published and gone (its pages zeroed) when it is unpublished:
    // the public title, summary and cause, and the public text of each
    // measure it names. A measure's kind, lever, status and dated history
    // are read from `measures` and `measure_statuses`, so progress shows
    // without publishing again; a measure added later is public only once
    // the hardship is published again.
    "CREATE TABLE publications (
        hardship_id  TEXT PRIMARY KEY,
        published_on TEXT NOT NULL,
        published_by TEXT NOT NULL,
        title        TEXT NOT NULL,
        summary      TEXT NOT NULL,
        cause        TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE published_measures (
        measure_id   TEXT PRIMARY KEY,
        hardship_id  TEXT NOT NULL,
        text         TEXT NOT NULL,
        organisation TEXT NOT NULL,
        source       TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX published_measures_by_hardship ON published_measures (hardship_id);",
    // 9: the monitoring overview reads every measure's categories and the
    // day of its last status, and the statuses set since a day; these
    // indexes hold all it reads, so it never touches the rows with their
    // envelopes (which spill into overflow pages).
    "CREATE INDEX measures_overview ON measures
        (hardship_id, seq, kind, lever, status, target_on, created_on);
     CREATE INDEX measure_statuses_last ON measure_statuses (measure_id, day);
     CREATE INDEX measure_statuses_since ON measure_statuses (day, measure_id, status, seq);",
    // 10: a measure keeps the day of its last status beside the status
    // itself, so the overview reads every measure from one covering index
    // instead of looking up its statuses one measure at a time.
    "ALTER TABLE measures ADD COLUMN changed_on TEXT;
     UPDATE measures SET changed_on = coalesce(
        (SELECT max(day) FROM measure_statuses s WHERE s.measure_id = measures.id), created_on);
     DROP INDEX measures_overview;
     CREATE INDEX measures_overview ON measures
        (hardship_id, seq, kind, lever, status, target_on, created_on, changed_on);",
    // 11: the queue's work filters by index at a million signals. A label
    // filter reads the distinct label lists in use (one seek each) and walks
    // the signals of the lists that hold it; "needs attention" walks those
    // not acknowledged, those acknowledged but without feedback, and those
    // with a sender's reply not yet answered or handled: each a small part
    // of the table, each walk on its index alone.
    "CREATE INDEX signals_by_labels ON signals (labels, received_on) WHERE labels <> '';
     CREATE INDEX signals_unacknowledged ON signals (received_on) WHERE acknowledged_on IS NULL;
     CREATE INDEX signals_without_feedback ON signals (received_on)
        WHERE feedback_on IS NULL AND acknowledged_on IS NOT NULL;
     CREATE INDEX messages_unanswered ON messages (signal_id) WHERE author = 'sender' AND answered = 0;",
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
        tracing::info!(
            from = version,
            to = version + 1,
            "migrated the database schema"
        );
    }
    Ok(())
}

/// A database as the release that wrote schema `version` left it.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn migrate_to(conn: &mut Connection, version: usize) {
    for (from, sql) in MIGRATIONS.iter().enumerate().take(version) {
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", from + 1).unwrap();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_database_of_an_older_version_is_brought_up_to_date_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        // As an earlier signaal left it: the first two steps, and a triaged signal.
        for (version, sql) in MIGRATIONS.iter().enumerate().take(2) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version + 1)
                .unwrap();
        }
        conn.execute(
            "INSERT INTO signals (id, received_on, domain, lookup_tag, source_recipient, format, envelope)
             VALUES ('a', '2026-11-02', 'taxes', x'01', 'age1x', 'age-v1-x25519', x'00')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, CURRENT_VERSION);
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT rowid FROM signals WHERE domain = 'taxes' ORDER BY received_on",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("signals_by_domain"), "{plan}");
        let index: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'signals_by_domain'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(index.ends_with("WHERE domain IS NOT NULL"), "{index}");
        let found: String = conn
            .query_row("SELECT id FROM signals WHERE domain = 'taxes'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(found, "a");
        // Running it again changes nothing.
        migrate(&mut conn).unwrap();
    }

    #[test]
    fn measures_of_schema_nine_get_the_day_of_their_last_status() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (version, sql) in MIGRATIONS.iter().enumerate().take(9) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version + 1)
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO measures (id, hardship_id, seq, kind, lever, status, created_on, format, envelope)
             VALUES ('m1', 'h', 1, 'measure', 'law', 'agreed', '2026-01-05', 'age-v1-x25519', x'00'),
                    ('m2', 'h', 2, 'measure', 'law', 'proposed', '2026-02-01', 'age-v1-x25519', x'00');
             INSERT INTO measure_statuses (id, measure_id, seq, status, day, author, format, envelope)
             VALUES ('s1', 'm1', 1, 'proposed', '2026-01-05', 'a', 'age-v1-x25519', x'00'),
                    ('s2', 'm1', 2, 'agreed', '2026-03-09', 'a', 'age-v1-x25519', x'00');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let days: Vec<(String, String)> = conn
            .prepare("SELECT id, changed_on FROM measures ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            days,
            [
                ("m1".to_owned(), "2026-03-09".to_owned()),
                ("m2".to_owned(), "2026-02-01".to_owned())
            ]
        );
    }

    #[test]
    fn a_database_from_a_newer_signaal_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(SchemaError::TooNew { .. })
        ));
    }
}
