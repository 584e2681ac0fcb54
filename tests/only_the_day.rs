//! Only the day: after a mix, nothing in the data folder — cell placement in
//! any table or index page, the WAL, the file times — orders the signals and
//! messages of a day, or dates them finer than the day. Read as an examiner
//! would: the raw pages, b-tree by b-tree.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod forensic;
mod ops_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey, client_from};
use forensic::Key;
use ops_support::submit_many;

/// Signals submitted one after another: enough that a random order's
/// correlation stays far inside 0.2 (its standard deviation is 1/√(n-1)).
const SIGNALS: usize = 400;
/// Sender messages, each on its own signal.
const MESSAGES: usize = 300;

fn server(mix_secs: u64, team: &TeamKey) -> Server {
    Server::start_with(Options {
        team: vec![team.recipient()],
        env: vec![
            ("SIGNAAL_MIX_INTERVAL_SECS".into(), mix_secs.to_string()),
            ("SIGNAAL_LOOKUP_PER_HOUR".into(), "100000".into()),
        ],
        ..Options::default()
    })
}

/// Copies the data folder as it is now, like someone taking the disk.
fn copy_folder(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.path().join(e.file_name())).unwrap();
    }
    to
}

/// The copy's pages with its WAL applied (what the file holds after the
/// next checkpoint): SQLite itself puts each page in its place.
fn with_wal_applied(copy: &Path) -> PathBuf {
    let db = copy.join("signaal.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    drop(conn);
    db
}

/// Arrival rank of every signal (by rowid) and message (by id).
fn arrival_ranks(db: &Path, receipts: &[String], messages_on: &[usize]) -> HashMap<Key, usize> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let salt: Vec<u8> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'install_salt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut ranks = HashMap::new();
    let mut ids = Vec::new();
    for (rank, receipt) in receipts.iter().enumerate() {
        let tag = signaal::crypto::Receipt::parse(receipt)
            .unwrap()
            .derive(&salt)
            .unwrap()
            .tag;
        let (rid, id): (i64, String) = conn
            .query_row(
                "SELECT rid, id FROM all_signals WHERE lookup_tag = ?1",
                [tag.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        ranks.insert(Key::Rowid(rid), rank);
        ids.push(id);
    }
    for (rank, signal) in messages_on.iter().enumerate() {
        let message: String = conn
            .query_row(
                "SELECT id FROM all_messages WHERE signal_id = ?1 AND author = 'sender'",
                [&ids[*signal]],
                |r| r.get(0),
            )
            .unwrap();
        ranks.insert(Key::Text(message), rank);
    }
    ranks
}

/// Sends one sender message on each signal in `on`, `parallel` at a time;
/// returns the signals in the order their "sent" pages came back.
async fn send_messages(server: &Server, receipts: &[String], on: Vec<usize>) -> Vec<usize> {
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let chunks: Vec<Vec<usize>> = on
        .chunks(on.len().div_ceil(8))
        .map(<[usize]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let receipts: Vec<String> = chunk.iter().map(|i| receipts[*i].clone()).collect();
        let url = format!("{}/follow-up/message", server.intake);
        let order = std::sync::Arc::clone(&order);
        tasks.push(tokio::spawn(async move {
            for (i, receipt) in chunk.iter().zip(receipts) {
                // Each from its own address, as colleagues elsewhere would.
                let from = format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250);
                let res = client_from(&from)
                    .post(&url)
                    .form(&[
                        ("receipt", receipt.as_str()),
                        ("message", "A further detail about the rule."),
                        ("lang", "en"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                assert!(res.text().await.unwrap().contains("data-sent"));
                order.lock().unwrap().push(*i);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    order.lock().unwrap().clone()
}

/// The b-trees that hold at least `min` of the ranked entries, with their
/// correlation between arrival and physical place.
/// Per tree: its name, Spearman's ρ, Kendall's τ within pages with the
/// spread chance gives it, and the neighbours' z-score.
type Reading = (String, f64, Option<(f64, f64)>, Option<f64>);

fn correlations(
    db: &Path,
    ranks: &HashMap<Key, usize>,
    min: usize,
    min_pairs: usize,
) -> Vec<Reading> {
    forensic::trees(db)
        .iter()
        .filter_map(|t| {
            forensic::spearman(t, ranks, min).map(|rho| {
                (
                    t.name.clone(),
                    rho,
                    forensic::within_pages(t, ranks, min_pairs)
                        .map(|w| (w, forensic::within_pages_by_chance(t, ranks, 400))),
                    forensic::neighbours_z(t, ranks, 50),
                )
            })
        })
        .collect()
}

/// Nothing orders the entries: the correlation the design asks for stays
/// below 0.2, and so does the sharper reading inside pages — unless chance
/// alone reaches that far with so few pairs: then it must stay within 4.5
/// times the spread a random order gives (as the neighbours' z-score must).
fn assert_no_order(found: &[Reading]) {
    for (name, rho, within, z) in found {
        assert!(rho.abs() < 0.2, "{name}: Spearman {rho:.3}: {found:#?}");
        if let Some((w, chance)) = within {
            assert!(
                w.abs() < 0.2 || w.abs() < 4.5 * chance,
                "{name}: within pages {w:.3} (by chance ±{chance:.3}): {found:#?}"
            );
        }
        if let Some(z) = z {
            assert!(
                z.abs() < 4.5,
                "{name}: neighbours in pages, z = {z:.1}: {found:#?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_mix_nothing_in_the_file_or_a_backup_orders_the_signals_and_messages_of_a_day() {
    let team = TeamKey::generate();
    let mut server = server(3600, &team);
    // The controls, before any mix: the same readings find the order of
    // arrival. In the pages: the first signals share each index's one leaf
    // page, where new cells are carved from the top down.
    let mut receipts = submit_many(&server, 40, "A rule that hits too hard").await;
    let early = copy_folder(&server.data_dir());
    let first_seen = forensic::wal_first_seen(&early.path().join("signaal.db-wal"));
    let db = with_wal_applied(early.path());
    let ranks = arrival_ranks(&db, &receipts, &[]);
    let seen = correlations(&db, &ranks, 30, 300);
    let ordered = seen
        .iter()
        .filter(|(_, _, within, _)| within.is_some_and(|(w, _)| w.abs() > 0.9))
        .count();
    assert!(
        ordered >= 3,
        "before a mix the index pages show the order: {seen:#?}"
    );
    // In the WAL: the first frame that holds a signal is its place in line.
    let (rho, n) = forensic::rank_correlation(&ranks, &first_seen).unwrap();
    assert!(
        n >= 30 && rho > 0.9,
        "before a mix the WAL shows the order: {rho} over {n}"
    );

    receipts.extend(submit_many(&server, SIGNALS - 40, "A rule that hits too hard").await);
    let messages_on = send_messages(&server, &receipts, (0..MESSAGES).collect()).await;
    let before = copy_folder(&server.data_dir());
    let db = with_wal_applied(before.path());
    let ranks = arrival_ranks(&db, &receipts, &messages_on);

    // A backup made now, while the server runs and before any mix of these
    // signals and messages, carries no order either (VACUUM INTO rebuilds
    // every table and index in key order).
    let backup = server.root.path().join("while-serving.db");
    let (code, out, err) = server.run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let found = correlations(&backup, &ranks, 100, 200);
    assert!(
        found.len() >= 7,
        "every table and index of signals and messages in the backup: {found:#?}"
    );
    assert_no_order(&found);

    // A clean stop mixes, and its last act (SQLite removing the WAL and the
    // shared memory) does not date the folder either.
    assert!(server.stop().success());
    assert_times_say_the_day(&server.data_dir(), "after a clean stop");
    let after = server.data_dir().join("signaal.db");
    let found = correlations(&after, &ranks, 100, 200);
    let names: Vec<&str> = found.iter().map(|(n, ..)| n.as_str()).collect();
    for wanted in ["inbox_signals", "inbox_messages"] {
        assert!(names.contains(&wanted), "{wanted} was read: {found:#?}");
    }
    // The signals' table and its four indexes in use (the domain index is
    // partial: only triaged signals), the messages' table and its index.
    assert!(
        found.len() >= 7,
        "every table and index of signals and messages was read: {found:#?}"
    );
    assert_no_order(&found);
    let (current, older) = forensic::wal_frames(&server.data_dir().join("signaal.db-wal"));
    assert_eq!(
        (current, older),
        (0, 0),
        "no WAL frame is left after a clean stop"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_mix_leaves_no_order_and_no_earlier_wal_generation_while_serving() {
    let team = TeamKey::generate();
    let server = server(2, &team);
    // Wait for the mix at start, so the submissions all fall in one interval
    // as far as possible; whatever a mix splits, the next mix joins again.
    let receipts = submit_many(&server, SIGNALS, "A practice that hits too hard").await;
    let started = Instant::now();
    let summaries = server.output().matches("intake summary").count();
    // The next mix writes the next summary; wait for it, then one more so
    // that no submission is left since the last mix.
    for round in 1..=2 {
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.output().matches("intake summary").count() < summaries + round
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(
        server.output().matches("intake summary").count() > summaries,
        "a mix ran within {:?}: {}",
        started.elapsed(),
        server.output()
    );
    // File times say the day, never the moment (looked at before this test
    // reads the files itself).
    assert_times_say_the_day(&server.data_dir(), "after the mix");
    let copy = copy_folder(&server.data_dir());
    let (_, older) = forensic::wal_frames(&copy.path().join("signaal.db-wal"));
    assert_eq!(
        older, 0,
        "no frame of an earlier WAL generation after a mix"
    );
    let db = with_wal_applied(copy.path());
    let ranks = arrival_ranks(&db, &receipts, &[]);
    let found = correlations(&db, &ranks, 100, 200);
    assert!(
        found.len() >= 5,
        "the table and its four indexes: {found:#?}"
    );
    assert_no_order(&found);
    // Reading the copy above moved the files' access times; senders' look-ups
    // (reads, which also write the shared-memory file) set them back too.
    let c = common::client();
    for receipt in receipts.iter().take(5) {
        let res = c
            .post(format!("{}/follow-up", server.intake))
            .form(&[("receipt", receipt.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_times_say_the_day(&server.data_dir(), "after five look-ups");
}

/// Every file's access and modification time in `dir`, and the folder's, is
/// midnight (UTC). The folder is read first: listing it moves its access time.
fn assert_times_say_the_day(dir: &std::path::Path, when: &str) {
    let midnight = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 86_400 == 0
    };
    let folder = std::fs::metadata(dir).unwrap();
    assert!(
        midnight(folder.modified().unwrap()) && midnight(folder.accessed().unwrap()),
        "{when}: the data folder's times are midnight (UTC)"
    );
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        assert!(
            midnight(meta.modified().unwrap()),
            "{when}: {:?}: its modification time is midnight (UTC)",
            e.file_name()
        );
        assert!(
            midnight(meta.accessed().unwrap()),
            "{when}: {:?}: its access time is midnight (UTC)",
            e.file_name()
        );
    }
}

#[tokio::test]
async fn the_privacy_page_says_how_long_the_order_of_arrival_stays_visible() {
    let team = TeamKey::generate();
    let half_hourly = server(1800, &team);
    let c = common::client();
    for (lang, every, span) in [
        (
            "nl",
            "minstens elke 30 minuten",
            "hooguit 30 minuten geleden, plus de paar minuten die het husselen duurt",
        ),
        (
            "en",
            "at least every 30 minutes",
            "at most 30 minutes ago, plus the few minutes a shuffle takes",
        ),
    ] {
        let page = c
            .get(format!("{}/privacy?lang={lang}", half_hourly.intake))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(every), "{lang}: {every}");
        assert!(page.contains(span), "{lang}: {span}");
        assert!(
            page.contains("één per dag") || page.contains("one a day"),
            "{lang}: the backups' cadence"
        );
        assert!(!page.contains('{'), "{lang}: every placeholder is filled");
    }
    let hourly = server(3600, &team);
    let page = c
        .get(format!("{}/privacy?lang=en", hourly.intake))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("at least every hour")
            && page.contains("at most an hour ago, plus the few minutes")
    );
}
