//! Command-line tools of the review side: `reviewer add|list|remove`,
//! `audit verify`, `report --csv`, `report hardships`.
//!
//! Invariants: a passphrase is read from the terminal without echo (or from
//! standard input when it is not a terminal, for automation), held in wiped
//! buffers, and never printed; identity files are written owner-only; the
//! TOTP secret is shown once (otpauth URI and QR code) and stored only sealed
//! to the reviewer's own recipient.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use age::x25519;
use clap::Subcommand;
use zeroize::Zeroizing;

use crate::annual;
use crate::audit::{Action, Entry, Pin, Verdict};
use crate::config::Config;
use crate::crypto;
use crate::keys;
use crate::review::{report, reviewers};
use crate::store::Store;

/// Shortest passphrase accepted.
const MIN_PASSPHRASE: usize = 10;
/// age's own default scrypt work factor.
const DEFAULT_WORK_FACTOR: u8 = 18;

/// `signaal reviewer …`
#[derive(Debug, Subcommand)]
pub enum ReviewerCmd {
    /// Make `keys/reviewers/NAME.age` and set up its TOTP second factor.
    Add {
        /// Reviewer name: a-z, 0-9, _ and -, at most 32.
        name: String,
        /// Wrap this existing identity instead of making a new one: a plain
        /// `age-keygen` file, or a file `age -p` already encrypted (kept as is).
        #[arg(long, value_name = "FILE")]
        identity: Option<std::path::PathBuf>,
        /// Append the reviewer's recipient to team.pub.
        #[arg(long)]
        add_recipient: bool,
        /// Do not set up TOTP (allowed in demo mode only; production refuses the login).
        #[arg(long)]
        no_totp: bool,
        /// scrypt work factor (log2 N) for a new file; age's default is 18, and
        /// production mode takes no less.
        #[arg(long, default_value_t = DEFAULT_WORK_FACTOR, value_parser = clap::value_parser!(u8).range(10..=crypto::MAX_WORK_FACTOR as i64))]
        work_factor: u8,
    },
    /// Set up (or replace, e.g. after a lost phone) the TOTP second factor of
    /// an existing reviewer file, such as one made by hand with `age -p`.
    Totp {
        /// Reviewer name.
        name: String,
    },
    /// List the reviewer files and whether each has TOTP.
    List,
    /// Delete a reviewer's files (also remove their recipient from team.pub).
    Remove {
        /// Reviewer name.
        name: String,
    },
}

/// `signaal audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain of the audit log; names the first broken row.
    Verify {
        /// A head written down earlier (the log's "audit head" line, a
        /// backup's `.head` file): the chain must still hold that row, so
        /// rows cut off or rewritten up to it are found.
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
        /// A folder of backups (such as /var/backups/signaal): the chain must
        /// hold every head kept there in a `*.head` file.
        #[arg(long, value_name = "DIR")]
        heads: Option<std::path::PathBuf>,
    },
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("signaal: {msg}");
    ExitCode::from(2)
}

/// Runs `signaal reviewer …`.
pub fn reviewer(config: &Config, cmd: ReviewerCmd) -> ExitCode {
    match cmd {
        ReviewerCmd::Add {
            name,
            identity,
            add_recipient,
            no_totp,
            work_factor,
        } => add(
            config,
            &name,
            identity.as_deref(),
            add_recipient,
            no_totp,
            work_factor,
        ),
        ReviewerCmd::Totp { name } => reset_totp(config, &name),
        ReviewerCmd::List => {
            for name in reviewers::list(&config.keys_dir) {
                let totp = reviewers::totp_path(&config.keys_dir, &name).exists();
                println!("{name}\ttotp: {}", if totp { "yes" } else { "no" });
            }
            ExitCode::SUCCESS
        }
        ReviewerCmd::Remove { name } => remove(config, &name),
    }
}

/// Reads the passphrase twice: from the terminal without echo, or as the first
/// two lines of standard input (the second may be omitted there).
fn read_passphrase() -> Result<Zeroizing<String>, String> {
    if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(
            rpassword::prompt_password("Passphrase: ").map_err(|e| e.kind().to_string())?,
        );
        let second = Zeroizing::new(
            rpassword::prompt_password("Passphrase again: ").map_err(|e| e.kind().to_string())?,
        );
        if *first != *second {
            return Err("the two passphrases differ".into());
        }
        return Ok(first);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let mut first = Zeroizing::new(String::new());
    lines
        .read_line(&mut first)
        .map_err(|e| e.kind().to_string())?;
    let mut second = Zeroizing::new(String::new());
    let _ = lines.read_line(&mut second);
    let first = Zeroizing::new(first.trim_end_matches(['\r', '\n']).to_owned());
    let second = second.trim_end_matches(['\r', '\n']);
    if !second.is_empty() && second != first.as_str() {
        return Err("the two passphrases differ".into());
    }
    Ok(first)
}

fn add(
    config: &Config,
    name: &str,
    identity_file: Option<&Path>,
    add_recipient: bool,
    no_totp: bool,
    work_factor: u8,
) -> ExitCode {
    if !reviewers::valid_name(name) {
        return fail(
            "a reviewer name is 1–32 of a-z, 0-9, _ and -, starting with a letter or digit",
        );
    }
    if no_totp && config.production {
        return fail("production mode needs TOTP for every reviewer; leave out --no-totp");
    }
    // Lower work factors make files quick to test with, and quick to guess.
    if config.production && work_factor < DEFAULT_WORK_FACTOR {
        return fail(&format!(
            "production mode needs a scrypt work factor of at least {DEFAULT_WORK_FACTOR} \
             (age's default); leave out --work-factor"
        ));
    }
    let dir = reviewers::folder(&config.keys_dir);
    let path = keys::reviewer_path(&config.keys_dir, name);
    if path.exists() {
        return fail(&format!(
            "{} exists; remove that reviewer first",
            path.display()
        ));
    }
    let passphrase = match read_passphrase() {
        Ok(p) => p,
        Err(e) => return fail(&format!("cannot read the passphrase: {e}")),
    };
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return fail(&format!(
            "the passphrase must have at least {MIN_PASSPHRASE} characters"
        ));
    }
    let (identity, file) = match make_identity_file(identity_file, &passphrase, work_factor) {
        Ok(pair) => pair,
        Err(e) => return fail(&e),
    };
    let made = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
    };
    if let Err(e) = made {
        return fail(&format!("cannot create {}: {}", dir.display(), e.kind()));
    }
    if let Err(e) = keys::write_private(&path, &file) {
        return fail(&format!("cannot write {}: {}", path.display(), e.kind()));
    }
    // Every file first, then what the operator reads: a closed standard
    // output (`… | head`) cannot leave a reviewer half added.
    let recipient = identity.to_public();
    let mut said = Zeroizing::new(format!(
        "reviewer {name} written to {}\nrecipient: {recipient}\n",
        path.display()
    ));
    if !no_totp {
        match setup_totp(config, name, &recipient) {
            Ok(text) => said.push_str(&text),
            Err(e) => return fail(&e),
        }
    }
    if add_recipient {
        let team = keys::team_pub_path(&config.keys_dir);
        if let Err(e) = keys::append_team_line(&team, &format!("# reviewer {name}\n{recipient}\n"))
        {
            return fail(&format!(
                "cannot append to {}: {}",
                team.display(),
                e.kind()
            ));
        }
        said.push_str(&format!("recipient appended to {}\n", team.display()));
    } else if !is_listed(&config.keys_dir, &recipient) {
        said.push_str(&format!(
            "this reviewer cannot log in until the recipient is in {} (or use --add-recipient)\n",
            keys::team_pub_path(&config.keys_dir).display()
        ));
    }
    say(&said, name)
}

/// Prints `text` (which may hold a TOTP secret) on standard output; if it
/// cannot be printed, says how to get a new second factor instead of
/// panicking half-way.
fn say(text: &str, name: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!(
            "every file was written, but standard output was closed ({}); \
             run `signaal reviewer totp {name}` for a new second factor",
            e.kind()
        )),
    }
}

fn is_listed(keys_dir: &Path, recipient: &x25519::Recipient) -> bool {
    let mine = recipient.to_string();
    keys::load_team(keys_dir).is_ok_and(|t| t.recipients.iter().any(|r| r.to_string() == mine))
}

/// The identity and the bytes of its passphrase-protected file.
fn make_identity_file(
    from: Option<&Path>,
    passphrase: &str,
    work_factor: u8,
) -> Result<(x25519::Identity, Vec<u8>), String> {
    let Some(from) = from else {
        let identity = x25519::Identity::generate();
        let file = crypto::wrap_identity(&identity, passphrase, Some(work_factor))
            .map_err(|_| "cannot encrypt the identity".to_owned())?;
        return Ok((identity, file));
    };
    let bytes = Zeroizing::new(
        std::fs::read(from).map_err(|e| format!("cannot read {}: {}", from.display(), e.kind()))?,
    );
    let encrypted = bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        || bytes.starts_with(b"age-encryption.org/v1");
    if encrypted {
        // Made by `age -p`: keep it byte for byte, after proving the passphrase opens it.
        let identity = crypto::unwrap_identity(&bytes, passphrase).map_err(|_| {
            format!(
                "{} does not open with that passphrase (or holds no age identity)",
                from.display()
            )
        })?;
        return Ok((identity, bytes.to_vec()));
    }
    let text =
        std::str::from_utf8(&bytes).map_err(|_| format!("{} is not text", from.display()))?;
    let identity = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|l| l.parse::<x25519::Identity>().ok())
        .ok_or_else(|| format!("{} holds no AGE-SECRET-KEY-1 line", from.display()))?;
    let file = crypto::wrap_identity(&identity, passphrase, Some(work_factor))
        .map_err(|_| "cannot encrypt the identity".to_owned())?;
    Ok((identity, file))
}

/// Makes and seals a new second factor; returns what to show the
/// reviewer once (the URI and its QR code).
fn setup_totp(
    config: &Config,
    name: &str,
    recipient: &x25519::Recipient,
) -> Result<Zeroizing<String>, String> {
    let secret = reviewers::new_totp_secret();
    let totp = reviewers::totp(name, &secret).ok_or("cannot set up TOTP")?;
    let sealed = reviewers::seal_totp(&secret, recipient).ok_or("cannot seal the TOTP secret")?;
    let path = reviewers::totp_path(&config.keys_dir, name);
    keys::write_private(&path, &sealed)
        .map_err(|e| format!("cannot write {}: {}", path.display(), e.kind()))?;
    let url = Zeroizing::new(totp.get_url());
    let mut text = format!(
        "TOTP second factor: scan this code with an authenticator app, or enter the URI.\n\
         otpauth URI: {}\n",
        url.as_str()
    );
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let art = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build();
            text.push_str(&art);
            text.push('\n');
        }
        Err(_) => text.push_str("(the QR code could not be drawn; use the URI)\n"),
    }
    Ok(Zeroizing::new(text))
}

fn reset_totp(config: &Config, name: &str) -> ExitCode {
    if !reviewers::valid_name(name) {
        return fail("no such reviewer name");
    }
    let path = keys::reviewer_path(&config.keys_dir, name);
    let file = match std::fs::read(&path) {
        Ok(f) => f,
        Err(e) => return fail(&format!("cannot read {}: {}", path.display(), e.kind())),
    };
    let passphrase = match read_passphrase() {
        Ok(p) => p,
        Err(e) => return fail(&format!("cannot read the passphrase: {e}")),
    };
    // Unlocking proves the caller holds the passphrase and yields the recipient.
    let Ok(identity) = crypto::unwrap_identity(&file, &passphrase) else {
        return fail(&format!(
            "{} does not open with that passphrase",
            path.display()
        ));
    };
    match setup_totp(config, name, &identity.to_public()) {
        Ok(text) => say(&text, name),
        Err(e) => fail(&e),
    }
}

fn remove(config: &Config, name: &str) -> ExitCode {
    if !reviewers::valid_name(name) {
        return fail("no such reviewer name");
    }
    let path = keys::reviewer_path(&config.keys_dir, name);
    if !path.exists() {
        return fail(&format!("{} does not exist", path.display()));
    }
    for p in [path, reviewers::totp_path(&config.keys_dir, name)] {
        if p.exists() {
            if let Err(e) = std::fs::remove_file(&p) {
                return fail(&format!("cannot remove {}: {}", p.display(), e.kind()));
            }
        }
    }
    println!(
        "reviewer {name} removed. Also delete their recipient line from {} to revoke access to \
         new signals (and end their sessions at once).",
        keys::team_pub_path(&config.keys_dir).display()
    );
    ExitCode::SUCCESS
}

/// Runs `signaal audit verify [--head HASH] [--heads DIR]`: exit 0 when the
/// chain links and holds every head given, 1 when it does not (or a head
/// file cannot be read), 2 when it could not be checked at all.
pub fn audit(config: &Config, cmd: AuditCmd) -> ExitCode {
    let AuditCmd::Verify { head, heads } = cmd;
    let Pinned {
        pins,
        from_files,
        unreadable,
    } = match pinned(head.as_deref(), heads.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let store = match Store::open(&config.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let only: Vec<Pin> = pins.iter().map(|(_, p)| *p).collect();
    let verdict = store.verify_audit_blocking(&only);
    store.close();
    let chain_holds = match verdict {
        Ok(Verdict::Intact { rows, head: hash }) => {
            println!("audit chain intact: {rows} rows");
            if head.is_some() {
                println!(
                    "the pinned head is in the chain: nothing up to it was removed or rewritten"
                );
            }
            if let Some(dir) = &heads {
                say_kept(dir, from_files, unreadable.len(), &pins, true);
            }
            println!("head: sha256 {hash} (note it elsewhere to pin the chain)");
            true
        }
        Ok(Verdict::Unpinned { rows, missing }) => {
            println!(
                "audit chain NOT as pinned: its {rows} rows link, but they do not hold every \
                 pinned head; rows up to each head named below were removed, or rewritten and \
                 re-hashed"
            );
            for (name, pin) in missing.iter().filter_map(|&i| pins.get(i)) {
                match pin.seq {
                    Some(seq) => println!("{name}: row {seq}: the chain does NOT hold this head"),
                    None => println!("{name}: the chain does NOT hold this head"),
                }
            }
            if let Some(dir) = &heads {
                say_kept(dir, from_files, unreadable.len(), &pins, false);
            }
            false
        }
        Ok(Verdict::Broken { seq, reason }) => {
            println!("audit chain broken at row {seq}: {reason}");
            false
        }
        Err(e) => return fail(&e.to_string()),
    };
    for line in &unreadable {
        println!("{line}: the chain cannot be checked against it");
    }
    if chain_holds && unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The heads `audit verify` was given, each with what the output calls it.
struct Pinned {
    /// `--head`'s, then those of the head files, by file name.
    pins: Vec<(String, Pin)>,
    /// How many of them came from head files.
    from_files: usize,
    /// Each head file that cannot be read as one, and why.
    unreadable: Vec<String>,
}

/// Reads `--head HASH` and the head files in `--heads DIR`.
fn pinned(head: Option<&str>, heads: Option<&Path>) -> Result<Pinned, String> {
    let mut out = Pinned {
        pins: Vec::new(),
        from_files: 0,
        unreadable: Vec::new(),
    };
    if let Some(hash) = head {
        let pin = Pin::from_hash(hash)
            .ok_or("--head takes the 64 hex digits of a head's sha256, as the log writes it")?;
        out.pins
            .push(("the head given with --head".to_owned(), pin));
    }
    if let Some(dir) = heads {
        for kept in crate::ops::heads::kept_heads(dir).map_err(|e| e.to_string())? {
            let file = kept.file.display().to_string();
            match kept.head {
                Ok(pin) => {
                    out.from_files += 1;
                    out.pins.push((file, pin));
                }
                Err(problem) => out.unreadable.push(format!("{file}: {problem}")),
            }
        }
    }
    Ok(out)
}

/// Says how many heads the folder `dir` held, the newest of them, and
/// whether the chain holds them all.
fn say_kept(dir: &Path, count: usize, unreadable: usize, pins: &[(String, Pin)], held: bool) {
    let newest = pins.iter().filter_map(|(_, p)| p.seq).max();
    let heads = if count == 1 { "head" } else { "heads" };
    match newest {
        Some(newest) if count > 0 && held => println!(
            "{count} {heads} kept in {} checked, the newest at row {newest}: the chain holds \
             every one, nothing up to them was removed or rewritten",
            dir.display()
        ),
        Some(newest) if count > 0 => println!(
            "{count} {heads} kept in {} checked, the newest at row {newest}",
            dir.display()
        ),
        _ if unreadable > 0 => {}
        _ => println!(
            "no heads in {}: nothing to compare (each backup writes one beside it)",
            dir.display()
        ),
    }
}

/// Runs `signaal report --csv`: the same suppressed counts as `GET /report.csv`.
pub fn report_csv(config: &Config) -> ExitCode {
    let store = match Store::open(&config.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let actor = crate::ops::command_line_actor();
    let result = store
        .audit_blocking(Entry::general(&actor, Action::Report, "csv"))
        .and_then(|()| store.report_cells_blocking());
    store.close();
    match result {
        Ok(cells) => {
            print!("{}", report::to_csv(&cells));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// Runs `signaal report hardships --year YYYY [--format F] [--lang L]
/// [--reviewer NAME]`: the annual report on standard output, audited first.
/// With a reviewer, their identity (unlocked with the passphrase, as `keys
/// rewrap` takes it) opens the unpublished hardships, marked internal.
pub fn report_hardships(
    config: &Config,
    year: &str,
    format: &str,
    lang: &str,
    reviewer: Option<&str>,
) -> ExitCode {
    let Some(year) = annual::parse_year(year) else {
        return fail(&format!(
            "--year takes a year of four digits from 2000 to 2999, such as 2026, not {:?}",
            year.chars().take(12).collect::<String>()
        ));
    };
    let Some(format) = annual::Format::parse(format) else {
        return fail("--format takes html, md or csv");
    };
    let Some(lang) = crate::views::Lang::parse(lang) else {
        return fail("--lang takes nl or en");
    };
    let identity = match reviewer.map(|name| unlock(config, name)).transpose() {
        Ok(identity) => identity,
        Err(e) => return fail(&e),
    };
    let asked = annual::Asked {
        year,
        format,
        lang,
        internal: identity.is_some(),
    };
    let actor = reviewer.map_or_else(crate::ops::command_line_actor, str::to_owned);
    let store = match Store::open(&config.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let made = store
        .audit_blocking(annual::audit_entry(&actor, &asked))
        .and_then(|()| annual::make(&store, asked, identity.as_ref()));
    store.close();
    drop(identity);
    match made {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(report.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("cannot write the report: {}", e.kind())),
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// Unlocks reviewer `name`'s identity with the passphrase from the terminal
/// or standard input; refused for a reviewer no longer in `team.pub`.
fn unlock(config: &Config, name: &str) -> Result<x25519::Identity, String> {
    if !reviewers::valid_name(name) {
        return Err("no such reviewer name".into());
    }
    let team = keys::load_team(&config.keys_dir).map_err(|e| e.to_string())?;
    let passphrase = crate::ops::commands::read_passphrase(name)
        .map_err(|e| format!("cannot read the passphrase: {e}"))?;
    match crate::ops::rewrap::unlock(&config.keys_dir, &team, name, &passphrase) {
        Ok((identity, true)) => Ok(identity),
        Ok((_, false)) => Err(format!(
            "{name}'s recipient is not in team.pub: a revoked reviewer makes no internal report"
        )),
        Err(e) => Err(e.to_string()),
    }
}
