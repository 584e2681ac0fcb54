//! The mix is safe to kill: a process killed at any moment of a mix loses no
//! acknowledged signal, and the next start mixes again.
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

use common::{Options, Server, TeamKey, canary, client};

/// Submits from `workers` connections until the server goes away; every
/// marker whose receipt came back is pushed to `acknowledged`.
fn load(
    server: &Server,
    workers: usize,
    acknowledged: &Arc<Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|w| {
            let acknowledged = Arc::clone(acknowledged);
            let url = format!("{}/signal", server.intake);
            tokio::spawn(async move {
                let c = client();
                for i in 0.. {
                    let marker = canary(&format!("M{w}N{i}X"));
                    let sent = c
                        .post(&url)
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
            })
        })
        .collect()
}

/// Whether the file holds a rebuild that a kill interrupted.
fn interrupted_rebuild(server: &Server) -> bool {
    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_next' ESCAPE '\\'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_in_the_middle_of_mixes_loses_no_acknowledged_signal() {
    let team = TeamKey::generate();
    let mut server = Server::start_with(Options {
        team: vec![team.recipient()],
        env: vec![("SIGNAAL_MIX_INTERVAL_SECS".into(), "1".into())],
        ..Options::default()
    });
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let (mut kills, mut in_a_mix) = (0, 0);
    // Kill at moments spread over the mix interval, until several kills have
    // landed inside a rebuild (seen as its unfinished copy in the file).
    while (in_a_mix < 3 || kills < 10) && kills < 60 {
        let workers = load(&server, 8, &acknowledged);
        let wait = 200 + (rand::random::<u64>() % 1300);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill();
        kills += 1;
        for w in workers {
            let _ = w.await;
        }
        if interrupted_rebuild(&server) {
            in_a_mix += 1;
        }
        server.restart();
    }
    assert!(
        in_a_mix >= 3,
        "{in_a_mix} of {kills} kills landed in a rebuild; the test must kill inside mixes"
    );
    let acknowledged = acknowledged.lock().unwrap().clone();
    eprintln!(
        "{kills} kills, {in_a_mix} inside a rebuild, {} signals acknowledged",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > 500,
        "the load ran: {}",
        acknowledged.len()
    );
    assert!(server.stop().success(), "a clean stop after all that");

    let conn = rusqlite::Connection::open(server.data_dir().join("signaal.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert!(
        !interrupted_rebuild(&server),
        "the last start's mix cleared the old copy"
    );
    let mut stmt = conn.prepare("SELECT envelope FROM all_signals").unwrap();
    let stored: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|e| {
            let plain =
                age::decrypt(&team.identity, &e.unwrap()).expect("every stored envelope opens");
            let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            doc["answers"]["situation"].as_str().unwrap().to_owned()
        })
        .collect();
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "no signal is stored twice");
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|m| !unique.contains(m))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged signals were lost in {kills} kills ({in_a_mix} inside a mix)",
        lost.len(),
        acknowledged.len()
    );
}
