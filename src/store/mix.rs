//! The mix: what arrived since the last one is rebuilt in random order, so that
//! nothing physical in the data folder orders the signals of a day any more.
//!
//! SQLite places every new cell at the top of a page's free area, allocates new
//! pages at the end of the file, and appends every commit to the WAL: the file
//! remembers the order of arrival even when the keys are random. So what the
//! intake writes never goes to the tables the team works in. It goes to two
//! small *inbox* tables (`inbox_signals`, `inbox_messages`) that hold only the
//! current period (the day, or the week with `received_precision = "week"`).
//! At every mix:
//!
//! 1. rows of earlier periods move from the inbox into `signals` / `messages`,
//!    in key order (random rowids and ids), a chunk per transaction; every cell
//!    such a move writes comes from one period, which the row says anyway;
//! 2. the inbox is copied, in key order, into a fresh table that has its
//!    indexes from the start, a chunk per transaction; rows that change
//!    meanwhile are noted by a trigger and copied again, a chunk per
//!    transaction, until fewer than a chunk wait; then, in one transaction,
//!    the last of them are copied, the copy takes the inbox's name and the old table
//!    steps aside, to be emptied chunk by chunk and dropped (its pages are
//!    zeroed by `secure_delete`);
//! 3. the WAL is checkpointed and truncated, so no frame of any earlier
//!    generation is left in it.
//!
//! Invariants: every row is, at every commit, in exactly one of the inbox, the
//! main table, or (during step 2, as a copy) both the inbox and its copy —
//! so a process killed at any moment of a mix loses nothing, and the next
//! mix starts again from the inbox. No step holds the writer for long: a
//! chunk is [`CHUNK`] rows.

use rusqlite::{Connection, OptionalExtension, params};

/// Rows moved, copied or deleted per transaction. A signal's row is a few
/// KiB (its padded envelope), so a chunk writes a few hundred KiB: the
/// writer is kept from the senders for milliseconds at a time.
pub const CHUNK: i64 = 64;

/// One inbox table and the main table its rows move to.
#[derive(Debug, Clone, Copy)]
pub struct Inbox {
    /// The table the intake writes to.
    pub table: &'static str,
    /// Where its rows go once their period is over.
    pub main: &'static str,
    /// The (random) key that orders rows: `rowid` or `id`.
    pub key: &'static str,
    /// Whether `key` is the rowid (so copies must carry it).
    pub rowid: bool,
    /// The column that holds the row's day.
    pub day: &'static str,
    /// Indexes, as `(name suffix, UNIQUE or empty, definition after ON table)`.
    pub indexes: &'static [(&'static str, &'static str, &'static str)],
    /// The view that shows main and inbox as one, if there is one.
    pub view: Option<(&'static str, &'static str)>,
}

/// The inbox of signals.
pub const SIGNALS: Inbox = Inbox {
    table: "inbox_signals",
    main: "signals",
    key: "rowid",
    rowid: true,
    day: "received_on",
    indexes: &[
        ("id", "UNIQUE", "(id)"),
        ("tag", "UNIQUE", "(lookup_tag)"),
        ("received", "", "(received_on)"),
        ("status", "", "(status, received_on)"),
        (
            "domain",
            "",
            "(domain, received_on) WHERE domain IS NOT NULL",
        ),
    ],
    view: Some((
        "all_signals",
        "SELECT rowid AS rid, * FROM signals UNION ALL SELECT rowid AS rid, * FROM inbox_signals",
    )),
};

/// The inbox of the senders' messages.
pub const MESSAGES: Inbox = Inbox {
    table: "inbox_messages",
    main: "messages",
    key: "id",
    rowid: false,
    day: "day",
    indexes: &[("signal", "", "(signal_id, seq)")],
    view: Some((
        "all_messages",
        "SELECT * FROM messages UNION ALL SELECT * FROM inbox_messages",
    )),
};

/// What a sender did that the audit log must hold, waiting for its day to end
/// (it moves into the chain through [`flush_audit_chunk`], not as a copy).
pub const AUDIT: Inbox = Inbox {
    table: "inbox_audit",
    main: "audit",
    key: "id",
    rowid: false,
    day: "day",
    indexes: &[],
    view: None,
};

/// The inboxes whose rows move to a main table, signals first (a message
/// moves after its signal).
pub const INBOXES: [Inbox; 2] = [SIGNALS, MESSAGES];

/// Every table the mix rebuilds.
pub const REBUILT: [Inbox; 3] = [SIGNALS, MESSAGES, AUDIT];

/// The SQL that creates the inboxes' indexes and views for a new database.
pub fn create_indexes_and_views() -> String {
    let mut sql = String::new();
    for inbox in REBUILT {
        sql.push_str(&index_sql(&inbox, inbox.table, 'a'));
        sql.push_str(&view_sql(&inbox));
    }
    sql
}

fn index_sql(inbox: &Inbox, on: &str, generation: char) -> String {
    inbox
        .indexes
        .iter()
        .map(|(suffix, unique, def)| {
            format!(
                "CREATE {unique} INDEX {}_{generation}_{suffix} ON {on} {def};\n",
                inbox.table
            )
        })
        .collect()
}

fn view_sql(inbox: &Inbox) -> String {
    inbox
        .view
        .map(|(name, select)| format!("CREATE VIEW {name} AS {select};\n"))
        .unwrap_or_default()
}

/// The `meta` key that says the last process stopped after a mix and
/// nothing a sender did was written since (`x'01'`).
const MIXED_AT_CLOSE: &str = "mixed_at_close";

/// Whether the last process stopped cleanly after its mix, with nothing
/// written by a sender since: then a start need not rebuild the inboxes.
pub fn mixed_at_close(conn: &Connection) -> rusqlite::Result<bool> {
    let value: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![MIXED_AT_CLOSE],
            |r| r.get(0),
        )
        .optional()?;
    Ok(value.as_deref() == Some(&[1u8][..]))
}

/// Notes, in the transaction of a sender's write, that the inboxes hold
/// something unmixed. Writes nothing when that is known already.
pub fn mark_unmixed(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE meta SET value = x'00' WHERE key = ?1 AND value <> x'00'")?
        .execute(params![MIXED_AT_CLOSE])?;
    Ok(())
}

/// Notes, after the mix at a clean stop, that everything is mixed.
pub fn mark_mixed(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, x'01')")?
        .execute(params![MIXED_AT_CLOSE])?;
    Ok(())
}

/// What a mix did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mixed {
    /// Rows moved from the inboxes to the main tables.
    pub moved: u64,
    /// Rows rebuilt in the inboxes.
    pub rebuilt: u64,
}

/// One step of a mix, run as a write job; returns whether more steps of the
/// same kind are needed.
pub type Step = Box<dyn FnOnce(&Connection) -> rusqlite::Result<(bool, u64)> + Send>;

/// Moves one chunk of rows whose day is before `period_start` from `inbox` to
/// its main table. `Ok((more, moved))`.
pub fn move_chunk(
    conn: &Connection,
    inbox: &Inbox,
    period_start: &str,
) -> rusqlite::Result<(bool, u64)> {
    let (table, main, key, day) = (inbox.table, inbox.main, inbox.key, inbox.day);
    let last: Option<rusqlite::types::Value> = conn
        .prepare_cached(&format!(
            "SELECT max(k) FROM (SELECT {key} AS k FROM {table} WHERE {day} < ?1
             ORDER BY {key} LIMIT ?2)"
        ))?
        .query_row(params![period_start, CHUNK], |r| r.get(0))
        .optional()?
        .filter(|v| !matches!(v, rusqlite::types::Value::Null));
    let Some(last) = last else {
        return Ok((false, 0));
    };
    if inbox.rowid {
        // A random rowid that the main table already holds (a 2^-63 chance per
        // pair) gets a new one first, so the move can never fail on it.
        conn.prepare_cached(&format!(
            "UPDATE {table} SET rowid = (random() & 9223372036854775807)
             WHERE {day} < ?1 AND rowid <= ?2 AND rowid IN (SELECT rowid FROM {main})"
        ))?
        .execute(params![period_start, last])?;
    }
    let carried = carried(conn, inbox)?;
    conn.prepare_cached(&format!(
        "INSERT INTO {main} ({carried}) SELECT {carried} FROM {table}
         WHERE {day} < ?1 AND {key} <= ?2 ORDER BY {key}"
    ))?
    .execute(params![period_start, last])?;
    let moved = conn
        .prepare_cached(&format!(
            "DELETE FROM {table} WHERE {day} < ?1 AND {key} <= ?2"
        ))?
        .execute(params![period_start, last])?;
    Ok((moved as i64 >= CHUNK, moved as u64))
}

/// Appends one chunk of the waiting audit rows whose day is before
/// `period_start` to the chain, in key order (random), and deletes them.
pub fn flush_audit_chunk(conn: &Connection, period_start: &str) -> rusqlite::Result<(bool, u64)> {
    let rows: Vec<(String, String, String, String, Option<String>, String)> = conn
        .prepare_cached(
            "SELECT id, day, actor, action, signal_id, detail FROM inbox_audit
             WHERE day < ?1 ORDER BY id LIMIT ?2",
        )?
        .query_map(params![period_start, CHUNK], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, day, actor, action, signal_id, detail) in &rows {
        let detail = if detail.is_empty() {
            format!("on {day}")
        } else {
            format!("{detail} (on {day})")
        };
        crate::audit::append_named(conn, actor, action, signal_id.as_deref(), &detail)?;
        conn.prepare_cached("DELETE FROM inbox_audit WHERE id = ?1")?
            .execute(params![id])?;
    }
    Ok((rows.len() as i64 >= CHUNK, rows.len() as u64))
}

/// Starts rebuilding `inbox`: an empty copy table, and triggers that note
/// every row changed or added while the copy is being filled.
pub fn begin_rebuild(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<()> {
    let table = inbox.table;
    let next = format!("{table}_next");
    let create: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
        params![table],
        |r| r.get(0),
    )?;
    let Some(open) = create.find('(') else {
        return Err(rusqlite::Error::InvalidQuery);
    };
    let key_type = if inbox.rowid { "INTEGER" } else { "TEXT" };
    let body = create.get(open..).unwrap_or_default();
    // The copy gets its indexes now, so the swap at the end is short: their
    // entries are added chunk by chunk in key order (random, like the keys),
    // never in the order of arrival. The index names alternate between two
    // generations, as the old ones exist until the old table is dropped.
    let old_generation: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1
             AND name LIKE ?2 LIMIT 1",
            params![table, format!("{table}_a_%")],
            |r| r.get(0),
        )
        .optional()?;
    let generation = if old_generation.is_some() { 'b' } else { 'a' };
    let indexes = index_sql(inbox, &next, generation);
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {next};
         CREATE TABLE {next} {body};
         {indexes}
         CREATE TABLE IF NOT EXISTS {table}_touched (k {key_type} PRIMARY KEY) WITHOUT ROWID;
         DELETE FROM {table}_touched;
         DROP TRIGGER IF EXISTS {table}_touched_i;
         DROP TRIGGER IF EXISTS {table}_touched_u;
         DROP TRIGGER IF EXISTS {table}_touched_d;
         CREATE TRIGGER {table}_touched_i AFTER INSERT ON {table}
           BEGIN INSERT OR IGNORE INTO {table}_touched VALUES (NEW.{key}); END;
         CREATE TRIGGER {table}_touched_u AFTER UPDATE ON {table}
           BEGIN INSERT OR IGNORE INTO {table}_touched VALUES (OLD.{key});
                 INSERT OR IGNORE INTO {table}_touched VALUES (NEW.{key}); END;
         CREATE TRIGGER {table}_touched_d AFTER DELETE ON {table}
           BEGIN INSERT OR IGNORE INTO {table}_touched VALUES (OLD.{key}); END;",
        key = inbox.key,
    ))
}

/// Copies the next chunk of `inbox`, in key order, into its copy table.
pub fn copy_chunk(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<(bool, u64)> {
    let (table, key) = (inbox.table, inbox.key);
    let next = format!("{table}_next");
    let carried = carried(conn, inbox)?;
    let copied = conn
        .prepare_cached(&format!(
            "INSERT INTO {next} ({carried}) SELECT {carried} FROM {table}
             WHERE {key} > coalesce((SELECT max({key}) FROM {next}), ?1)
             ORDER BY {key} LIMIT ?2"
        ))?
        .execute(params![lowest(inbox), CHUNK])?;
    Ok((copied as i64 >= CHUNK, copied as u64))
}

/// Copies the next chunk of the rows changed or added since the copy began
/// (noted by the triggers) into the copy again, in key order, and forgets
/// their note; a row changed again later is noted again. Whether a whole
/// chunk was copied (more may be waiting).
pub fn catch_up_chunk(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<(bool, u64)> {
    let (table, key) = (inbox.table, inbox.key);
    let next = format!("{table}_next");
    let last: Option<rusqlite::types::Value> = conn
        .prepare_cached(&format!(
            "SELECT max(k) FROM (SELECT k FROM {table}_touched ORDER BY k LIMIT ?1)"
        ))?
        .query_row(params![CHUNK], |r| r.get(0))
        .optional()?
        .filter(|v| !matches!(v, rusqlite::types::Value::Null));
    let Some(last) = last else {
        return Ok((false, 0));
    };
    let carried = carried(conn, inbox)?;
    conn.prepare_cached(&format!(
        "DELETE FROM {next} WHERE {key} IN (SELECT k FROM {table}_touched WHERE k <= ?1)"
    ))?
    .execute(params![last])?;
    conn.prepare_cached(&format!(
        "INSERT INTO {next} ({carried}) SELECT {carried} FROM {table}
         WHERE {key} IN (SELECT k FROM {table}_touched WHERE k <= ?1) ORDER BY {key}"
    ))?
    .execute(params![last])?;
    let noted = conn
        .prepare_cached(&format!("DELETE FROM {table}_touched WHERE k <= ?1"))?
        .execute(params![last])?;
    Ok((noted as i64 >= CHUNK, noted as u64))
}

/// Finishes rebuilding `inbox`: copies what changed meanwhile again (after
/// [`catch_up_chunk`], only what changed during its last chunk), then puts
/// the copy (with its indexes) in the inbox's place.
pub fn finish_rebuild(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<u64> {
    let (table, key) = (inbox.table, inbox.key);
    let next = format!("{table}_next");
    let carried = carried(conn, inbox)?;
    // The noted rows again, and the note goes (with its triggers, on the old
    // table), so nothing of the rebuild is left for the next one to clear.
    conn.execute_batch(&format!(
        "DELETE FROM {next} WHERE {key} IN (SELECT k FROM {table}_touched);
         INSERT INTO {next} ({carried}) SELECT {carried} FROM {table}
           WHERE {key} IN (SELECT k FROM {table}_touched) ORDER BY {key};
         DROP TRIGGER IF EXISTS {table}_touched_i;
         DROP TRIGGER IF EXISTS {table}_touched_u;
         DROP TRIGGER IF EXISTS {table}_touched_d;
         DROP TABLE {table}_touched;"
    ))?;
    let rows: u64 = conn.query_row(&format!("SELECT count(*) FROM {next}"), [], |r| r.get(0))?;
    // Views name the inbox, and renaming a table checks every view: they go
    // first and come back last.
    let mut swap = String::new();
    for (name, _) in REBUILT.iter().filter_map(|other| other.view) {
        swap.push_str(&format!("DROP VIEW IF EXISTS {name};\n"));
    }
    // The old table steps aside rather than being dropped here: dropping
    // zeroes every page it had, which would hold the writer for as long as
    // the day's inbox is large. It is emptied chunk by chunk afterwards
    // ([`clear_old_chunk`]), before the mix counts as done.
    swap.push_str(&format!(
        "ALTER TABLE {table} RENAME TO {table}_old;\nALTER TABLE {next} RENAME TO {table};\n"
    ));
    for other in REBUILT {
        swap.push_str(&view_sql(&other));
    }
    conn.execute_batch(&swap)?;
    Ok(rows)
}

/// Deletes the next chunk of the table a rebuild set aside (its pages zeroed
/// by `secure_delete`), and drops the table once it is empty. Whether there
/// is more to delete.
pub fn clear_old_chunk(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<bool> {
    let (table, key) = (inbox.table, inbox.key);
    let old = format!("{table}_old");
    let exists: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        params![old],
        |r| r.get::<_, i64>(0),
    )? > 0;
    if !exists {
        return Ok(false);
    }
    let deleted = conn
        .prepare_cached(&format!(
            "DELETE FROM {old} WHERE {key} IN (SELECT {key} FROM {old} LIMIT ?1)"
        ))?
        .execute(params![CHUNK])?;
    if (deleted as i64) < CHUNK {
        conn.execute_batch(&format!("DROP TABLE {old};"))?;
        return Ok(false);
    }
    Ok(true)
}

/// Whether a rebuild of `inbox` was left unfinished (by a crash): its copy
/// is simply dropped, as the inbox still holds every row; a table set aside
/// by a finished rebuild goes too.
pub fn abandon_rebuild(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<()> {
    let table = inbox.table;
    conn.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS {table}_touched_i;
         DROP TRIGGER IF EXISTS {table}_touched_u;
         DROP TRIGGER IF EXISTS {table}_touched_d;
         DROP TABLE IF EXISTS {table}_next;
         DROP TABLE IF EXISTS {table}_touched;
         DROP TABLE IF EXISTS {table}_old;"
    ))
}

fn lowest(inbox: &Inbox) -> rusqlite::types::Value {
    if inbox.rowid {
        rusqlite::types::Value::Integer(i64::MIN)
    } else {
        rusqlite::types::Value::Text(String::new())
    }
}

/// The columns a copy of `inbox`'s rows carries, comma-separated: the
/// rowid first when it is the key, then every column in its order.
fn carried(conn: &Connection, inbox: &Inbox) -> rusqlite::Result<String> {
    let columns = columns(conn, inbox.table)?;
    Ok(if inbox.rowid {
        format!("rowid, {columns}")
    } else {
        columns
    })
}

/// The table's columns, comma-separated, in their order.
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<String> {
    let names: Vec<String> = conn
        .prepare_cached(&format!("SELECT name FROM pragma_table_info('{table}')"))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::audit::{Action, Entry};
    use crate::store::Store;
    use crate::store::signals::NewSignal;

    fn signal(day: &str, n: u8) -> NewSignal {
        NewSignal {
            id: crate::crypto::random_id(),
            received_on: day.to_owned(),
            lookup_tag: [n; 32],
            source_recipient: "age1x".to_owned(),
            format: crate::crypto::FORMAT_AGE_X25519,
            envelope: vec![n; 64],
        }
    }

    fn count(store: &Store, sql: &'static str) -> i64 {
        store
            .read_blocking(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap()
    }

    #[tokio::test]
    async fn rows_of_an_earlier_day_move_on_and_a_senders_audit_row_waits_for_its_day_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let today = super::super::times::day_string(time::OffsetDateTime::now_utc().date());
        for n in 0..3 {
            store.insert_signal(signal("2020-01-01", n)).await.unwrap();
        }
        store.insert_signal(signal(&today, 9)).await.unwrap();
        for day in ["2020-01-01", today.as_str()] {
            let day = day.to_owned();
            store
                .write(move |c| {
                    Store::audit_for_sender(
                        c,
                        &day,
                        &Entry::general("(sender)", Action::Export, "withdrawn"),
                    )
                })
                .await
                .unwrap();
        }
        let before = count(&store, "SELECT count(*) FROM audit");
        let mixed = store.mix().await.unwrap();
        assert_eq!(mixed.moved, 4, "three signals and one audit row of 2020");
        assert_eq!(count(&store, "SELECT count(*) FROM signals"), 3);
        assert_eq!(count(&store, "SELECT count(*) FROM inbox_signals"), 1);
        assert_eq!(count(&store, "SELECT count(*) FROM all_signals"), 4);
        assert_eq!(count(&store, "SELECT count(*) FROM audit"), before + 1);
        assert_eq!(
            count(&store, "SELECT count(*) FROM inbox_audit"),
            1,
            "today's waits"
        );
        let detail: String = store
            .read_blocking(|c| {
                c.query_row(
                    "SELECT detail FROM audit ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(detail, "withdrawn (on 2020-01-01)");
        assert!(matches!(
            store.verify_audit_blocking(&[]).unwrap(),
            crate::audit::Verdict::Intact { .. }
        ));
        // A second mix with nothing new moves nothing; a leftover copy of a
        // killed rebuild is cleared by the next one.
        store
            .write(|c| super::begin_rebuild(c, &super::SIGNALS))
            .await
            .unwrap();
        assert_eq!(store.mix().await.unwrap().moved, 0);
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_next'"
            ),
            0
        );
        assert_eq!(count(&store, "SELECT count(*) FROM all_signals"), 4);
        store.close();
    }

    #[tokio::test]
    async fn rows_that_change_during_the_copy_are_copied_again_a_chunk_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let today = super::super::times::day_string(time::OffsetDateTime::now_utc().date());
        for n in 0..100 {
            store.insert_signal(signal(&today, n)).await.unwrap();
        }
        store
            .write(|c| {
                super::begin_rebuild(c, &super::SIGNALS)?;
                while super::copy_chunk(c, &super::SIGNALS)?.0 {}
                Ok(())
            })
            .await
            .unwrap();
        // While the copy waits for its swap: 150 more arrive, one is
        // withdrawn, one is triaged.
        for n in 100..250 {
            store.insert_signal(signal(&today, n)).await.unwrap();
        }
        let tag = |n: u8| vec![n; 32];
        store
            .write(move |c| {
                c.execute("DELETE FROM inbox_signals WHERE lookup_tag = ?1", [tag(3)])?;
                c.execute(
                    "UPDATE inbox_signals SET status = 'in_progress' WHERE lookup_tag = ?1",
                    [tag(4)],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let mut chunks = 0;
        while store
            .write(|c| super::catch_up_chunk(c, &super::SIGNALS))
            .await
            .unwrap()
            .0
        {
            chunks += 1;
        }
        assert_eq!(chunks, 2, "152 noted rows: two whole chunks of 64, then 24");
        assert_eq!(
            count(&store, "SELECT count(*) FROM inbox_signals_touched"),
            0
        );
        let rows = store
            .write(|c| super::finish_rebuild(c, &super::SIGNALS))
            .await
            .unwrap();
        assert_eq!(rows, 249);
        while store
            .write(|c| super::clear_old_chunk(c, &super::SIGNALS))
            .await
            .unwrap()
        {}
        assert_eq!(count(&store, "SELECT count(*) FROM inbox_signals"), 249);
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM inbox_signals WHERE lookup_tag = x'0303030303030303030303030303030303030303030303030303030303030303'"
            ),
            0,
            "the withdrawn one is gone from the copy"
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM inbox_signals WHERE status = 'in_progress'"
            ),
            1,
            "the triaged one is copied as it is now"
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'inbox_signals_%' AND type = 'table'"
            ),
            0,
            "no copy, note or old table is left"
        );
        let ok: String = store
            .read_blocking(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(ok, "ok");
        store.close();
    }
}
