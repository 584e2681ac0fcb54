//! The one writer: a thread that owns the only writable connection and commits
//! what requests hand it in groups, so one fsync acknowledges many signals.
//!
//! Invariant: a job's `done` is answered `Ok` only after the transaction that
//! holds its write has committed (WAL, `synchronous=FULL`), so a receipt is
//! never shown for a signal that a crash could still lose.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StoreError;

/// Most jobs committed in one transaction.
const MAX_GROUP: usize = 256;

/// A write to run inside a group transaction.
pub(super) type WriteFn = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

/// A unit of work for the writer.
pub(super) struct Job {
    /// Runs inside the group's transaction, under its own savepoint.
    pub run: WriteFn,
    /// Told the outcome once the group has committed (or failed).
    pub done: oneshot::Sender<Result<(), StoreError>>,
}

/// Runs until every sender is dropped, then returns (after the last commit).
pub(super) fn run(mut conn: Connection, jobs: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = jobs.recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, &mut group);
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
