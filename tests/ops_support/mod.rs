//! Helpers shared by the operations tests: running a subcommand with extra
//! settings or a passphrase on standard input, and reading the database.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use crate::common::{Server, binary};

/// Runs `signaal ARGS` with the server's settings plus `extra`, feeding
/// `stdin`; returns (status, stdout, stderr).
pub fn run(
    server: &Server,
    extra: &[(&str, &str)],
    args: &[&str],
    stdin: &str,
) -> (i32, String, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .envs(server.env())
        .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .current_dir(server.root.path());
    let out = crate::common::output_within(&mut cmd, Some(stdin), crate::common::DEADLINE);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A read-write connection to a database file, with secure_delete on so the
/// test itself leaves no stray copies behind.
pub fn db(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn.pragma_update(None, "secure_delete", "ON").unwrap();
    conn
}

/// The install salt of a database.
pub fn salt(conn: &rusqlite::Connection) -> Vec<u8> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'install_salt'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// The id of the signal a receipt code belongs to, if it is stored.
pub fn signal_of(conn: &rusqlite::Connection, receipt: &str) -> Option<String> {
    let tag = signaal::crypto::Receipt::parse(receipt)
        .unwrap()
        .derive(&salt(conn))
        .unwrap()
        .tag;
    conn.query_row(
        "SELECT id FROM all_signals WHERE lookup_tag = ?1",
        [tag.as_slice()],
        |r| r.get(0),
    )
    .ok()
}

/// Submits `n` signals and returns their receipt codes.
pub async fn submit_many(server: &Server, n: usize, text: &str) -> Vec<String> {
    let client = crate::common::client();
    let mut receipts = Vec::new();
    for i in 0..n {
        let (status, page) =
            crate::common::submit(&client, server, &[("situation", &format!("{text} {i}"))]).await;
        assert_eq!(status, 200, "{page}");
        receipts.push(crate::common::receipt_in(&page).unwrap());
    }
    receipts
}
