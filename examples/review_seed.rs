//! Seeds a data folder with sealed signals for the review benchmark
//! (`bench/review.sh`): makes a team key with a reviewer `bench` (passphrase
//! `bench passphrase`, low scrypt work factor, no TOTP), then writes N signals
//! sealed to it straight through the store, in large transactions, with a
//! team's mix of labels, assignees and acknowledgements.
//!
//! With a third argument H it also makes H hardships, each with ten courses
//! of action and measures (three dated statuses each, a few past their
//! target), twenty linked signals, and — for all but every tenth — a
//! publication, as the benchmarks of the hardships' pages need.
//!
//! Usage: `cargo run --release --example review_seed -- ROOT N [H]`
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
    let (Some(root), Some(n), Some(h)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
        args.get(3).map_or(Some(0), |h| h.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: review_seed ROOT N [HARDSHIPS]");
        return ExitCode::from(2);
    };
    match seed(&PathBuf::from(root), n, h) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("review_seed: {e}");
            ExitCode::from(1)
        }
    }
}

fn seed(root: &std::path::Path, n: usize, h: usize) -> Result<(), Box<dyn std::error::Error>> {
    let keys = root.join("keys");
    let recipient = if keys.join("team.pub").exists() {
        let team = signaal::keys::load_team(&keys)?;
        team.recipients
            .first()
            .cloned()
            .ok_or("keys/team.pub holds no recipient")?
    } else {
        std::fs::create_dir_all(keys.join("reviewers"))?;
        let identity = x25519::Identity::generate();
        let wrapped = crypto::wrap_identity(&identity, "bench passphrase", Some(12))?;
        std::fs::write(keys.join("reviewers/bench.age"), wrapped)?;
        std::fs::write(
            keys.join("team.pub"),
            format!("# benchmark team\n{}\n", identity.to_public()),
        )?;
        identity.to_public()
    };
    let store = Store::open(&root.join("data"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
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
            // A team's mix: a tenth labelled "kinderopvang", one in fifty
            // "spoed", one in 100,000 "zelden"; a fifth assigned to the
            // reviewer; all but one in a thousand acknowledged and given
            // feedback on time (those few need attention).
            let label = match rng.gen_range(0..100_000) {
                0 => "zelden",
                1..2_000 => "spoed",
                2_000..12_000 => "kinderopvang",
                _ => "",
            };
            let answered = |rng: &mut rand::rngs::ThreadRng, after: i64| {
                (rng.gen_range(0..1000) != 0)
                    .then(|| (day + time::Duration::days(after)).to_string())
            };
            rows.push((
                crypto::random_id(),
                day.to_string(),
                *STATUSES.choose(&mut rng).unwrap_or(&"new"),
                *DOMAINS.choose(&mut rng).unwrap_or(&"work"),
                source.tag,
                source_recipient.to_string(),
                envelope,
                label,
                (rng.gen_range(0..5) == 0).then_some("bench"),
                answered(&mut rng, 2),
                answered(&mut rng, 30),
            ));
        }
        runtime.block_on(store.write(move |c| {
            let mut stmt = c.prepare_cached(
                "INSERT INTO signals (id, received_on, status, domain, lookup_tag, source_recipient, format, envelope,
                                      labels, assignee, acknowledged_on, feedback_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'age-v1-x25519', ?7, ?8, ?9, ?10, ?11)",
            )?;
            for r in rows {
                stmt.execute(params![r.0, r.1, r.2, r.3, r.4.as_slice(), r.5, r.6, r.7, r.8, r.9, r.10])?;
            }
            for label in ["kinderopvang", "spoed", "zelden"] {
                c.execute(
                    "INSERT OR IGNORE INTO labels (name, added_by) VALUES (?1, 'bench')",
                    [label],
                )?;
            }
            Ok(())
        }))?;
        done += count;
        eprint!("\rseeded {done}/{n}");
    }
    eprintln!();
    if h > 0 {
        runtime.block_on(seed_hardships(&store, &recipient, h))?;
        eprintln!("seeded {h} hardships with {} measures", h * MEASURES);
    }
    store.close();
    Ok(())
}

const MEASURES: usize = 10;

fn pick<'a>(list: &[&'a str], i: usize) -> &'a str {
    list.get(i % list.len().max(1)).copied().unwrap_or("other")
}
const LEVERS: &[&str] = &[
    "law",
    "policy_rule",
    "discretion",
    "practice",
    "cooperation",
    "other",
];
const KINDS: &[&str] = &["recommendation", "proposal", "measure"];
const ORGANISATIONS: &[&str] = &["SZW", "UWV", "SVB", "Belastingdienst", "DUO", "gemeenten"];
const PROGRESS: &[&[&str]] = &[
    &["proposed", "agreed", "in_progress"],
    &["proposed", "agreed", "implemented"],
    &["proposed", "in_progress", "not_implemented"],
    &["proposed", "agreed", "withdrawn"],
];

/// `h` hardships sealed to the team, with their measures, statuses, links
/// to random signals and (for nine in ten) a publication.
async fn seed_hardships(
    store: &Store,
    team: &x25519::Recipient,
    h: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let team = vec![team.clone()];
    let signals: Vec<String> = store
        .read(|c| {
            c.prepare("SELECT id FROM signals ORDER BY random() LIMIT 20000")?
                .query_map([], |r| r.get(0))?
                .collect()
        })
        .await?;
    let today = time::OffsetDateTime::now_utc().date();
    let mut rng = rand::thread_rng();
    for i in 0..h {
        let id = crypto::random_id();
        let title = format!("Hardship {i}: a rule that hits young carers twice");
        let organisations = pick(ORGANISATIONS, i);
        let envelope = signaal::signal::sealed::seal_fields(
            &[
                ("title", &title),
                ("description", "The pattern: what goes wrong, and for whom."),
                ("cause", "Article 22a of the Participatiewet"),
                ("organisations", organisations),
            ],
            &team,
        )?;
        let created = today - time::Duration::days(rng.gen_range(30..700));
        let domain = *DOMAINS.choose(&mut rng).unwrap_or(&"work");
        let mut measures = Vec::new();
        for m in 0..MEASURES {
            let org = pick(ORGANISATIONS, i + m);
            let text = format!("Measure {m} of hardship {i}: change the rule");
            let sealed = signaal::signal::sealed::seal_fields(
                &[
                    ("text", &text),
                    ("organisation", org),
                    ("source", "Report 2025"),
                ],
                &team,
            )?;
            let steps = PROGRESS
                .get((i + m) % PROGRESS.len())
                .copied()
                .unwrap_or(&["proposed"]);
            let mut history = Vec::new();
            for (k, step) in steps.iter().enumerate() {
                let day =
                    created + time::Duration::days(30 * (k as i64 + 1) + rng.gen_range(0..30));
                let note = signaal::signal::sealed::seal_fields(&[("note", "as agreed")], &team)?;
                history.push((crypto::random_id(), *step, day.min(today).to_string(), note));
            }
            let target = (m % 3 == 0).then(|| (created + time::Duration::days(200)).to_string());
            measures.push((
                crypto::random_id(),
                pick(KINDS, m),
                pick(LEVERS, i + m),
                steps.last().copied().unwrap_or("proposed"),
                target,
                text,
                org,
                sealed,
                history,
            ));
        }
        let linked: Vec<String> = signals.choose_multiple(&mut rng, 20).cloned().collect();
        let published = i % 10 != 0;
        let created = created.to_string();
        store
            .write(move |c| {
                c.execute(
                    "INSERT INTO hardships (id, created_on, author, origin, domain, format, envelope)
                     VALUES (?1, ?2, 'bench', 'law', ?3, 'age-v1-x25519', ?4)",
                    params![id, created, domain, envelope],
                )?;
                for s in &linked {
                    c.execute(
                        "INSERT OR IGNORE INTO hardship_signals (hardship_id, signal_id, linked_on)
                         VALUES (?1, ?2, ?3)",
                        params![id, s, created],
                    )?;
                }
                if published {
                    c.execute(
                        "INSERT INTO publications (hardship_id, published_on, published_by, title, summary, cause)
                         VALUES (?1, ?2, 'bench', ?3, 'What goes wrong, and for whom.', 'The rule that causes it.')",
                        params![id, created, format!("Public hardship {i}")],
                    )?;
                }
                for (seq, (mid, kind, lever, status, target, text, org, sealed, history)) in
                    measures.into_iter().enumerate()
                {
                    let changed = history.iter().map(|h| h.2.clone()).max();
                    c.execute(
                        "INSERT INTO measures (id, hardship_id, seq, kind, lever, status, target_on,
                            created_on, changed_on, format, envelope)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?10, ?8), 'age-v1-x25519', ?9)",
                        params![mid, id, seq as i64 + 1, kind, lever, status, target, created, sealed, changed],
                    )?;
                    for (k, (sid, step, day, note)) in history.into_iter().enumerate() {
                        c.execute(
                            "INSERT INTO measure_statuses (id, measure_id, seq, status, day, author,
                                format, envelope)
                             VALUES (?1, ?2, ?3, ?4, ?5, 'bench', 'age-v1-x25519', ?6)",
                            params![sid, mid, k as i64 + 1, step, day, note],
                        )?;
                    }
                    if published {
                        c.execute(
                            "INSERT INTO published_measures (measure_id, hardship_id, text, organisation, source)
                             VALUES (?1, ?2, ?3, ?4, 'Report 2025')",
                            params![mid, id, text, org],
                        )?;
                    }
                }
                Ok(())
            })
            .await?;
        if i % 50 == 49 {
            eprint!("\rseeded {} hardships", i + 1);
        }
    }
    eprintln!();
    Ok(())
}
