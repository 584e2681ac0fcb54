//! Metrics for the operator that never date a sender: counters move once per
//! mix interval however often they are scraped, there is no per-request time,
//! and the listener is loopback only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::{Duration, Instant};

use common::{Options, Server, client, submit};

async fn scrape(url: &str) -> String {
    let res = client().get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    res.text().await.unwrap()
}

fn value(page: &str, name: &str) -> Option<u64> {
    page.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_counters_move_once_per_mix_and_hold_no_time_of_a_request() {
    let server = Server::start_with(Options {
        env: vec![
            ("SIGNAAL_METRICS_ADDR".into(), "127.0.0.1:0".into()),
            ("SIGNAAL_MIX_INTERVAL_SECS".into(), "3".into()),
        ],
        ..Options::default()
    });
    assert!(server.wait_for_output("metrics listening on ", Duration::from_secs(10)));
    let url = server
        .output()
        .lines()
        .find_map(|l| l.strip_prefix("metrics listening on ").map(str::to_owned))
        .unwrap();
    let before = scrape(&url).await;
    assert_eq!(
        value(&before, "signaal_signals_stored_total"),
        Some(0),
        "{before}"
    );
    let c = client();
    for i in 0..3 {
        let (status, _) = submit(&c, &server, &[("situation", &format!("metriek {i}"))]).await;
        assert_eq!(status, 200);
    }
    let (status, _) = submit(&c, &server, &[("situation", "BSN 111222333")]).await;
    assert_eq!(status, 200);
    let missing = c
        .get(format!("{}/no-such-page", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // Right after the requests, before a mix: nothing has moved yet.
    let soon = scrape(&url).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut later = soon.clone();
    while value(&later, "signaal_signals_stored_total") != Some(3) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        later = scrape(&url).await;
    }
    assert_eq!(
        value(&later, "signaal_signals_stored_total"),
        Some(3),
        "{later}"
    );
    assert_eq!(
        value(&later, "signaal_signals_held_back_total"),
        Some(1),
        "{later}"
    );
    assert!(
        later
            .contains("signaal_requests_total{method=\"POST\",route=\"/signal\",status=\"200\"} 4"),
        "{later}"
    );
    assert!(value(&later, "signaal_database_bytes").unwrap() > 4096);
    assert!(
        later.contains("signaal_refused_total{reason=\"not_found\"} 1"),
        "{later}"
    );
    assert_eq!(
        value(&later, "signaal_rate_limited_total"),
        Some(0),
        "{later}"
    );
    assert!(later.contains("signaal_last_mix_age_seconds "));
    // Counters and gauges only: no latency, no histogram, no time of day.
    for word in [
        "histogram",
        "summary",
        "latency",
        "_seconds_bucket",
        "micros",
    ] {
        assert!(!later.contains(word), "{word} in the metrics");
    }
    // The scrape right after the submissions saw no new signal unless a mix
    // fell between them, and then it saw all of them at once.
    let seen_soon = value(&soon, "signaal_signals_stored_total").unwrap();
    assert!(
        seen_soon == 0 || seen_soon == 3,
        "moved per request: {seen_soon}"
    );
    // The size too: measured after each mix, not at each scrape (the WAL
    // grows with every commit, so its size would date each signal).
    if seen_soon == 0 {
        assert_eq!(
            value(&soon, "signaal_database_bytes"),
            value(&before, "signaal_database_bytes"),
            "the size moved with the submissions, before a mix: {soon}"
        );
    }
    // A backup's age shows once one was made.
    assert!(!later.contains("signaal_last_backup_age_seconds"));
    let copy = server.root.path().join("copy.db");
    let (code, out, err) = server.run(&["backup", copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let after_backup = scrape(&url).await;
    assert!(
        value(&after_backup, "signaal_last_backup_age_seconds").is_some_and(|age| age < 60),
        "{after_backup}"
    );
}

#[test]
fn a_metrics_address_off_the_machine_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(common::binary());
    cmd.arg("serve")
        .current_dir(dir.path())
        .env("SIGNAAL_METRICS_ADDR", "0.0.0.0:9464")
        .env("SIGNAAL_DATA_DIR", dir.path().join("data"))
        .env("SIGNAAL_KEYS_DIR", dir.path().join("keys"))
        .env("SIGNAAL_INTAKE_ADDR", "127.0.0.1:0")
        .env("SIGNAAL_REVIEW_ADDR", "127.0.0.1:0");
    let out = common::output_within(&mut cmd, None, common::DEADLINE);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("metrics_addr") && err.contains("loopback"),
        "{err}"
    );
}
