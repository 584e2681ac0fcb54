//! The one writer: a thread that owns the only writable connection and commits
//! what requests hand it in groups, so one fsync acknowledges many signals.
//!
//! Invariant: a job's `done` is answered `Ok` only after the transaction that
//! holds its write has committed (WAL, `synchronous=FULL`), so a receipt is
//! never shown for a signal that a crash could still lose. After every commit
//! the data files' times are set back to the start of the day.

use std::collections::VecDeque;
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StoreError;
use super::times::FileTimes;

/// Most jobs committed in one transaction.
const MAX_GROUP: usize = 256;

/// A write to run inside a group transaction.
pub(super) type WriteFn = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

/// Work that needs the connection outside any transaction (a checkpoint).
pub(super) type AloneFn = Box<dyn FnOnce(&mut Connection) + Send>;

/// Where a job's outcome is told.
type Done = oneshot::Sender<Result<(), StoreError>>;

/// A unit of work for the writer.
pub(super) struct Job {
    /// Runs inside the group's transaction, under its own savepoint.
    pub run: WriteFn,
    /// Told the outcome once the group has committed (or failed).
    pub done: Done,
}

/// What the writer is handed.
pub(super) enum Work {
    /// A write, committed with its group.
    Write(Job),
    /// Work run on its own between groups (it answers through its closure).
    Alone(AloneFn),
}

/// Runs until every sender is dropped, then returns (after the last commit).
pub(super) fn run(
    mut conn: Connection,
    work: mpsc::Receiver<Work>,
    times: FileTimes,
    db: std::path::PathBuf,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut pending_alone = None;
    while let Ok(first) = work.recv() {
        match first {
            Work::Write(job) => group.push(job),
            Work::Alone(f) => pending_alone = Some(f),
        }
        while pending_alone.is_none() && group.len() < MAX_GROUP {
            match work.try_recv() {
                Ok(Work::Write(job)) => group.push(job),
                Ok(Work::Alone(f)) => pending_alone = Some(f),
                Err(_) => break,
            }
        }
        if !group.is_empty() {
            commit_group(&mut conn, &mut group);
        }
        match pending_alone.take() {
            // A checkpoint may truncate or remove files: the whole folder.
            Some(f) => {
                f(&mut conn);
                times.settle();
            }
            None => times.settle_after_commit(&db),
        }
    }
    tracing::debug!("writer drained");
}

fn commit_group(conn: &mut Connection, group: &mut Vec<Job>) {
    let mut pending: VecDeque<Job> = group.drain(..).collect();
    while !pending.is_empty() {
        commit_some(conn, &mut pending);
    }
}

/// Runs jobs from the front of `pending` in one transaction and commits them.
/// When SQLite rolls the whole transaction back by itself (as it may on
/// `SQLITE_FULL`, an I/O error or lack of memory), the jobs already run in it
/// are answered "nothing was kept", the failed one gets its error, and the
/// rest stay in `pending` for a new transaction: without that check they would
/// run in autocommit mode, be kept one by one, and then be told they were not.
fn commit_some(conn: &mut Connection, pending: &mut VecDeque<Job>) {
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a write transaction");
            for job in pending.drain(..) {
                let _ = job.done.send(Err(StoreError::Unavailable));
            }
            return;
        }
    };
    let mut outcomes: Vec<(Done, Result<(), StoreError>)> = Vec::with_capacity(pending.len());
    while let Some(job) = pending.pop_front() {
        let outcome = run_job(&tx, job.run);
        if outcome.is_err() && tx.is_autocommit() {
            tracing::error!(
                "a write failed and took its group transaction with it; nothing in it was kept"
            );
            for (done, _) in outcomes {
                let _ = done.send(Err(StoreError::Unavailable));
            }
            let _ = job.done.send(outcome);
            return;
        }
        outcomes.push((job.done, outcome));
    }
    match tx.commit() {
        Ok(()) => {
            for (done, outcome) in outcomes {
                let _ = done.send(outcome);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "a group commit failed; nothing in it was kept");
            crate::summary::note(crate::summary::Event::CommitFailed);
            // The WAL is emptied before anyone is told: a crash between the
            // answer and the emptying would bring back a signal whose sender
            // was told that nothing was kept.
            forget_failed_commit(conn);
            for (done, _) in outcomes {
                let _ = done.send(Err(StoreError::Unavailable));
            }
        }
    }
}

/// Runs one job under its own savepoint, so that one bad write does not take
/// its neighbours down.
fn run_job(tx: &Connection, run: WriteFn) -> Result<(), StoreError> {
    tx.execute_batch("SAVEPOINT job")?;
    match run(tx) {
        Ok(()) => Ok(tx.execute_batch("RELEASE job")?),
        Err(e) => {
            // Unless SQLite already rolled the whole transaction back.
            if !tx.is_autocommit() {
                tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
            }
            Err(e.into())
        }
    }
}

/// A commit whose WAL sync failed has left its frames in the WAL file; they
/// are not part of the database, but the recovery after a crash would read
/// them back and keep signals whose senders were told nothing was kept.
/// Checkpointing with TRUNCATE empties the WAL, so they are gone; if even
/// that fails, the next commit overwrites them.
fn forget_failed_commit(conn: &Connection) {
    let emptied = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    match emptied {
        Ok(0) => tracing::info!("the WAL was emptied after the failed commit"),
        Ok(_) => tracing::error!("the WAL could not be emptied after the failed commit (busy)"),
        Err(e) => {
            tracing::error!(error = %e, "the WAL could not be emptied after the failed commit")
        }
    }
}
