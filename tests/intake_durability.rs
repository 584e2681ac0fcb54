//! A receipt means stored: a crash loses nothing acknowledged, and a failing
//! store never produces a receipt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::HashSet;
use std::ops::Not;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Options, Server, TeamKey, canary, client, submit};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_signal_survives_a_crash_mid_load() {
    let team = TeamKey::generate();
    let mut server = Server::start_with(Options {
        team: vec![team.recipient()],
        ..Options::default()
    });
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let url = server.intake.clone();
    let mut workers = Vec::new();
    for w in 0..16 {
        let acknowledged = Arc::clone(&acknowledged);
        let url = url.clone();
        workers.push(tokio::spawn(async move {
            let c = client();
            for i in 0.. {
                let marker = canary(&format!("W{w}N{i}X"));
                let sent = c
                    .post(format!("{url}/signal"))
                    .form(&[("situation", marker.as_str())])
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                let Ok(res) = sent else { return };
                let ok = res.status().as_u16() == 200;
                let Ok(page) = res.text().await else { return };
                if ok && common::receipt_in(&page).is_some() {
                    acknowledged.lock().unwrap().push(marker);
                }
            }
        }));
    }
    // Mid load: once a hundred have been acknowledged, with sixteen more on the way.
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while acknowledged.lock().unwrap().len() < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "no load:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill(); // SIGKILL: no shutdown path runs.
    for w in workers {
        let _ = w.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "the load ran: {}",
        acknowledged.len()
    );

    server.restart();
    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut stmt = conn.prepare("SELECT envelope FROM all_signals").unwrap();
    let stored: HashSet<String> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|e| {
            let plain =
                age::decrypt(&team.identity, &e.unwrap()).expect("every stored envelope opens");
            let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            doc["answers"]["situation"].as_str().unwrap().to_owned()
        })
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|m| !stored.contains(*m))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged signals were lost",
        lost.len(),
        acknowledged.len()
    );
    // And the restarted server works.
    assert_eq!(
        submit(&client(), &server, &[("situation", "na de crash")])
            .await
            .0,
        200
    );
    let (code, out, err) = server.run(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test]
async fn a_full_store_says_nothing_was_kept_and_gives_no_receipt() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_MAX_DB_MIB".into(), "1".into())],
        ..Options::default()
    });
    let long = "Een lang verhaal over een regel die vaak verkeerd uitpakt. ".repeat(150);
    let mut receipts = 0;
    let mut refused = None;
    for _ in 0..200 {
        let (status, page) =
            submit(&client(), &server, &[("situation", &long), ("lang", "en")]).await;
        match status {
            200 => receipts += 1,
            503 => {
                refused = Some(page);
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let page = refused.expect("the store filled up within 200 signals");
    assert!(page.contains("Your report has not been stored"), "{page}");
    assert!(page.contains("Nothing was kept"));
    assert!(!page.contains("data-receipt"));
    assert!(receipts > 0);
    assert_eq!(
        server.signal_count(),
        receipts,
        "exactly the acknowledged signals are stored"
    );
    // The rest of the site still answers.
    let res = client().get(&server.intake).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // The log line is read from the server's pipe by another thread: wait for it.
    assert!(
        server.wait_for_output("nothing was kept", Duration::from_secs(5))
            || server.output().contains("could not be stored")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_senders_at_a_full_store_get_a_receipt_exactly_for_the_signals_that_were_kept() {
    // A disk whose every WAL sync takes 50 ms, as a real one may: while one
    // group commits, the next fills up with the other senders' writes.
    if !common::strace_available() {
        return;
    }
    let server = Arc::new(Server::start_with(Options {
        env: vec![("SIGNAAL_MAX_DB_MIB".into(), "1".into())],
        strace: Some("delay_exit=50000".into()),
        ..Options::default()
    }));
    // Long and short signals, so that near the cap some writes of a group
    // still fit and others do not.
    let long = "Een lang verhaal over een regel die vaak verkeerd uitpakt. ".repeat(150);
    let mut senders = Vec::new();
    for s in 0..16 {
        let (server, long) = (Arc::clone(&server), long.clone());
        senders.push(tokio::spawn(async move {
            let c = client();
            let (mut shown, mut refusals) = (Vec::new(), 0);
            for i in 0..400 {
                let text = if (i + s) % 3 == 0 {
                    "Kort."
                } else {
                    long.as_str()
                };
                let (status, page) = submit(&c, &server, &[("situation", text)]).await;
                match status {
                    200 => shown.push(common::receipt_in(&page).expect("a receipt on a 200")),
                    503 => {
                        assert!(page.contains("data-receipt").not(), "a receipt on a 503");
                        refusals += 1;
                        if refusals == 12 {
                            break;
                        }
                    }
                    other => panic!("unexpected {other}: {page}"),
                }
            }
            (shown, refusals)
        }));
    }
    let mut shown = HashSet::new();
    for sender in senders {
        let (receipts, refusals) = sender.await.unwrap();
        assert_eq!(refusals, 12, "every sender reached the full store");
        shown.extend(receipts);
    }
    let conn = rusqlite::Connection::open_with_flags(
        server.data_dir().join("signaal.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let salt: Vec<u8> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'install_salt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: HashSet<Vec<u8>> = conn
        .prepare("SELECT lookup_tag FROM all_signals")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let acknowledged: HashSet<Vec<u8>> = shown
        .iter()
        .map(|r| {
            let code = signaal::crypto::Receipt::parse(r).unwrap();
            code.derive(&salt).unwrap().tag.to_vec()
        })
        .collect();
    assert!(
        acknowledged.len() > 20,
        "the store took signals: {}",
        acknowledged.len()
    );
    let syncs = server.wal_syncs();
    assert!(
        syncs.iter().any(|s| s.result.contains("(DELAYED)")),
        "the WAL syncs were slowed: {syncs:?}"
    );
    eprintln!(
        "{} receipts shown, {} signals stored, {} WAL syncs",
        acknowledged.len(),
        stored.len(),
        syncs.len()
    );
    let lost = acknowledged.difference(&stored).count();
    let kept_unacknowledged = stored.difference(&acknowledged).count();
    assert_eq!(lost, 0, "signals with a receipt are missing");
    assert_eq!(
        kept_unacknowledged, 0,
        "signals were stored although their sender was told nothing was kept"
    );
}

/// What each stored signal says, read with the team's key.
fn stored_situations(server: &Server, team: &TeamKey) -> Vec<String> {
    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    let mut stmt = conn.prepare("SELECT envelope FROM all_signals").unwrap();
    let mut said: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|e| {
            let plain = age::decrypt(&team.identity, &e.unwrap()).unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            doc["answers"]["situation"].as_str().unwrap().to_owned()
        })
        .collect();
    said.sort();
    said
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_whose_commit_cannot_be_synced_gets_no_receipt_and_is_not_kept_even_after_a_crash()
{
    if !common::strace_available() {
        return;
    }
    let team = TeamKey::generate();
    let mut server = Server::start_with(Options {
        team: vec![team.recipient()],
        ..Options::default()
    });
    let (status, _) = submit(&client(), &server, &[("situation", "before")]).await;
    assert_eq!(status, 200);
    assert!(server.stop().success());
    // The same folders again, on a disk whose next WAL sync fails. SQLite's
    // first commit to a new WAL syncs its header (1) and then its frames (2):
    // the second fails, after the signal's frames were written.
    server.restart_with_strace(Some("error=EIO:when=2"));
    let (status, page) = submit(
        &client(),
        &server,
        &[("situation", "unsynced"), ("lang", "en")],
    )
    .await;
    let syncs = server.wal_syncs();
    let failed: Vec<_> = syncs
        .iter()
        .filter(|s| s.result.contains("EIO") && s.result.contains("(INJECTED)"))
        .collect();
    assert_eq!(failed.len(), 1, "one sync of the WAL failed: {syncs:?}");
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("Nothing was kept"), "{page}");
    assert!(!page.contains("data-receipt"));
    assert!(
        server.wait_for_output("a group commit failed", Duration::from_secs(5)),
        "{}",
        server.output()
    );
    assert_eq!(
        server.signal_count(),
        1,
        "the running server does not count it"
    );
    // A crash before anything else is written: recovery must not bring back
    // what the sender was told was not kept.
    server.kill();
    server.restart_with_strace(None);
    assert_eq!(stored_situations(&server, &team), ["before"]);
    let (status, page) = submit(&client(), &server, &[("situation", "after")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(stored_situations(&server, &team), ["after", "before"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_is_shown_only_after_the_wal_sync_that_makes_the_signal_durable() {
    if !common::strace_available() {
        return;
    }
    // Every WAL sync takes a second: a receipt that came sooner than the
    // sync of its commit would show here as a page faster than a second.
    let server = Server::start_with(Options {
        strace: Some("delay_exit=1000000".into()),
        ..Options::default()
    });
    let writer_syncs_before = server.wal_syncs().len();
    let sent = common::epoch_now();
    let (status, page) = submit(&client(), &server, &[("situation", "durable")]).await;
    let shown = common::epoch_now();
    assert_eq!(status, 200, "{page}");
    assert!(common::receipt_in(&page).is_some());
    let syncs = server.wal_syncs();
    let of_this_commit: Vec<_> = syncs[writer_syncs_before..]
        .iter()
        .filter(|s| s.at >= sent && s.at + 1.0 <= shown)
        .collect();
    assert!(
        !of_this_commit.is_empty(),
        "no WAL sync began after the request ({sent:.3}) and ended before the receipt \
         ({shown:.3}): {syncs:?}"
    );
    assert_eq!(server.signal_count(), 1);
}
