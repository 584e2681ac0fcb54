//! The command line: `serve`, `export`, `check`, and the operator's
//! `backup`, `restore`, `purge` and `keys rewrap`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::server::{self, Face};
use crate::store::Store;

/// signaal — an anonymous signal channel, encrypted at the door.
#[derive(Debug, Parser)]
#[command(name = "signaal", version, about)]
struct Cli {
    /// The TOML configuration file (also SIGNAAL_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the intake and review faces (the default).
    Serve {
        /// Refuse demo keys and require https public_url.
        #[arg(long)]
        production: bool,
        /// Which faces to serve in this process.
        #[arg(long, value_enum, default_value = "both")]
        face: Face,
    },
    /// Write stored envelopes out as age files.
    Export {
        /// Folder to write `<id>.age` files into.
        #[arg(long = "encrypted", value_name = "DIR")]
        dir: PathBuf,
        /// Also write each signal's messages, as `<id>.thread/<seq>-<team|sender>.age`.
        #[arg(long)]
        thread: bool,
    },
    /// Check configuration, keys, their modes and the database; print the
    /// version and the schema; exit non-zero on any problem.
    Check {
        /// Also ask the running faces' /healthz.
        #[arg(long)]
        server: bool,
    },
    /// Manage reviewer key files.
    Reviewer {
        #[command(subcommand)]
        cmd: crate::reviewer_cmd::ReviewerCmd,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        cmd: crate::reviewer_cmd::AuditCmd,
    },
    /// Copy the database, consistently and without order, to the new file
    /// DEST (safe while serving); sealed with age to keys/backup.pub when it
    /// exists.
    Backup {
        /// The backup file to write (must not exist yet).
        dest: PathBuf,
        /// Seal the copy to this age recipient (age1…) or recipients file
        /// instead of keys/backup.pub.
        #[arg(long, value_name = "RECIPIENT")]
        encrypt_to: Option<String>,
    },
    /// Replace the database by a backup, after checking it (stop signaal first).
    Restore {
        /// The backup file (plain, or sealed by `backup`).
        src: PathBuf,
        /// Overwrite a database that holds signals.
        #[arg(long)]
        replace: bool,
        /// The backup identity that opens a sealed backup (plain, or made with
        /// `age -p`: passphrase from the terminal or standard input).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Delete signals past their retention period (the [retention] settings).
    Purge,
    /// Work with the team's keys.
    Keys {
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Print the aggregate report (small counts suppressed), or with
    /// `hardships` the annual report "Hardheden en oplossingen".
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Report {
        /// As CSV on standard output (the only format of the aggregate report).
        #[arg(long, required = true)]
        csv: bool,
        #[command(subcommand)]
        what: Option<ReportCmd>,
    },
}

/// `signaal report …`
#[derive(Debug, Subcommand)]
enum ReportCmd {
    /// Write the annual report "Hardheden en oplossingen" of the published
    /// hardships to standard output (with --reviewer also the unpublished
    /// ones, marked internal).
    Hardships {
        /// The year (four digits): the hardships published by its 31 December.
        #[arg(long)]
        year: String,
        /// html (print-ready), md or csv.
        #[arg(long, default_value = "html")]
        format: String,
        /// nl or en.
        #[arg(long, default_value = "nl")]
        lang: String,
        /// Also the unpublished hardships, opened with this reviewer's
        /// identity (passphrase from the terminal, or the first line of
        /// standard input).
        #[arg(long)]
        reviewer: Option<String>,
    },
}

/// `signaal keys …`
#[derive(Debug, Subcommand)]
enum KeysCmd {
    /// Re-encrypt every envelope to the recipients now in team.pub.
    Rewrap {
        /// The reviewer whose identity opens the envelopes (passphrase from
        /// the terminal, or the first line of standard input).
        #[arg(long)]
        reviewer: String,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    // Before anything holds a secret: no core dumps, no ptrace of this process.
    let hardened = crate::ops::hardening::harden();
    let cli = Cli::parse();
    match crate::config::log_filter() {
        Ok(filter) => init_tracing(filter),
        Err(e) => return fail(&e),
    }
    let file = cli.config.clone().or_else(crate::config::file_from_env);
    let mut config = match Config::load(file.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let command = cli.command.unwrap_or(Command::Serve {
        production: false,
        face: Face::Both,
    });
    if !matches!(command, Command::Serve { .. }) {
        // The reviewer commands touch the keys alone (keys/README.md makes
        // them in a checkout before the demo has made ./data).
        let keys_only = matches!(command, Command::Reviewer { .. });
        if let Some(sentence) = no_installation_here(file.as_deref(), &config, keys_only) {
            return fail(&sentence);
        }
    }
    match command {
        Command::Serve { production, face } => {
            crate::ops::hardening::log(&hardened);
            config.production |= production;
            if let Err(e) = config.validate() {
                return fail(&e);
            }
            // Sizes set here, not left to TOKIO_WORKER_THREADS or RUST_MIN_STACK:
            // only the configuration decides how signaal runs.
            let workers = std::thread::available_parallelism().map_or(2, usize::from);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_stack_size(crate::config::THREAD_STACK)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            match runtime.block_on(server::run(config, face)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Export { dir, thread } => export(&config, &dir, thread),
        Command::Check { server } => crate::ops::check::check(&config, server, file.as_deref()),
        Command::Backup { dest, encrypt_to } => {
            crate::ops::commands::backup(&config, &dest, encrypt_to.as_deref())
        }
        Command::Restore {
            src,
            replace,
            identity,
        } => crate::ops::commands::restore(&config, &src, replace, identity.as_deref()),
        Command::Purge => crate::ops::commands::purge(&config),
        Command::Keys {
            cmd: KeysCmd::Rewrap { reviewer },
        } => crate::ops::commands::rewrap(&config, &reviewer),
        Command::Reviewer { cmd } => crate::reviewer_cmd::reviewer(&config, cmd),
        Command::Audit { cmd } => crate::reviewer_cmd::audit(&config, cmd),
        Command::Report {
            what:
                Some(ReportCmd::Hardships {
                    year,
                    format,
                    lang,
                    reviewer,
                }),
            ..
        } => crate::reviewer_cmd::report_hardships(
            &config,
            &year,
            &format,
            &lang,
            reviewer.as_deref(),
        ),
        Command::Report { what: None, .. } => crate::reviewer_cmd::report_csv(&config),
    }
}

/// A command other than `serve` acts on an installation. Without a
/// configuration file, with the default data folder and no `./data` here, it
/// was run in the wrong place (a cron job, a shell in another folder): say so,
/// instead of making an empty database and reporting success on it. A
/// command that acts on the keys alone (`keys_only`) looks for `./keys`.
fn no_installation_here(
    file: Option<&std::path::Path>,
    config: &Config,
    keys_only: bool,
) -> Option<String> {
    let defaults = Config::default();
    let data_here = config.data_dir != defaults.data_dir || defaults.data_dir.exists();
    let keys_here = config.keys_dir != defaults.keys_dir || defaults.keys_dir.exists();
    if data_here || (keys_only && keys_here) {
        return None;
    }
    let here = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "this folder".to_owned());
    Some(match file {
        None => format!(
            "no configuration (--config FILE or SIGNAAL_CONFIG) and no ./data in {here}: \
             this is not a signaal installation; name its configuration, for example \
             --config /etc/signaal/signaal.toml"
        ),
        Some(file) => format!(
            "{} sets no data_dir, and there is no ./data in {here}: set data_dir (for \
             example /var/lib/signaal) instead of making an empty database here",
            file.display()
        ),
    })
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("signaal: {error}");
    ExitCode::from(2)
}

fn init_tracing(filter: tracing_subscriber::EnvFilter) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn export(config: &Config, dir: &std::path::Path, thread: bool) -> ExitCode {
    let store = match Store::open(&config.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if let Err(e) = private_dir(dir) {
        return fail(&format!("cannot create {}: {}", dir.display(), e.kind()));
    }
    let envelopes = match store.envelopes_blocking() {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    // In the audit log before any file is written, as an export from the
    // review face is.
    let what = format!(
        "command line: {} signals{}",
        envelopes.len(),
        if thread { " with their threads" } else { "" }
    );
    let actor = crate::ops::command_line_actor();
    let entry = crate::audit::Entry::general(&actor, crate::audit::Action::Export, what);
    if let Err(e) = store.audit_blocking(entry) {
        return fail(&e);
    }
    for env in &envelopes {
        let path = dir.join(format!("{}.age", env.id));
        if let Err(e) = crate::keys::write_private(&path, &env.envelope) {
            return fail(&format!("cannot write {}: {}", path.display(), e.kind()));
        }
    }
    let messages = if thread {
        match export_thread(&store, dir) {
            Ok(n) => format!(" and {n} messages"),
            Err(e) => return fail(&e),
        }
    } else {
        String::new()
    };
    store.close();
    println!(
        "exported {} signals{messages} to {}",
        envelopes.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}

/// Makes an export folder that only its owner may enter: the envelopes are
/// sealed, but which signals exist and how large they are is still no one
/// else's business.
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Writes every message envelope as `DIR/<id>.thread/<seq>-<author>.age`;
/// returns how many.
fn export_thread(store: &Store, dir: &std::path::Path) -> Result<usize, String> {
    let messages = store
        .thread_envelopes_blocking()
        .map_err(|e| e.to_string())?;
    for m in &messages {
        let folder = dir.join(format!("{}.thread", m.signal_id));
        private_dir(&folder)
            .map_err(|e| format!("cannot create {}: {}", folder.display(), e.kind()))?;
        let path = folder.join(format!("{:04}-{}.age", m.seq, m.author));
        crate::keys::write_private(&path, &m.envelope)
            .map_err(|e| format!("cannot write {}: {}", path.display(), e.kind()))?;
    }
    Ok(messages.len())
}
