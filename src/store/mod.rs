//! The SQLite store: one file, one writer thread with group commit, a few
//! readers, and the installation's values in `meta` (its salt, the TOTP steps
//! used). Each file below holds what one kind of row is for: `signals` the
//! signal rows and their triage, `queue` the review queue, `thread` notes and
//! messages, `sender` what a receipt code reaches, `search` and `report` the
//! reads over every signal, `audit` the store's side of the audit chain.
//! It knows no face and no page.
//!
//! Invariant: only envelopes (age ciphertext) and plaintext metadata that says
//! nothing about the sender are written; the connection runs in WAL mode with
//! `synchronous=FULL` and `secure_delete=ON`. What the intake writes goes to
//! the inbox tables, which the mix rebuilds (see [`mix`]), so nothing in the
//! file orders what arrived before the last mix.

pub mod annual;
pub mod audit;
pub mod hardships;
pub mod mix;
pub mod overview;
pub mod publications;
pub mod queue;
pub mod report;
mod schema;
#[cfg(test)]
pub(crate) use schema::migrate_to;
pub mod search;
pub mod second_factor;
pub mod sender;
pub mod signals;
pub mod thread;
pub mod times;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

pub use schema::{CURRENT_VERSION, SchemaError};

use crate::config::Precision;

/// The database file inside the data folder.
pub const DB_FILE: &str = "signaal.db";
/// Read connections kept open for reuse.
const READERS_KEPT: usize = 8;

/// A failure of the store. Messages never contain stored content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The writer is gone or could not commit: nothing of the request was kept.
    #[error("the database cannot store anything right now")]
    Unavailable,
    /// The data folder cannot be used.
    #[error("the data folder {path} cannot be used: {reason}")]
    DataDir { path: PathBuf, reason: String },
    /// The schema is not usable.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// SQLite refused a statement.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// How a store is opened.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// A ceiling on the database size in bytes: past it, writes fail as on a
    /// full disk (and the sender is told nothing was kept) instead of filling
    /// the disk that the rest of the machine needs.
    pub max_bytes: Option<u64>,
    /// How precisely arrival is kept: the period the inbox holds.
    pub precision: Precision,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_bytes: None,
            precision: Precision::Day,
        }
    }
}

struct Inner {
    path: PathBuf,
    sender: Mutex<Option<mpsc::Sender<writer::Work>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    install_salt: [u8; 32],
    precision: Precision,
    /// Something a sender did was written since the last mix.
    unmixed: AtomicBool,
    /// One mix at a time.
    mixing: tokio::sync::Mutex<()>,
    /// The last mix got to truncate the WAL.
    truncated: AtomicBool,
    /// Counts the changes to what the public sees of hardships, so that a
    /// page drawn from them can be kept until the next change.
    public_changes: std::sync::atomic::AtomicU64,
    /// Set back after every read too: a read moves the access time of the
    /// database (relatime) and readers write the shared-memory file.
    times: times::FileTimes,
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store(Arc<Inner>);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.0.path).finish()
    }
}

impl Store {
    /// Opens (and if needed creates and migrates) the database in `data_dir`, and
    /// starts the writer thread.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, StoreOptions::default())
    }

    /// As [`Store::open`], with options.
    pub fn open_with(data_dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let max_bytes = options.max_bytes;
        prepare_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        owner_only(&path).map_err(|e| StoreError::DataDir {
            path: data_dir.to_owned(),
            reason: format!("cannot make {DB_FILE} owner-only ({})", e.kind()),
        })?;
        let mut conn = open_writer(&path).map_err(|e| StoreError::DataDir {
            path: data_dir.to_owned(),
            reason: e.to_string(),
        })?;
        if let Some(max) = max_bytes {
            let page_size: u64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
            conn.pragma_update(None, "max_page_count", (max / page_size.max(512)).max(16))?;
        }
        schema::migrate(&mut conn)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('install_salt', ?1)",
            params![crate::crypto::random_bytes::<32>().as_slice()],
        )?;
        let salt: Vec<u8> = conn.query_row(
            "SELECT value FROM meta WHERE key = 'install_salt'",
            [],
            |r| r.get(0),
        )?;
        let install_salt: [u8; 32] = salt.try_into().map_err(|_| StoreError::DataDir {
            path: data_dir.to_owned(),
            reason: "its install salt is damaged".to_owned(),
        })?;
        // A clean stop mixed last and nothing arrived since: nothing to rebuild.
        let unmixed = !mix::mixed_at_close(&conn)?;
        let (tx, rx) = mpsc::channel();
        let times = times::FileTimes::new(&path, options.precision);
        times.settle();
        let handle = std::thread::Builder::new()
            .name("signaal-writer".into())
            .stack_size(crate::config::THREAD_STACK)
            .spawn({
                let times = times.clone();
                let db = path.clone();
                move || writer::run(conn, rx, times, db)
            })
            .map_err(|e| StoreError::DataDir {
                path: data_dir.to_owned(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Self(Arc::new(Inner {
            path,
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
            install_salt,
            precision: options.precision,
            // What an earlier process left (after a crash, say) is mixed first.
            unmixed: AtomicBool::new(unmixed),
            mixing: tokio::sync::Mutex::new(()),
            truncated: AtomicBool::new(false),
            public_changes: std::sync::atomic::AtomicU64::new(0),
            times,
        })))
    }

    /// The random salt of this installation, mixed into receipt derivations.
    pub fn install_salt(&self) -> &[u8; 32] {
        &self.0.install_salt
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Runs `f` in the writer's next group transaction and returns once that
    /// transaction has committed durably.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let put = Arc::clone(&slot);
        let (done, committed) = oneshot::channel();
        let job = writer::Job {
            run: Box::new(move |conn| {
                let value = f(conn)?;
                if let Ok(mut s) = put.lock() {
                    *s = Some(value);
                }
                Ok(())
            }),
            done,
        };
        self.hand(writer::Work::Write(job))?;
        committed.await.map_err(|_| StoreError::Unavailable)??;
        let value = slot
            .lock()
            .map_err(|_| StoreError::Unavailable)?
            .take()
            .ok_or(StoreError::Unavailable)?;
        Ok(value)
    }

    /// Hands work to the writer thread.
    fn hand(&self, work: writer::Work) -> Result<(), StoreError> {
        let sender = self.0.sender.lock().map_err(|_| StoreError::Unavailable)?;
        sender
            .as_ref()
            .ok_or(StoreError::Unavailable)?
            .send(work)
            .map_err(|_| StoreError::Unavailable)
    }

    /// Runs `f` on the writer's connection outside any transaction, between
    /// two groups, and returns its result.
    async fn alone<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (done, finished) = oneshot::channel();
        self.hand(writer::Work::Alone(Box::new(move |conn| {
            let _ = done.send(f(conn));
        })))?;
        finished.await.map_err(|_| StoreError::Unavailable)?
    }

    /// Notes that a sender's write will need a mix.
    fn arrived(&self) {
        self.0.unmixed.store(true, Ordering::Release);
    }

    /// The mix (see [`mix`]): moves the rows of earlier periods out of the
    /// inboxes, rebuilds the inboxes in key order if a sender wrote since the
    /// last mix, and truncates the WAL. Safe to kill at any moment. Then the
    /// head of the audit chain (which the mix may have extended) goes to the log.
    pub async fn mix(&self) -> Result<mix::Mixed, StoreError> {
        let mixed = self.mix_only().await;
        let store = self.clone();
        let _ = tokio::task::spawn_blocking(move || store.log_audit_head()).await;
        mixed
    }

    /// [`Store::mix`] without the log line (the stop writes its own).
    async fn mix_only(&self) -> Result<mix::Mixed, StoreError> {
        let _one = self.0.mixing.lock().await;
        let today = time::OffsetDateTime::now_utc().date();
        let period = times::day_string(times::period_start(self.0.precision, today));
        let mut mixed = mix::Mixed::default();
        // A rebuild a kill interrupted leaves its copy and triggers: gone first.
        self.write(|c| {
            for inbox in mix::REBUILT {
                mix::abandon_rebuild(c, &inbox)?;
            }
            Ok(())
        })
        .await?;
        loop {
            let period = period.clone();
            let (more, moved) = self
                .write(move |c| mix::flush_audit_chunk(c, &period))
                .await?;
            mixed.moved += moved;
            if !more {
                break;
            }
        }
        for inbox in mix::INBOXES {
            loop {
                let period = period.clone();
                let (more, moved) = self
                    .write(move |c| mix::move_chunk(c, &inbox, &period))
                    .await?;
                mixed.moved += moved;
                if !more {
                    break;
                }
            }
        }
        // Taken before the rebuild starts: a sender who writes during it is
        // mixed again next time.
        let unmixed = self.0.unmixed.swap(false, Ordering::AcqRel);
        if unmixed || mixed.moved > 0 {
            for inbox in mix::REBUILT {
                match self.rebuild(inbox).await {
                    Ok(rows) => mixed.rebuilt += rows,
                    Err(e) => {
                        self.0.unmixed.store(true, Ordering::Release);
                        let _ = self.write(move |c| mix::abandon_rebuild(c, &inbox)).await;
                        return Err(e);
                    }
                }
            }
        }
        for _ in 0..100 {
            if self.alone(truncate_wal).await? {
                self.0.truncated.store(true, Ordering::Release);
                return Ok(mixed);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        tracing::error!(
            "the WAL could not be truncated: readers held it for seconds; the next mix tries again"
        );
        self.0.unmixed.store(true, Ordering::Release);
        Ok(mixed)
    }

    async fn rebuild(&self, inbox: mix::Inbox) -> Result<u64, StoreError> {
        self.write(move |c| {
            mix::abandon_rebuild(c, &inbox)?;
            mix::begin_rebuild(c, &inbox)
        })
        .await?;
        while self.write(move |c| mix::copy_chunk(c, &inbox)).await?.0 {}
        // What changed during the copy, a chunk at a time, so that the
        // swap's own transaction holds only the last chunk's changes. Bounded:
        // senders who keep changing rows faster than this copies them would
        // otherwise keep the mix from ending (the swap then takes the rest).
        for _ in 0..CATCH_UP_ROUNDS {
            if !self.write(move |c| mix::catch_up_chunk(c, &inbox)).await?.0 {
                break;
            }
        }
        let rows = self.write(move |c| mix::finish_rebuild(c, &inbox)).await?;
        while self.write(move |c| mix::clear_old_chunk(c, &inbox)).await? {}
        Ok(rows)
    }

    /// Runs `f` on a read-only connection, off the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(f))
            .await
            .map_err(|_| StoreError::Unavailable)?
    }

    /// Runs `f` on a read-only connection on the calling thread.
    pub fn read_blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T>,
    {
        let pooled = self.0.readers.lock().ok().and_then(|mut r| r.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&self.0.path)?,
        };
        let result = f(&conn);
        // A look-up's moment must not stay in the files' access times.
        self.0.times.settle_after_read(&self.0.path);
        if let Ok(mut readers) = self.0.readers.lock() {
            if readers.len() < READERS_KEPT {
                readers.push(conn);
            }
        }
        Ok(result?)
    }

    /// Records that `reviewer` used TOTP time step `step`; `false` if that step
    /// or a later one was used before. Kept in the database, so a restart does
    /// not reopen the replay window.
    pub async fn claim_totp_step(&self, reviewer: &str, step: u64) -> Result<bool, StoreError> {
        let reviewer = reviewer.to_owned();
        self.write(move |c| claim_step(c, &reviewer, step)).await
    }

    /// Mixes what arrived (see [`Store::mix`]), writes the head of the audit
    /// chain to the log, then stops accepting writes, lets the writer commit
    /// what it holds, and waits for it.
    pub async fn close_mixed(&self) {
        self.0.truncated.store(false, Ordering::Release);
        match self.mix_only().await {
            // Nothing can arrive any more: the next start need not rebuild.
            Ok(_) if self.0.truncated.load(Ordering::Acquire) => {
                let noted = self.write(mix::mark_mixed).await;
                // And that one write leaves the WAL too.
                if let Err(e) = noted.and(self.alone(truncate_wal).await.map(|_| ())) {
                    tracing::warn!(error = %e, "the clean stop could not be noted; the next start mixes again");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "the mix at shutdown failed; the next start mixes again")
            }
        }
        let closing = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            closing.log_audit_head();
            closing.close();
        })
        .await;
    }

    /// Stops accepting writes, lets the writer commit what it holds, and waits for it.
    pub fn close(&self) {
        // Readers first: the writer's connection closes last, so SQLite
        // checkpoints the WAL and removes it (a read-only one cannot).
        if let Ok(mut readers) = self.0.readers.lock() {
            readers.clear();
        }
        if let Ok(mut sender) = self.0.sender.lock() {
            sender.take();
        }
        let handle = self.0.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.join();
            // Closing removed the WAL and the shared memory, which moved the
            // folder's time to the moment of the stop.
            self.0.times.settle();
        }
    }

    /// The Unix time of the last `signaal backup`, if one was made.
    pub async fn last_backup(&self) -> Result<Option<i64>, StoreError> {
        self.read(|c| {
            let value: Option<Vec<u8>> = c
                .query_row(
                    "SELECT value FROM meta WHERE key = 'last_backup'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(value
                .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
                .map(i64::from_be_bytes))
        })
        .await
    }

    /// Runs SQLite's integrity check; `Ok(())` when it says "ok".
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.read_blocking(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect()
        })
    }
}

/// Makes the database and its WAL and shared-memory files readable by their
/// The database file `db`, its WAL and its shared memory, in that order.
pub fn database_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [db.to_owned(), with("-wal"), with("-shm")]
}

/// owner only: a new database is created empty with mode 0600 (SQLite keeps
/// the mode, and gives it to the WAL and the shared memory), and files an
/// older signaal left more open are closed to others.
fn owner_only(db: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !db.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(db)?;
    }
    for path in database_files(db) {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// [`Store::claim_totp_step`] inside a write.
fn claim_step(c: &Connection, reviewer: &str, step: u64) -> rusqlite::Result<bool> {
    let key = format!("totp_last_step/{reviewer}");
    let last: Option<Vec<u8>> = c
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?;
    let last = last
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes);
    if last.is_some_and(|l| step <= l) {
        return Ok(false);
    }
    c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute(params![key, step.to_be_bytes().as_slice()])?;
    Ok(true)
}

fn prepare_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    let err = |reason: String| StoreError::DataDir {
        path: dir.to_owned(),
        reason,
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                err(format!(
                    "cannot create it ({}); create it or fix SIGNAAL_DATA_DIR",
                    e.kind()
                ))
            })?;
    }
    // Prove it is writable before promising anyone a receipt.
    let probe = dir.join(".signaal-write-probe");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            err(format!(
                "it is not writable ({}); give the signaal user write access",
                e.kind()
            ))
        })
}

/// How long the writer waits for another process's write lock.
const WRITER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Savepoint journals and sorts stay in memory: no temp file ever holds a
    // copy of a page, and a group commit writes no page twice.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // 16 MiB of page cache (the default is 2 MiB), so inserting at random
    // places in the tables rarely has to read a page back from the file.
    conn.pragma_update(None, "cache_size", -16384)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Most chunks of rows changed during a rebuild's copy that are copied again
/// before the swap (see [`Store::rebuild`]).
const CATCH_UP_ROUNDS: usize = 4096;

/// Checkpoints the WAL and truncates it to nothing, so that no frame of an
/// earlier generation stays in the file. Waits (the busy timeout) for readers.
/// `Ok(false)` if a reader held it: the writer is never kept waiting for
/// long, and the caller tries again a little later.
fn truncate_wal(conn: &mut Connection) -> Result<bool, StoreError> {
    conn.busy_timeout(std::time::Duration::from_millis(50))?;
    let outcome = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
    Ok(outcome? == 0)
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// A random positive `rowid`, so the physical order of rows says nothing about
/// when they arrived. 63 random bits: a collision is not a practical concern (and
/// would fail the insert, never overwrite).
pub fn random_rowid() -> i64 {
    i64::from_le_bytes(crate::crypto::random_bytes::<8>()) & i64::MAX
}

#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::Store;
    use super::signals::NewSignal;

    /// A store in a fresh folder holding one signal per day in `days`.
    pub async fn store_with(days: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (i, day) in days.iter().enumerate() {
            let mut tag = [0u8; 32];
            tag[..8].copy_from_slice(&(i as u64).to_be_bytes());
            store
                .insert_signal(NewSignal {
                    id: crate::crypto::random_id(),
                    received_on: (*day).to_owned(),
                    lookup_tag: tag,
                    source_recipient: String::new(),
                    format: crate::crypto::FORMAT_AGE_X25519,
                    envelope: vec![0; 8],
                })
                .await
                .unwrap();
        }
        (dir, store)
    }
}
