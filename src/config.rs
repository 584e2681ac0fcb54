//! Settings: defaults, then the TOML file, then `SIGNAAL_*` environment variables.
//!
//! Everything is validated once, here, before a socket is opened. An error names
//! the setting and where its value came from, and says what to do; it never
//! repeats a value that could be a secret.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

/// How precisely the day a signal arrived is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// The calendar day (UTC).
    Day,
    /// The Monday of the ISO week (UTC).
    Week,
}

/// Rate limits for submissions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Submissions one client address may make at once before the hourly rate applies.
    pub submit_burst: u32,
    /// Sustained submissions per client address per hour.
    pub submit_per_hour: u32,
    /// Submissions per second for all clients together.
    pub global_per_second: u32,
    /// Receipt-code look-ups per client address per hour (follow-up).
    pub lookup_per_hour: u32,
    /// Look-ups one client address may make at once before the hourly rate
    /// applies (at most `lookup_per_hour`).
    pub lookup_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        // A ministry's intranet may reach us through one egress address: after a
        // news item or a poster, dozens of colleagues file at the same hour, and
        // come back with their codes. 60 at once and 240 an hour (4 a minute)
        // fits them; a script flooding the form from one address is held at 4
        // a minute, and everyone together at 100 a second.
        Self {
            submit_burst: 60,
            submit_per_hour: 240,
            global_per_second: 100,
            lookup_per_hour: 240,
            lookup_burst: 60,
        }
    }
}

/// How long signals are kept, per status, counted in days from the day the
/// signal reached a final status (or, for open statuses, from the day it
/// arrived). 0 keeps signals of that status for ever. `signaal purge` and the
/// server's daily run delete what is older, for real (see `ops::purge`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Signals nobody has looked at yet.
    pub new_days: u32,
    /// Signals being worked on.
    pub in_progress_days: u32,
    /// Signals passed on to the organisation concerned.
    pub forwarded_days: u32,
    /// Closed signals.
    pub closed_days: u32,
    /// Signals found not admissible.
    pub not_admissible_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        // Open work is never deleted behind a reviewer's back; finished work
        // goes half a year after it was finished.
        Self {
            new_days: 0,
            in_progress_days: 0,
            forwarded_days: 0,
            closed_days: 180,
            not_admissible_days: 180,
        }
    }
}

impl Retention {
    /// `(status, days)` for every status with a limit (days > 0).
    pub fn limits(&self) -> Vec<(&'static str, u32)> {
        [
            ("new", self.new_days),
            ("in_progress", self.in_progress_days),
            ("forwarded", self.forwarded_days),
            ("closed", self.closed_days),
            ("not_admissible", self.not_admissible_days),
        ]
        .into_iter()
        .filter(|(_, days)| *days > 0)
        .collect()
    }
}

/// Who runs this installation, shown in every intake page's header and
/// footer, above the form and on the privacy page (the controller and data
/// protection officer that article 13 of the AVG/GDPR asks for).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Organisation {
    /// The organisation that runs the channel, as its staff know it.
    pub name: String,
    /// The team inside it that reads the signals.
    pub team: String,
    /// Where to ask a question or report a problem: a web page (`https://…`)
    /// or an e-mail address.
    pub contact: String,
    /// The controller in the sense of the AVG/GDPR (for a ministry: the minister).
    pub controller: String,
    /// How to reach the data protection officer: a web page or an e-mail address.
    pub dpo: String,
}

impl Default for Organisation {
    fn default() -> Self {
        // The programme signaal was made for; the contact and the data
        // protection officer are the operator's to fill in (without them
        // `signaal check` fails in production and `serve` warns at start).
        Self {
            name: "Ministerie van Binnenlandse Zaken en Koninkrijksrelaties".into(),
            team: "Programmateam Onevenredige Hardheden Aanpak".into(),
            contact: String::new(),
            controller: "De minister van Binnenlandse Zaken en Koninkrijksrelaties".into(),
            dpo: String::new(),
        }
    }
}

impl Organisation {
    /// The settings a sender needs to check who runs the channel that are
    /// still empty (`signaal check` reports them; production warns at start).
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("organisation.contact", &self.contact),
            ("organisation.controller", &self.controller),
            ("organisation.dpo", &self.dpo),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(name, _)| name)
        .collect()
    }

    /// A contact as a link target: a web address as it is, an e-mail
    /// address as `mailto:`; `None` for anything else (shown as text).
    pub fn href(contact: &str) -> Option<String> {
        let c = contact.trim();
        if c.starts_with("https://") || c.starts_with("http://") {
            Some(c.to_owned())
        } else if c.contains('@') && !c.contains(char::is_whitespace) && !c.contains(':') {
            Some(format!("mailto:{c}"))
        } else {
            None
        }
    }
}

/// What systemd says through the environment of a service it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Systemd {
    /// `NOTIFY_SOCKET` is set (`Type=notify`): say when ready and stopping.
    pub notify: bool,
    /// `WATCHDOG_USEC` (for this process): ping at least this often.
    pub watchdog: Option<std::time::Duration>,
}

impl Systemd {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    pub fn from_env() -> Self {
        Self {
            notify: std::env::var_os("NOTIFY_SOCKET").is_some(),
            watchdog: sd_notify::watchdog_enabled(),
        }
    }
}

/// The log filter from `SIGNAAL_LOG` (default `info`). A value that is not a
/// level (or `target=level` list) stops the start: a typo would otherwise
/// silence the log without a word.
pub fn log_filter() -> Result<tracing_subscriber::EnvFilter, ConfigError> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let invalid = ConfigError::Env {
        name: "SIGNAAL_LOG",
        expected: "expected a level (error, warn, info, debug, trace, off) or a list such as \
                   info,signaal=debug",
    };
    let Some(value) = std::env::var_os("SIGNAAL_LOG") else {
        return Ok(tracing_subscriber::EnvFilter::new("info"));
    };
    let value = value.into_string().map_err(|_| invalid.clone())?;
    let known = |level: &str| LEVELS.contains(&level.trim().to_ascii_lowercase().as_str());
    let every_directive_has_a_level =
        value
            .split(',')
            .all(|directive| match directive.rsplit_once('=') {
                Some((target, level)) => !target.trim().is_empty() && known(level),
                None => known(directive),
            });
    if !every_directive_has_a_level {
        return Err(invalid);
    }
    tracing_subscriber::EnvFilter::try_new(&value).map_err(|_| invalid)
}

/// The validated settings of one signaal installation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address of the public intake face.
    pub intake_addr: SocketAddr,
    /// Address of the restricted review face (keep it on loopback or an internal network).
    pub review_addr: SocketAddr,
    /// Host names (with or without `:port`) the review face answers to
    /// besides its own address, such as the name reviewers type to reach it
    /// through a proxy. Any other `Host` gets 421, so a page of another site
    /// whose name was pointed at this address (DNS rebinding) reads nothing.
    pub review_hosts: Vec<String>,
    /// Folder of the database.
    pub data_dir: PathBuf,
    /// Folder of `team.pub` and `reviewers/`.
    pub keys_dir: PathBuf,
    /// Refuse demo keys and refuse to start without team recipients.
    pub production: bool,
    /// Allow demo keys although `public_url` is not a loopback address (a
    /// demonstration on a shared machine); without it, demo keys are only
    /// made and used for a form on this machine.
    pub demo: bool,
    /// The address people use to reach the form (for links and QR codes).
    pub public_url: String,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// How precisely the arrival of a signal is kept.
    pub received_precision: Precision,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Address ranges of government work networks (a notice is shown to visitors from them).
    pub work_networks: Vec<IpNet>,
    /// Most connections open at once on each face.
    pub max_connections: usize,
    /// Most connections one client (address, or Tor circuit) holds at once
    /// on each face (never more than `max_connections`); connections from
    /// `trusted_proxies` count only in the total.
    pub max_connections_per_client: usize,
    /// An optional intake listener for the Tor onion service, which reads the
    /// PROXY protocol header (`HiddenServiceExportCircuitID haproxy`) at the
    /// start of each connection and keys the limits on the circuit.
    pub tor_addr: Option<SocketAddr>,
    /// Seconds a client may take to send its request headers.
    pub header_timeout_secs: u64,
    /// Seconds a whole request may take, body included.
    pub request_timeout_secs: u64,
    /// Largest size of the database in MiB (0: no limit but the disk). Past it,
    /// submissions are refused with "nothing was kept" instead of filling the disk.
    pub max_db_mib: u64,
    /// How many backups a day the timers make (the privacy page says so: each
    /// copy's time tells which signals arrived between two copies).
    pub backups_per_day: u32,
    /// Days a sealed backup is kept, on the machine and off it, before it is
    /// deleted (the privacy page says so): the local copies' age and restic's
    /// `KEEP_WITHIN` (+ 2) together, so a signal deleted on day D is in no copy
    /// after D + this many days.
    pub backup_keep_days: u32,
    /// Address of the optional metrics listener (loopback only; off when unset).
    pub metrics_addr: Option<SocketAddr>,
    /// Seconds between two mixes (see `store::mix`): at most this long does the
    /// data folder order what arrived since the last one.
    pub mix_interval_secs: u64,
    /// Seconds a review session lasts without a request (at most 900).
    pub review_idle_secs: u64,
    /// Seconds a review session lasts at all, however busy (at most 28800).
    pub review_absolute_secs: u64,
    /// Rate limits.
    pub limits: Limits,
    /// How long signals are kept, per status.
    pub retention: Retention,
    /// Who runs this installation.
    pub organisation: Organisation,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            intake_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            review_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            review_hosts: Vec::new(),
            data_dir: PathBuf::from("./data"),
            keys_dir: PathBuf::from("./keys"),
            production: false,
            demo: false,
            public_url: String::from("http://127.0.0.1:8080/"),
            max_body_bytes: 64 * 1024,
            received_precision: Precision::Day,
            trusted_proxies: Vec::new(),
            work_networks: Vec::new(),
            max_connections: 1024,
            max_connections_per_client: 64,
            tor_addr: None,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            max_db_mib: 0,
            mix_interval_secs: 3600,
            metrics_addr: None,
            backups_per_day: 1,
            backup_keep_days: 15,
            review_idle_secs: 15 * 60,
            review_absolute_secs: 8 * 3600,
            limits: Limits::default(),
            retention: Retention::default(),
            organisation: Organisation::default(),
        }
    }
}

/// A setting that cannot be used, with what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error(
        "cannot read the configuration file {path}: {reason}. Check SIGNAAL_CONFIG or --config."
    )]
    Unreadable { path: PathBuf, reason: String },
    /// The configuration file is not valid TOML or has an unknown or mistyped setting.
    #[error("the configuration file {path} has a problem: {reason}")]
    Syntax { path: PathBuf, reason: String },
    /// An environment variable holds a value of the wrong shape.
    #[error("the environment variable {name} is not valid: {expected}")]
    Env {
        name: &'static str,
        expected: &'static str,
    },
    /// A value is of the right shape but cannot work.
    #[error("the setting {name} {problem}")]
    Invalid { name: &'static str, problem: String },
}

/// The stack of every thread signaal starts (Rust's own default), set
/// explicitly so that no `RUST_MIN_STACK` in the environment changes it.
pub const THREAD_STACK: usize = 2 * 1024 * 1024;

/// The configuration file named by `SIGNAAL_CONFIG`, when `--config` names none.
pub fn file_from_env() -> Option<PathBuf> {
    std::env::var_os("SIGNAAL_CONFIG").map(PathBuf::from)
}

impl Config {
    /// Reads the settings: defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            path: path.to_owned(),
            reason: e.kind().to_string(),
        })?;
        Self::from_toml(&text).map_err(|reason| ConfigError::Syntax {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses TOML text on top of the defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        // toml's message names the key and the line; it quotes the offending value,
        // which is acceptable because this file holds no secrets.
        toml::from_str(text).map_err(|e| e.message().to_owned() + &line_of(text, e.span()))
    }

    /// Applies `SIGNAAL_*` variables, read through `var` so tests can supply them.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(
            value: &str,
            name: &'static str,
            expected: &'static str,
        ) -> Result<T, ConfigError> {
            value
                .trim()
                .parse()
                .map_err(|_| ConfigError::Env { name, expected })
        }
        const ADDR: &str = "expected an address and port such as 127.0.0.1:8080";
        const BOOL: &str = "expected true or false";
        const NUM: &str = "expected a whole number";
        if let Some(v) = var("SIGNAAL_INTAKE_ADDR") {
            self.intake_addr = parse(&v, "SIGNAAL_INTAKE_ADDR", ADDR)?;
        }
        if let Some(v) = var("SIGNAAL_REVIEW_ADDR") {
            self.review_addr = parse(&v, "SIGNAAL_REVIEW_ADDR", ADDR)?;
        }
        if let Some(v) = var("SIGNAAL_REVIEW_HOSTS") {
            self.review_hosts = v
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = var("SIGNAAL_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("SIGNAAL_KEYS_DIR") {
            self.keys_dir = PathBuf::from(v);
        }
        if let Some(v) = var("SIGNAAL_PRODUCTION") {
            self.production = parse(&v, "SIGNAAL_PRODUCTION", BOOL)?;
        }
        if let Some(v) = var("SIGNAAL_DEMO") {
            self.demo = parse(&v, "SIGNAAL_DEMO", BOOL)?;
        }
        if let Some(v) = var("SIGNAAL_MAX_CONNECTIONS") {
            self.max_connections = parse(&v, "SIGNAAL_MAX_CONNECTIONS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_MAX_CONNECTIONS_PER_CLIENT") {
            self.max_connections_per_client = parse(&v, "SIGNAAL_MAX_CONNECTIONS_PER_CLIENT", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_REQUEST_TIMEOUT_SECS") {
            self.request_timeout_secs = parse(&v, "SIGNAAL_REQUEST_TIMEOUT_SECS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_HEADER_TIMEOUT_SECS") {
            self.header_timeout_secs = parse(&v, "SIGNAAL_HEADER_TIMEOUT_SECS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_TOR_ADDR") {
            self.tor_addr = Some(parse(&v, "SIGNAAL_TOR_ADDR", ADDR)?);
        }
        if let Some(v) = var("SIGNAAL_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = var("SIGNAAL_MAX_BODY_BYTES") {
            self.max_body_bytes = parse(&v, "SIGNAAL_MAX_BODY_BYTES", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_TRUSTED_PROXIES") {
            self.trusted_proxies = parse_nets(&v).ok_or(ConfigError::Env {
                name: "SIGNAAL_TRUSTED_PROXIES",
                expected: "expected comma-separated addresses or ranges such as 10.0.0.1/32",
            })?;
        }
        if let Some(v) = var("SIGNAAL_WORK_NETWORKS") {
            self.work_networks = parse_nets(&v).ok_or(ConfigError::Env {
                name: "SIGNAAL_WORK_NETWORKS",
                expected: "expected comma-separated ranges such as 147.181.0.0/16",
            })?;
        }
        if let Some(v) = var("SIGNAAL_REVIEW_IDLE_SECS") {
            self.review_idle_secs = parse(&v, "SIGNAAL_REVIEW_IDLE_SECS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_REVIEW_ABSOLUTE_SECS") {
            self.review_absolute_secs = parse(&v, "SIGNAAL_REVIEW_ABSOLUTE_SECS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_MAX_DB_MIB") {
            self.max_db_mib = parse(&v, "SIGNAAL_MAX_DB_MIB", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_BACKUPS_PER_DAY") {
            self.backups_per_day = parse(&v, "SIGNAAL_BACKUPS_PER_DAY", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_BACKUP_KEEP_DAYS") {
            self.backup_keep_days = parse(&v, "SIGNAAL_BACKUP_KEEP_DAYS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_METRICS_ADDR") {
            self.metrics_addr = Some(parse(&v, "SIGNAAL_METRICS_ADDR", ADDR)?);
        }
        if let Some(v) = var("SIGNAAL_MIX_INTERVAL_SECS") {
            self.mix_interval_secs = parse(&v, "SIGNAAL_MIX_INTERVAL_SECS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_SUBMIT_BURST") {
            self.limits.submit_burst = parse(&v, "SIGNAAL_SUBMIT_BURST", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_SUBMIT_PER_HOUR") {
            self.limits.submit_per_hour = parse(&v, "SIGNAAL_SUBMIT_PER_HOUR", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_GLOBAL_PER_SECOND") {
            self.limits.global_per_second = parse(&v, "SIGNAAL_GLOBAL_PER_SECOND", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_LOOKUP_PER_HOUR") {
            self.limits.lookup_per_hour = parse(&v, "SIGNAAL_LOOKUP_PER_HOUR", NUM)?;
        }
        for (name, field) in [
            ("SIGNAAL_ORGANISATION_NAME", &mut self.organisation.name),
            ("SIGNAAL_ORGANISATION_TEAM", &mut self.organisation.team),
            (
                "SIGNAAL_ORGANISATION_CONTACT",
                &mut self.organisation.contact,
            ),
            (
                "SIGNAAL_ORGANISATION_CONTROLLER",
                &mut self.organisation.controller,
            ),
            ("SIGNAAL_ORGANISATION_DPO", &mut self.organisation.dpo),
        ] {
            if let Some(v) = var(name) {
                *field = v.trim().to_owned();
            }
        }
        if let Some(v) = var("SIGNAAL_LOOKUP_BURST") {
            self.limits.lookup_burst = parse(&v, "SIGNAAL_LOOKUP_BURST", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_RETENTION_NEW_DAYS") {
            self.retention.new_days = parse(&v, "SIGNAAL_RETENTION_NEW_DAYS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_RETENTION_IN_PROGRESS_DAYS") {
            self.retention.in_progress_days = parse(&v, "SIGNAAL_RETENTION_IN_PROGRESS_DAYS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_RETENTION_FORWARDED_DAYS") {
            self.retention.forwarded_days = parse(&v, "SIGNAAL_RETENTION_FORWARDED_DAYS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_RETENTION_CLOSED_DAYS") {
            self.retention.closed_days = parse(&v, "SIGNAAL_RETENTION_CLOSED_DAYS", NUM)?;
        }
        if let Some(v) = var("SIGNAAL_RETENTION_NOT_ADMISSIBLE_DAYS") {
            self.retention.not_admissible_days =
                parse(&v, "SIGNAAL_RETENTION_NOT_ADMISSIBLE_DAYS", NUM)?;
        }
        Ok(())
    }

    /// Checks that the settings can work together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name, problem: &str| ConfigError::Invalid {
            name,
            problem: problem.to_owned(),
        };
        if self.intake_addr == self.review_addr && self.intake_addr.port() != 0 {
            return Err(invalid(
                "review_addr",
                "must differ from intake_addr: the review face never shares the public listener",
            ));
        }
        if let Some(bad) = self.review_hosts.iter().find(|h| !valid_host(h)) {
            return Err(ConfigError::Invalid {
                name: "review_hosts",
                problem: format!(
                    "holds {bad:?}: expected host names such as review.signaal.internal or \
                     review.signaal.internal:8443 (lower case, no scheme, no path)"
                ),
            });
        }
        if self.max_body_bytes < 1024 || self.max_body_bytes > 1024 * 1024 {
            return Err(invalid(
                "max_body_bytes",
                "must be between 1024 and 1048576",
            ));
        }
        for (name, value) in [
            ("limits.submit_burst", self.limits.submit_burst),
            ("limits.submit_per_hour", self.limits.submit_per_hour),
            ("limits.global_per_second", self.limits.global_per_second),
            ("limits.lookup_per_hour", self.limits.lookup_per_hour),
            ("limits.lookup_burst", self.limits.lookup_burst),
        ] {
            if value == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
        }
        // Shorter is allowed; longer would keep unlocked keys in memory beyond
        // what the programme promises its reviewers.
        if !(1..=15 * 60).contains(&self.review_idle_secs) {
            return Err(invalid(
                "review_idle_secs",
                "must be between 1 and 900 (15 minutes)",
            ));
        }
        if !(1..=8 * 3600).contains(&self.review_absolute_secs) {
            return Err(invalid(
                "review_absolute_secs",
                "must be between 1 and 28800 (8 hours)",
            ));
        }
        if !(1..=24).contains(&self.backups_per_day) {
            return Err(invalid("backups_per_day", "must be between 1 and 24"));
        }
        if !(1..=36_600).contains(&self.backup_keep_days) {
            return Err(invalid(
                "backup_keep_days",
                "must be between 1 and 36600 (100 years)",
            ));
        }
        // Counters for monitoring stay on the machine: a scraper elsewhere
        // goes through an SSH tunnel or a local agent.
        if self.metrics_addr.is_some_and(|a| !a.ip().is_loopback()) {
            return Err(invalid(
                "metrics_addr",
                "must be a loopback address such as 127.0.0.1:9464",
            ));
        }
        // At least a second, so tests can mix often; at most a day, the only
        // unit of time the data may keep.
        if !(1..=24 * 3600).contains(&self.mix_interval_secs) {
            return Err(invalid(
                "mix_interval_secs",
                "must be between 1 and 86400 (a day)",
            ));
        }
        // The log's counts are written once per interval, so they place a
        // quiet interval's only signal within it: in production no finer than
        // a quarter of an hour.
        if self.production && self.mix_interval_secs < 900 {
            return Err(invalid(
                "mix_interval_secs",
                "must be at least 900 (15 minutes) in production",
            ));
        }
        if self.max_connections == 0 {
            return Err(invalid("max_connections", "must be at least 1"));
        }
        if self.max_connections_per_client == 0 {
            return Err(invalid("max_connections_per_client", "must be at least 1"));
        }
        // Whoever reaches this listener can claim any circuit or address in
        // its PROXY header: only the Tor daemon on this machine may.
        if let Some(addr) = self.tor_addr {
            if !addr.ip().is_loopback() {
                return Err(invalid(
                    "tor_addr",
                    "must be a loopback address such as 127.0.0.1:8082 (the Tor daemon on this \
                     machine connects to it)",
                ));
            }
            if addr.port() != 0 && (addr == self.intake_addr || addr == self.review_addr) {
                return Err(invalid(
                    "tor_addr",
                    "must differ from intake_addr and review_addr: only this listener reads \
                     PROXY headers",
                ));
            }
        }
        if self.demo && self.production {
            return Err(invalid(
                "demo",
                "cannot be set together with production; production refuses demo keys",
            ));
        }
        if self.header_timeout_secs == 0 || self.request_timeout_secs == 0 {
            return Err(invalid(
                "header_timeout_secs",
                "and request_timeout_secs must be at least 1 second",
            ));
        }
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return Err(invalid(
                "public_url",
                "must start with https:// (or http:// for a demo)",
            ));
        }
        // A century is far past any retention period a policy would set; a
        // larger number is a typo (or a date pasted in the wrong place).
        for (status, days) in self.retention.limits() {
            if days > 36_600 {
                return Err(ConfigError::Invalid {
                    name: "retention",
                    problem: format!(
                        "{status}_days must be at most 36600 (100 years); use 0 to keep for ever"
                    ),
                });
            }
        }
        let o = &self.organisation;
        for (name, value) in [
            ("organisation.name", &o.name),
            ("organisation.team", &o.team),
            ("organisation.contact", &o.contact),
            ("organisation.controller", &o.controller),
            ("organisation.dpo", &o.dpo),
        ] {
            if value.chars().count() > 200 || value.chars().any(char::is_control) {
                return Err(invalid(name, "must be one line of at most 200 characters"));
            }
        }
        if o.name.trim().is_empty() || o.team.trim().is_empty() {
            return Err(invalid(
                "organisation.name",
                "and organisation.team must be set: every page says who runs the channel",
            ));
        }
        if self.production && !self.public_url.starts_with("https://") {
            return Err(invalid(
                "public_url",
                "must start with https:// in production",
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Whether `public_url` names this machine (`localhost`, `127.0.0.1`,
    /// `[::1]`, …): a form nobody else reaches, where demo keys do no harm.
    pub fn public_url_is_loopback(&self) -> bool {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host_port.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host_port.split(':').next().unwrap_or_default(),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host == "localhost"
            || host.ends_with(".localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.to_canonical().is_loopback())
    }
}

/// A `Host` value split into its name (an IPv6 address keeps its brackets)
/// and its port, if it has one.
pub fn split_host(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.split_once("]:") {
            Some((name, port)) => (&host[..=name.len()], Some(port)),
            None => (host, None),
        };
    }
    match host.split_once(':') {
        Some((name, port)) if !port.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

/// Whether `host` is a `Host` header value the review face could be named by:
/// a lower-case name or address, optionally with a port.
fn valid_host(host: &str) -> bool {
    let (name, port) = split_host(host);
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.[]:".contains(&b))
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

fn parse_nets(text: &str) -> Option<Vec<IpNet>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .ok()
                .or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))
        })
        .collect()
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let line = text
                .get(..span.start)
                .map_or(0, |before| before.matches('\n').count())
                + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn review_hosts_are_names_with_an_optional_port() {
        let mut c = Config::default();
        c.apply_env(|n| {
            (n == "SIGNAAL_REVIEW_HOSTS").then(|| "review.example, review.example:8443".to_owned())
        })
        .unwrap();
        assert_eq!(c.review_hosts, ["review.example", "review.example:8443"]);
        c.validate().unwrap();
        for bad in [
            "https://review.example",
            "Review.example",
            "a/b",
            "x:port",
            "",
        ] {
            c.review_hosts = vec![bad.to_owned()];
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains("review_hosts"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_contract_defaults_hold() {
        let c = Config::default();
        assert_eq!(c.intake_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.review_addr.to_string(), "127.0.0.1:8081");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.keys_dir, PathBuf::from("./keys"));
        c.validate().unwrap();
    }

    #[test]
    fn toml_then_environment_override_the_defaults() {
        let mut c = Config::from_toml(
            "intake_addr = \"127.0.0.1:9000\"\ndata_dir = \"/srv/x\"\n[limits]\nsubmit_burst = 5\n",
        )
        .unwrap();
        assert_eq!(c.intake_addr.port(), 9000);
        assert_eq!(c.limits.submit_burst, 5);
        assert_eq!(c.limits.submit_per_hour, Limits::default().submit_per_hour);
        c.apply_env(|n| (n == "SIGNAAL_INTAKE_ADDR").then(|| "127.0.0.1:9100".to_owned()))
            .unwrap();
        assert_eq!(c.intake_addr.port(), 9100);
        assert_eq!(c.data_dir, PathBuf::from("/srv/x"));
    }

    #[test]
    fn the_mix_interval_is_a_second_to_a_day_and_in_production_a_quarter_hour_or_more() {
        let mut c = Config::from_toml("mix_interval_secs = 0\n").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("mix_interval_secs")
        );
        c.mix_interval_secs = 86_401;
        assert!(c.validate().is_err());
        c.mix_interval_secs = 2;
        c.validate().unwrap();
        c.production = true;
        c.public_url = "https://signaal.example.nl/".to_owned();
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("mix_interval_secs") && err.contains("900"),
            "{err}"
        );
        c.mix_interval_secs = 900;
        c.validate().unwrap();
    }

    #[test]
    fn a_misspelt_setting_is_named_with_its_line() {
        let err =
            Config::from_toml("intake_addr = \"127.0.0.1:1\"\nreveiw_addr = \"x\"\n").unwrap_err();
        assert!(err.contains("reveiw_addr"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn a_bad_address_in_the_environment_names_the_variable() {
        let mut c = Config::default();
        let err = c
            .apply_env(|n| (n == "SIGNAAL_REVIEW_ADDR").then(|| "localhost".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("SIGNAAL_REVIEW_ADDR"));
    }

    #[test]
    fn retention_is_set_per_status_and_zero_keeps_for_ever() {
        let c = Config::from_toml("[retention]\nclosed_days = 30\nnew_days = 0\n").unwrap();
        assert_eq!(
            c.retention.limits(),
            [("closed", 30), ("not_admissible", 180)]
        );
        let c = Config::from_toml("[retention]\nclosed_days = 99999\n").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("closed_days")
        );
        assert!(Config::from_toml("[retention]\nclosed = 3\n").is_err());
    }

    #[test]
    fn only_an_address_of_this_machine_counts_as_loopback() {
        let at = |url: &str| Config {
            public_url: url.to_owned(),
            ..Config::default()
        };
        for url in [
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://LOCALHOST.:8080",
            "http://signaal.localhost/x",
            "http://[::1]:8080/",
            "http://127.1.2.3/",
            "http://user@127.0.0.1/",
        ] {
            assert!(at(url).public_url_is_loopback(), "{url}");
        }
        for url in [
            "https://signaal.example.nl/",
            "http://10.0.0.1:8080/",
            "http://[2001:db8::1]/",
            "http://127.0.0.1.example/",
            "http://localhost.example/",
            "http://127.0.0.1@evil.example/",
        ] {
            assert!(!at(url).public_url_is_loopback(), "{url}");
        }
    }

    #[test]
    fn the_review_face_cannot_share_the_intake_address() {
        let c = Config {
            review_addr: Config::default().intake_addr,
            ..Config::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("review_addr")
        );
    }
}
