//! The one writer: a thread that owns the only writable connection and commits
//! what requests hand it in groups, so one fsync acknowledges many signals.
//!
//! Invariant: a job's `done` is answered `Ok` only after the transaction that
//! holds its write has committed (WAL, `synchronous=FULL`), so a receipt is
//! never shown for a signal that a crash could still lose. After every commit
//! the data files' times are set back to the start of the day.

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

/// A unit of work for the writer.
pub(super) struct Job {
    /// Runs inside the group's transaction, under its own savepoint.
    pub run: WriteFn,
    /// Told the outcome once the group has committed (or failed).
    pub done: oneshot::Sender<Result<(), StoreError>>,
}

/// What the writer is handed.
pub(super) enum Work {
    /// A write, committed with its group.
    Write(Job),
    /// Work run on its own between groups (it answers through its closure).
    Alone(AloneFn),
}

/// Runs until every sender is dropped, then returns (after the last commit).
pub(super) fn run(mut conn: Connection, work: mpsc::Receiver<Work>, times: FileTimes) {
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
        if let Some(f) = pending_alone.take() {
            f(&mut conn);
        }
        times.settle();
    }
    tracing::debug!("writer drained");
}

fn commit_group(conn: &mut Connection, group: &mut Vec<Job>) {
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a write transaction");
            for job in group.drain(..) {
                let _ = job.done.send(Err(StoreError::Unavailable));
            }
            return;
        }
    };
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group.drain(..) {
        // A savepoint per job: one bad write does not take its neighbours down.
        let outcome = tx
            .execute_batch("SAVEPOINT job")
            .and_then(|()| match (job.run)(&tx) {
                Ok(()) => tx.execute_batch("RELEASE job"),
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
                    Err(e)
                }
            })
            .map_err(StoreError::from);
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
            for (done, _) in outcomes {
                let _ = done.send(Err(StoreError::Unavailable));
            }
        }
    }
}
