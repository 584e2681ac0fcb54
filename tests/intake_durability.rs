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
    tokio::time::sleep(Duration::from_millis(1500)).await;
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
    let mut stmt = conn.prepare("SELECT envelope FROM signals").unwrap();
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
    assert!(page.contains("Your signal was not stored"), "{page}");
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
