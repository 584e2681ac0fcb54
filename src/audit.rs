//! The audit chain: the format, hashing, appending and checking of the
//! hash-chained log in which every login, unlock, decryption, triage change,
//! note, message, search, export and report is written. It sits below the
//! store and both faces: the store appends through it inside its writer, the
//! review face names what it did with [`Action`] and [`Entry`], and the
//! operator commands check the chain with [`verify`]. It knows no face, no
//! page and no key.
//!
//! Invariant: a row holds who, what, which signal id and when — never signal
//! content, never a passphrase or code. Each row stores the SHA-256 of its own
//! canonical bytes, and those bytes include the previous row's hash, so changing,
//! removing or reordering any row breaks the chain from that row on.
//! Rows are appended only inside the store's single writer, so the chain has no
//! forks.
//!
//! The chain alone cannot tell a rewrite that re-hashes every later row, or
//! the last rows cut off, from the real thing: its [`Head`] is therefore
//! copied out of the database (the log at every mix and stop, a file beside
//! every backup, which goes off-site with it), and [`verify`] with pinned
//! heads ([`Pin`]: as many as are kept, checked in the same single pass over
//! the table) checks that the chain still holds each very row: everything
//! up to a pinned head can be neither removed nor rewritten unseen.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// The hash standing before the first row.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What a reviewer (or the system) did; written as its `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// A successful login (identity unlocked, second factor accepted).
    Login,
    /// A refused login; the detail says which check failed, never the input.
    LoginFailed,
    /// A logout or an expired session.
    Logout,
    /// A signal was decrypted to be shown.
    View,
    /// Status, domain, origin, labels or assignee changed.
    Triage,
    /// An internal note was added.
    Note,
    /// A message to the sender was written.
    Message,
    /// A decrypt-and-scan search ran.
    Search,
    /// Envelopes were exported.
    Export,
    /// The aggregate report was made.
    Report,
    /// The sender withdrew their signal with its code (kept with its day only).
    Withdrawn,
    /// Signals were decrypted for the queue: their snippets shown, or the
    /// sender's choice of domain read for a filter; the detail names them.
    Glance,
    /// A hardship was created; the detail names it.
    HardshipNew,
    /// A hardship's sealed texts were decrypted (its page, the list, the
    /// titles offered on a signal's page); the detail names which.
    HardshipView,
    /// A signal was linked to a hardship.
    Link,
    /// A signal was unlinked from a hardship.
    Unlink,
    /// A course of action or measure was added under a hardship.
    Measure,
    /// A measure's status changed.
    MeasureStatus,
    /// A hardship's public texts were published (or published again).
    Publish,
    /// A hardship's publication was taken back.
    Unpublish,
    /// The annual report "Hardheden en oplossingen" was written; the detail
    /// says the year, the format and whether unpublished hardships were in it.
    HardshipReport,
}

impl Action {
    /// The stable name stored in the row.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login-failed",
            Self::Logout => "logout",
            Self::View => "view",
            Self::Triage => "triage",
            Self::Note => "note",
            Self::Message => "message",
            Self::Search => "search",
            Self::Export => "export",
            Self::Report => "report",
            Self::Withdrawn => "withdrawn",
            Self::Glance => "glance",
            Self::HardshipNew => "hardship-new",
            Self::HardshipView => "hardship-view",
            Self::Link => "link",
            Self::Unlink => "unlink",
            Self::Measure => "measure",
            Self::MeasureStatus => "measure-status",
            Self::Publish => "publish",
            Self::Unpublish => "unpublish",
            Self::HardshipReport => "hardship-report",
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The reviewer's name (or the name someone tried to log in with).
    pub actor: String,
    /// What happened.
    pub action: Action,
    /// The signal concerned, if one.
    pub signal_id: Option<String>,
    /// Plain metadata (a changed field, a count) — never content.
    pub detail: String,
}

impl Entry {
    /// An entry about one signal.
    pub fn on(actor: &str, action: Action, signal_id: &str, detail: impl Into<String>) -> Self {
        Self {
            actor: actor.to_owned(),
            action,
            signal_id: Some(signal_id.to_owned()),
            detail: detail.into(),
        }
    }

    /// An entry about no particular signal.
    pub fn general(actor: &str, action: Action, detail: impl Into<String>) -> Self {
        Self {
            actor: actor.to_owned(),
            action,
            signal_id: None,
            detail: detail.into(),
        }
    }
}

/// A stored row, as read back.
#[derive(Debug, Clone)]
pub struct Row {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// UTC time, RFC 3339 to the second.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which signal.
    pub signal_id: Option<String>,
    /// Metadata.
    pub detail: String,
    /// The previous row's hash.
    pub prev_hash: Vec<u8>,
    /// This row's hash.
    pub hash: Vec<u8>,
}

/// The bytes a row's hash is taken over: a version tag, then each field
/// length-prefixed so no two different rows share them.
pub fn canonical(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    signal_id: Option<&str>,
    detail: &str,
    prev_hash: &[u8],
) -> Vec<u8> {
    let seq = seq.to_string();
    let fields: [&[u8]; 7] = [
        seq.as_bytes(),
        at.as_bytes(),
        actor.as_bytes(),
        action.as_bytes(),
        signal_id.unwrap_or("").as_bytes(),
        detail.as_bytes(),
        prev_hash,
    ];
    let mut out = b"signaal-audit-v1\0".to_vec();
    for f in fields {
        out.extend_from_slice(&(f.len() as u64).to_be_bytes());
        out.extend_from_slice(f);
    }
    out.push(u8::from(signal_id.is_some()));
    out
}

fn hash_of(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Now, in UTC, as the rows store it.
pub fn now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Appends `entry` to the chain. Call only from inside a store write (the
/// writer thread, or a transaction that holds the write lock), so two appends
/// never read the same previous row.
pub fn append(conn: &Connection, entry: &Entry) -> rusqlite::Result<()> {
    append_named(
        conn,
        &entry.actor,
        entry.action.as_str(),
        entry.signal_id.as_deref(),
        &entry.detail,
    )
}

/// Appends a row whose action is not one of [`Action`] (system operations
/// such as a retention purge or a key rewrap name their own), under the same
/// rules as [`append`].
pub fn append_named(
    conn: &Connection,
    actor: &str,
    action: &str,
    signal_id: Option<&str>,
    detail: &str,
) -> rusqlite::Result<()> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_vec()),
    };
    let at = now();
    let hash = hash_of(&canonical(
        seq, &at, actor, action, signal_id, detail, &prev,
    ));
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, signal_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq,
        at,
        actor,
        action,
        signal_id,
        detail,
        prev,
        hash.as_slice()
    ])?;
    Ok(())
}

/// The head of the chain: the place and hash of its last row, as it is
/// copied out of the database to pin the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last row's `seq` (0 for an empty log).
    pub seq: i64,
    /// Its hash, hex (the genesis hash for an empty log).
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}, sha256 {}", self.seq, self.hash)
    }
}

/// The head of the chain as stored (not checked: see [`verify`]).
pub fn head(conn: &Connection) -> rusqlite::Result<Head> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, hash) = last.unwrap_or((0, GENESIS.to_vec()));
    Ok(Head {
        seq,
        hash: data_encoding::HEXLOWER.encode(&hash),
    })
}

/// A head the chain must still hold: a hash, and with it the row it was the
/// head at when the row is known (a head file names it; a bare `--head` hash
/// does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// The row the head was at, if known.
    pub seq: Option<i64>,
    /// That row's hash.
    pub hash: [u8; 32],
}

impl Pin {
    /// A head as the operator gives it: 64 hex digits, optionally after
    /// `sha256 ` (as the log and the backup's `.head` file write it). The row
    /// is not known.
    pub fn from_hash(text: &str) -> Option<Self> {
        parse_pin(text).map(|hash| Self { seq: None, hash })
    }

    /// A head as [`Head`]'s `Display` writes it after `audit head: ` (the
    /// line of a `.head` file): `row N, sha256 HEX`, surrounding whitespace
    /// allowed, nothing else.
    pub fn from_line(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix("audit head: ")?;
        let (row, hex) = rest.strip_prefix("row ")?.split_once(", sha256 ")?;
        let seq: i64 = row.parse().ok().filter(|n| *n >= 0)?;
        let hash = data_encoding::HEXLOWER
            .decode(hex.to_ascii_lowercase().as_bytes())
            .ok()?
            .try_into()
            .ok()?;
        Some(Self {
            seq: Some(seq),
            hash,
        })
    }

    /// Whether row `seq` with hash `hash` is this head.
    fn is(&self, seq: i64, hash: &[u8]) -> bool {
        self.hash.as_slice() == hash && self.seq.is_none_or(|s| s == seq)
    }
}

/// A pinned head as the operator gives it: 64 hex digits, optionally after
/// `sha256 ` (as the log and the backup's `.head` file write it).
pub fn parse_pin(text: &str) -> Option<[u8; 32]> {
    let hex = text.trim();
    let hex = hex.rsplit(' ').next().unwrap_or(hex).to_ascii_lowercase();
    data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .ok()?
        .try_into()
        .ok()
}

/// What checking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row links to the one before and hashes to what it says.
    Intact {
        /// Rows checked.
        rows: u64,
        /// The last row's hash (hex), or the genesis hash for an empty log.
        /// Written down elsewhere (a ticket, the backup log), it pins the
        /// chain: someone who rewrites the table cannot reproduce it.
        head: String,
    },
    /// Every row links, but some pinned heads are not among them: rows up to
    /// each were removed, or rewritten and re-hashed.
    Unpinned {
        /// Rows checked.
        rows: u64,
        /// The places in the pins given to [`verify`] of those not held, in order.
        missing: Vec<usize>,
    },
    /// The first row where the chain does not hold.
    Broken {
        /// That row's `seq`.
        seq: i64,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Reads the whole chain in order, once, and checks every link; and that
/// the chain holds each of `pins` (heads copied out of the database earlier):
/// a row with that hash, at that row when the pin names it. The genesis hash
/// at row 0 (the head of an empty log) is held by every chain.
pub fn verify(conn: &Connection, pins: &[Pin]) -> rusqlite::Result<Verdict> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, signal_id, detail, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_vec();
    let mut expected_seq = 1i64;
    let mut count = 0u64;
    let mut held: Vec<bool> = pins.iter().map(|p| p.is(0, &GENESIS)).collect();
    // The pins by hash: one look-up per row, however many heads are kept.
    let mut by_hash: std::collections::HashMap<[u8; 32], Vec<usize>> =
        std::collections::HashMap::new();
    for (i, pin) in pins.iter().enumerate() {
        by_hash.entry(pin.hash).or_default().push(i);
    }
    while let Some(r) = rows.next()? {
        let row = read_row(r)?;
        if row.seq != expected_seq {
            return Ok(Verdict::Broken {
                seq: row.seq,
                reason: "a row before it is missing (sequence gap)",
            });
        }
        if row.prev_hash != expected_prev {
            return Ok(Verdict::Broken {
                seq: row.seq,
                reason: "it does not link to the previous row",
            });
        }
        let computed = hash_of(&canonical(
            row.seq,
            &row.at,
            &row.actor,
            &row.action,
            row.signal_id.as_deref(),
            &row.detail,
            &row.prev_hash,
        ));
        if computed.as_slice() != row.hash.as_slice() {
            return Ok(Verdict::Broken {
                seq: row.seq,
                reason: "its content does not match its hash",
            });
        }
        for &i in by_hash
            .get(&computed)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if pins.get(i).is_some_and(|p| p.is(row.seq, &computed)) {
                if let Some(h) = held.get_mut(i) {
                    *h = true;
                }
            }
        }
        expected_prev = row.hash;
        expected_seq += 1;
        count += 1;
    }
    let missing: Vec<usize> = held
        .iter()
        .enumerate()
        .filter(|(_, h)| !**h)
        .map(|(i, _)| i)
        .collect();
    if !missing.is_empty() {
        return Ok(Verdict::Unpinned {
            rows: count,
            missing,
        });
    }
    Ok(Verdict::Intact {
        rows: count,
        head: data_encoding::HEXLOWER.encode(&expected_prev),
    })
}

/// Maps a `SELECT seq, at, actor, action, signal_id, detail, prev_hash, hash` row.
pub fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        signal_id: r.get(4)?,
        detail: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
             action TEXT NOT NULL, signal_id TEXT, detail TEXT NOT NULL,
             prev_hash BLOB NOT NULL, hash BLOB NOT NULL);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let conn = db();
        for i in 0..5 {
            append(&conn, &Entry::on("ann", Action::View, &format!("s{i}"), "")).unwrap();
        }
        assert!(matches!(
            verify(&conn, &[]).unwrap(),
            Verdict::Intact { rows: 5, .. }
        ));
    }

    #[test]
    fn a_cut_off_or_rewritten_chain_misses_its_pinned_head() {
        let conn = db();
        for i in 0..5 {
            append(&conn, &Entry::on("ann", Action::View, &format!("s{i}"), "")).unwrap();
        }
        let pinned = head(&conn).unwrap();
        assert_eq!(pinned.seq, 5);
        let pin = parse_pin(&format!("sha256 {}", pinned.hash)).unwrap();
        assert!(matches!(
            verify(
                &conn,
                &[Pin {
                    seq: None,
                    hash: pin
                }]
            )
            .unwrap(),
            Verdict::Intact { rows: 5, .. }
        ));
        append(&conn, &Entry::general("ann", Action::Search, "")).unwrap();
        assert!(
            matches!(
                verify(
                    &conn,
                    &[Pin {
                        seq: None,
                        hash: pin
                    }]
                )
                .unwrap(),
                Verdict::Intact { rows: 6, .. }
            ),
            "rows after the pin are fine"
        );
        // The last rows cut off: the rest still links.
        conn.execute("DELETE FROM audit WHERE seq >= 5", [])
            .unwrap();
        assert!(matches!(
            verify(&conn, &[]).unwrap(),
            Verdict::Intact { rows: 4, .. }
        ));
        assert_eq!(
            verify(
                &conn,
                &[Pin {
                    seq: None,
                    hash: pin
                }]
            )
            .unwrap(),
            Verdict::Unpinned {
                rows: 4,
                missing: vec![0]
            }
        );
        // A row rewritten and every later one re-hashed.
        let conn = db();
        for i in 0..5 {
            append(&conn, &Entry::on("ann", Action::View, &format!("s{i}"), "")).unwrap();
        }
        let pin = parse_pin(&head(&conn).unwrap().hash).unwrap();
        let rows: Vec<Row> = conn
            .prepare("SELECT seq, at, actor, action, signal_id, detail, prev_hash, hash FROM audit ORDER BY seq")
            .unwrap()
            .query_map([], read_row)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        conn.execute("DELETE FROM audit", []).unwrap();
        for r in rows {
            let actor = if r.seq == 2 { "bob" } else { r.actor.as_str() };
            append_named(&conn, actor, &r.action, r.signal_id.as_deref(), &r.detail).unwrap();
        }
        assert!(matches!(
            verify(&conn, &[]).unwrap(),
            Verdict::Intact { rows: 5, .. }
        ));
        assert_eq!(
            verify(
                &conn,
                &[Pin {
                    seq: None,
                    hash: pin
                }]
            )
            .unwrap(),
            Verdict::Unpinned {
                rows: 5,
                missing: vec![0]
            }
        );
        assert_eq!(parse_pin("not hex"), None);
    }

    #[test]
    fn heads_kept_in_files_are_checked_in_one_pass_and_each_one_missing_is_named() {
        let conn = db();
        let mut kept =
            vec![Pin::from_line(&format!("audit head: {}", head(&conn).unwrap())).unwrap()];
        for i in 0..3 {
            append(&conn, &Entry::on("ann", Action::View, &format!("s{i}"), "")).unwrap();
            let line = format!("audit head: {}\n", head(&conn).unwrap());
            kept.push(Pin::from_line(&line).unwrap());
        }
        assert_eq!(kept[0].seq, Some(0), "an empty log's head");
        assert!(matches!(
            verify(&conn, &kept).unwrap(),
            Verdict::Intact { rows: 3, .. }
        ));
        // The right hash at the wrong row is not the head.
        let moved = Pin {
            seq: Some(1),
            ..kept[2]
        };
        let other = Pin {
            seq: Some(2),
            hash: [7u8; 32],
        };
        assert_eq!(
            verify(&conn, &[kept[3], moved, kept[1], other]).unwrap(),
            Verdict::Unpinned {
                rows: 3,
                missing: vec![1, 3]
            }
        );
        conn.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
        assert_eq!(
            verify(&conn, &kept).unwrap(),
            Verdict::Unpinned {
                rows: 2,
                missing: vec![3]
            }
        );
        for garbled in [
            "",
            "audit head: row 3",
            "audit head: row -1, sha256 00",
            "row 3, sha256 0000000000000000000000000000000000000000000000000000000000000000",
            "audit head: row x, sha256 0000000000000000000000000000000000000000000000000000000000000000",
            "audit head: row 3, sha256 000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(Pin::from_line(garbled), None, "{garbled:?}");
        }
    }

    #[test]
    fn an_edited_or_deleted_row_is_named() {
        let conn = db();
        for _ in 0..4 {
            append(&conn, &Entry::general("ann", Action::Search, "scanned 3")).unwrap();
        }
        conn.execute("UPDATE audit SET actor = 'bob' WHERE seq = 3", [])
            .unwrap();
        assert!(matches!(
            verify(&conn, &[]).unwrap(),
            Verdict::Broken { seq: 3, .. }
        ));
        let conn = db();
        for _ in 0..4 {
            append(&conn, &Entry::general("ann", Action::Search, "")).unwrap();
        }
        conn.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        assert!(matches!(
            verify(&conn, &[]).unwrap(),
            Verdict::Broken { seq: 3, .. }
        ));
    }

    #[test]
    fn fields_cannot_be_shifted_between_columns() {
        let a = canonical(1, "t", "ab", "c", None, "", &GENESIS);
        let b = canonical(1, "t", "a", "bc", None, "", &GENESIS);
        assert_ne!(a, b);
        let c = canonical(1, "t", "a", "b", Some(""), "", &GENESIS);
        let d = canonical(1, "t", "a", "b", None, "", &GENESIS);
        assert_ne!(c, d);
    }
}
