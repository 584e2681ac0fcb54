//! `signaal keys rewrap --reviewer NAME`: re-encrypts every stored envelope to
//! the recipients now in `team.pub` (plus, for a signal and its messages, the
//! sender's own recipient), so a reviewer removed from `team.pub` can no
//! longer open anything, old signals included.
//!
//! Invariants:
//! - Each envelope is replaced in its own transaction, and only if it is still
//!   the one that was opened (compare and swap), so at every moment every row
//!   holds a complete envelope that the new team can open; an interruption
//!   loses nothing.
//! - Progress is kept in `meta` under [`PROGRESS_KEY`], tied to a digest of
//!   the recipient set, so a second run after an interruption continues where
//!   the first stopped; a changed `team.pub` starts over.
//! - The plaintext of one envelope lives in a wiped buffer between opening and
//!   resealing; the unlocked identity is dropped (and wiped) when the run ends.

use std::path::Path;

use age::x25519;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::{OpsError, open_db};
use crate::audit::append_named;
use crate::crypto;
use crate::keys::TeamKeys;
use crate::store::DB_FILE;

/// Where the position of an interrupted run is kept.
pub const PROGRESS_KEY: &str = "rewrap_progress";

/// A table of envelopes. Adding a table of envelopes is one entry in [`TABLES`].
struct Sealed {
    /// The table's name, as kept in the progress marker.
    table: &'static str,
    /// The next row after `?1` in id order: `(id, envelope, source recipient or NULL)`.
    next: &'static str,
    /// Replaces the envelope of `?1` by `?2` if it is still `?3`.
    swap: &'static str,
}

/// Every table that holds envelopes, in the order they are rewrapped: each
/// inbox before its main table, as the mix moves rows that way (a row moved
/// during a run is then met again, never missed).
const TABLES: &[Sealed] = &[
    Sealed {
        table: "inbox_signals",
        next: "SELECT id, envelope, source_recipient FROM inbox_signals
               WHERE id > ?1 ORDER BY id LIMIT 1",
        swap: "UPDATE inbox_signals SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "signals",
        next: "SELECT id, envelope, source_recipient FROM signals
               WHERE id > ?1 ORDER BY id LIMIT 1",
        swap: "UPDATE signals SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "inbox_messages",
        next: "SELECT m.id, m.envelope, s.source_recipient FROM inbox_messages m
               JOIN all_signals s ON s.id = m.signal_id
               WHERE m.id > ?1 ORDER BY m.id LIMIT 1",
        swap: "UPDATE inbox_messages SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "messages",
        next: "SELECT m.id, m.envelope, s.source_recipient FROM messages m
               JOIN all_signals s ON s.id = m.signal_id
               WHERE m.id > ?1 ORDER BY m.id LIMIT 1",
        swap: "UPDATE messages SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "notes",
        next: "SELECT id, envelope, NULL FROM notes WHERE id > ?1 ORDER BY id LIMIT 1",
        swap: "UPDATE notes SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "hardships",
        next: "SELECT id, envelope, NULL FROM hardships WHERE id > ?1 ORDER BY id LIMIT 1",
        swap: "UPDATE hardships SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "measures",
        next: "SELECT id, envelope, NULL FROM measures WHERE id > ?1 ORDER BY id LIMIT 1",
        swap: "UPDATE measures SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
    Sealed {
        table: "measure_statuses",
        next: "SELECT id, envelope, NULL FROM measure_statuses WHERE id > ?1 ORDER BY id LIMIT 1",
        swap: "UPDATE measure_statuses SET envelope = ?2 WHERE id = ?1 AND envelope = ?3",
    },
];

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// Envelopes re-encrypted in this run.
    pub rewrapped: u64,
    /// Envelopes this reviewer's identity cannot open (left as they were).
    pub not_openable: u64,
    /// Whether this run continued an interrupted one.
    pub resumed: bool,
}

/// Rewraps every envelope in the database of `data_dir` to `team`, opening
/// each with `identity`. `reviewer` names the run in the audit log.
pub fn rewrap(
    data_dir: &Path,
    team: &TeamKeys,
    identity: &x25519::Identity,
    reviewer: &str,
) -> Result<Rewrapped, OpsError> {
    let mut conn = open_db(&data_dir.join(DB_FILE))?;
    let set = recipient_set_digest(team);
    let mut done = Rewrapped::default();
    let start = read_progress(&conn, &set)?;
    done.resumed = start.is_some();
    let (first_table, skipped_before, mut after) = start.unwrap_or((0, 0, String::new()));
    done.not_openable = skipped_before;
    for (index, sealed) in TABLES.iter().enumerate().skip(first_table) {
        if index != first_table {
            after.clear();
        }
        while let Some((id, envelope, source)) = next_row(&conn, sealed, &after)? {
            let fresh = reseal(&envelope, source.as_deref(), team, identity);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match fresh {
                // 0 rows: the row was purged or replaced meanwhile; nothing to count.
                Some(fresh) => {
                    let changed = tx.execute(sealed.swap, params![id, fresh, envelope])?;
                    done.rewrapped += changed as u64;
                }
                None => done.not_openable += 1,
            }
            write_progress(&tx, &set, sealed.table, done.not_openable, &id)?;
            tx.commit()?;
            after = id;
        }
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM meta WHERE key = ?1", params![PROGRESS_KEY])?;
    let detail = format!(
        "rewrap to {} team recipients by {reviewer}: {} rewrapped, {} not openable",
        team.recipients.len(),
        done.rewrapped,
        done.not_openable
    );
    append_named(&tx, &super::command_line_actor(), "rewrap", None, &detail)?;
    tx.commit()?;
    // The old envelopes were overwritten in place (secure_delete); move the
    // WAL's copies of them out too.
    super::purge::scrub(&conn)?;
    Ok(done)
}

/// Opens `envelope` with `identity` and seals the plaintext again to the team
/// (and `source`, the sender's recipient, if any). `None` if it does not open.
fn reseal(
    envelope: &[u8],
    source: Option<&str>,
    team: &TeamKeys,
    identity: &x25519::Identity,
) -> Option<Vec<u8>> {
    let plain = crypto::open(envelope, &[identity as &dyn age::Identity]).ok()?;
    let source = match source {
        Some(text) => Some(crypto::parse_recipient(text)?),
        None => None,
    };
    // `plain` is a Zeroizing buffer: wiped when it goes out of scope here.
    crypto::seal_for(&plain, &team.recipients, source.as_ref()).ok()
}

/// A row to rewrap: id, envelope, and the sender's recipient if it has one.
type Row = (String, Vec<u8>, Option<String>);

fn next_row(conn: &Connection, sealed: &Sealed, after: &str) -> Result<Option<Row>, OpsError> {
    Ok(conn
        .query_row(sealed.next, params![after], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

/// A digest of the sorted recipient set, so progress made for another set is
/// not trusted.
fn recipient_set_digest(team: &TeamKeys) -> String {
    let mut all: Vec<String> = team.recipients.iter().map(ToString::to_string).collect();
    all.sort();
    let mut hash = Sha256::new();
    for r in &all {
        hash.update(r.as_bytes());
        hash.update(b"\n");
    }
    data_encoding::HEXLOWER.encode(&hash.finalize())
}

/// The progress marker: `digest table not-openable-so-far id`; returns the
/// table's index in [`TABLES`], the count, and the last id done.
fn read_progress(conn: &Connection, set: &str) -> Result<Option<(usize, u64, String)>, OpsError> {
    let value: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![PROGRESS_KEY],
            |r| r.get(0),
        )
        .optional()?;
    let Some(value) = value else { return Ok(None) };
    let text = String::from_utf8_lossy(&value);
    let mut parts = text.splitn(4, ' ');
    let (Some(digest), Some(table), Some(skipped), Some(id)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    if digest != set {
        return Ok(None);
    }
    let (Some(index), Ok(skipped)) = (
        TABLES.iter().position(|t| t.table == table),
        skipped.parse(),
    ) else {
        return Ok(None);
    };
    Ok(Some((index, skipped, id.to_owned())))
}

fn write_progress(
    conn: &Connection,
    set: &str,
    table: &str,
    not_openable: u64,
    id: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![
            PROGRESS_KEY,
            format!("{set} {table} {not_openable} {id}").into_bytes()
        ],
    )?;
    Ok(())
}

/// Unlocks `keys/reviewers/NAME.age` with `passphrase`. Also says whether its
/// recipient is still in `team.pub`: when a shared team key is replaced, the
/// old key (no longer listed) is the one that opens the stored envelopes.
pub fn unlock(
    keys_dir: &Path,
    team: &TeamKeys,
    name: &str,
    passphrase: &str,
) -> Result<(x25519::Identity, bool), OpsError> {
    let path = crate::keys::reviewer_path(keys_dir, name);
    let file = std::fs::read(&path)
        .map_err(|e| OpsError::Unlock(format!("cannot read {} ({})", path.display(), e.kind())))?;
    let identity = crypto::unwrap_identity(&file, passphrase).map_err(|_| {
        OpsError::Unlock(format!(
            "{} does not open with that passphrase",
            path.display()
        ))
    })?;
    let mine = identity.to_public().to_string();
    let listed = team.recipients.iter().any(|r| r.to_string() == mine);
    Ok((identity, listed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn team(n: usize) -> TeamKeys {
        TeamKeys {
            recipients: (0..n)
                .map(|_| x25519::Identity::generate().to_public())
                .collect(),
            demo: false,
        }
    }

    fn meta() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            .unwrap();
        conn
    }

    #[test]
    fn progress_is_kept_per_recipient_set_and_per_table() {
        let conn = meta();
        let (one, other) = (team(2), team(2));
        let set = recipient_set_digest(&one);
        write_progress(&conn, &set, "messages", 3, "abc").unwrap();
        assert_eq!(
            read_progress(&conn, &set).unwrap(),
            Some((
                TABLES.iter().position(|t| t.table == "messages").unwrap(),
                3,
                "abc".to_owned()
            ))
        );
        let changed = recipient_set_digest(&other);
        assert_eq!(read_progress(&conn, &changed).unwrap(), None);
        write_progress(&conn, &set, "no_such_table", 0, "abc").unwrap();
        assert_eq!(read_progress(&conn, &set).unwrap(), None);
    }

    #[test]
    fn the_set_digest_ignores_the_order_of_team_pub() {
        let mut t = team(3);
        let a = recipient_set_digest(&t);
        t.recipients.reverse();
        assert_eq!(a, recipient_set_digest(&t));
    }

    #[test]
    fn a_resealed_envelope_opens_for_the_new_team_and_the_sender_only() {
        let (old, new, sender) = (
            x25519::Identity::generate(),
            x25519::Identity::generate(),
            x25519::Identity::generate(),
        );
        let env = crypto::seal(b"{}", &[&old.to_public(), &sender.to_public()]).unwrap();
        let team = TeamKeys {
            recipients: vec![new.to_public()],
            demo: false,
        };
        let source = sender.to_public().to_string();
        let fresh = reseal(&env, Some(&source), &team, &old).unwrap();
        assert!(crypto::open(&fresh, &[&new]).is_ok());
        assert!(crypto::open(&fresh, &[&sender]).is_ok());
        assert!(crypto::open(&fresh, &[&old]).is_err());
        assert!(
            reseal(&env, None, &team, &new).is_none(),
            "new cannot open the old one"
        );
    }
}
