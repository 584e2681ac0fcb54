//! Seeds a data folder with sealed signals for the review benchmark
//! (`bench/review.sh`): makes a team key with a reviewer `bench` (passphrase
//! `bench passphrase`, low scrypt work factor, no TOTP), then writes N signals
//! sealed to it straight through the store, in large transactions.
//!
//! Usage: `cargo run --release --example review_seed -- ROOT N`
//! (ROOT gets `keys/` and `data/`). Never point it at a real installation.

use std::path::PathBuf;
use std::process::ExitCode;

use age::x25519;
use rand::Rng;
use rand::seq::SliceRandom;
use rusqlite::params;
use signaal::crypto;
use signaal::store::Store;
use zeroize::Zeroizing;

const DOMAINS: &[&str] = &["benefits", "taxes", "care", "youth", "housing", "work"];
const STATUSES: &[&str] = &[
    "new",
    "in_progress",
    "forwarded",
    "closed",
    "not_admissible",
];
const BATCH: usize = 2000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(root), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: review_seed ROOT N");
        return ExitCode::from(2);
    };
    match seed(&PathBuf::from(root), n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("review_seed: {e}");
            ExitCode::from(1)
        }
    }
}

fn seed(root: &std::path::Path, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let keys = root.join("keys");
    std::fs::create_dir_all(keys.join("reviewers"))?;
    let identity = x25519::Identity::generate();
    let wrapped = crypto::wrap_identity(&identity, "bench passphrase", Some(12))?;
    std::fs::write(keys.join("reviewers/bench.age"), wrapped)?;
    std::fs::write(
        keys.join("team.pub"),
        format!("# benchmark team\n{}\n", identity.to_public()),
    )?;
    let store = Store::open(&root.join("data"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let recipient = identity.to_public();
    let today = time::OffsetDateTime::now_utc().date();
    let mut rng = rand::thread_rng();
    let mut done = 0;
    while done < n {
        let count = BATCH.min(n - done);
        let mut rows = Vec::with_capacity(count);
        for i in 0..count {
            let text = format!(
                "{{\"v\":1,\"lang\":\"nl\",\"answers\":{{\"situation\":\"Benchmark signal {} about a rule that hits too hard, word{}\"}}}}",
                done + i,
                rng.gen_range(0..100_000)
            );
            let mut plain = Zeroizing::new(text.into_bytes());
            crypto::pad(&mut plain);
            let source = crypto::Receipt::generate().derive(store.install_salt())?;
            let source_recipient = source.identity.to_public();
            let envelope = crypto::seal(&plain, &[&recipient, &source_recipient])?;
            let day = today - time::Duration::days(rng.gen_range(0..400));
            rows.push((
                crypto::random_id(),
                day.to_string(),
                *STATUSES.choose(&mut rng).unwrap_or(&"new"),
                *DOMAINS.choose(&mut rng).unwrap_or(&"work"),
                source.tag,
                source_recipient.to_string(),
                envelope,
            ));
        }
        runtime.block_on(store.write(move |c| {
            let mut stmt = c.prepare_cached(
                "INSERT INTO signals (id, received_on, status, domain, lookup_tag, source_recipient, format, envelope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'age-v1-x25519', ?7)",
            )?;
            for r in rows {
                stmt.execute(params![r.0, r.1, r.2, r.3, r.4.as_slice(), r.5, r.6])?;
            }
            Ok(())
        }))?;
        done += count;
        eprint!("\rseeded {done}/{n}");
    }
    eprintln!();
    store.close();
    Ok(())
}
