//! The team's recipients (`keys/team.pub`) and the demo keys made when there are none.
//!
//! Invariant: the serving process reads only *recipients* here. The demo
//! identity is written passphrase-protected and then forgotten; the intake never
//! holds an identity that opens a signal.

use std::path::{Path, PathBuf};

use age::x25519;

use crate::crypto;

/// The first line of a `team.pub` that `signaal serve` made for a demo.
pub const DEMO_MARKER: &str =
    "# signaal DEMO key: made for trying signaal out, never for real signals";
/// scrypt work factor for the demo reviewer file (age's own default is 18).
const DEMO_WORK_FACTOR: u8 = 16;

/// The team's recipients as read from `team.pub`.
#[derive(Clone)]
pub struct TeamKeys {
    /// Every recipient a signal is encrypted to.
    pub recipients: Vec<x25519::Recipient>,
    /// Whether these are demo keys.
    pub demo: bool,
}

impl std::fmt::Debug for TeamKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamKeys")
            .field("recipients", &self.recipients.len())
            .field("demo", &self.demo)
            .finish()
    }
}

/// What is wrong with the keys folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The folder is missing or unreadable.
    #[error(
        "the keys folder {0} cannot be read ({1}); create it or fix SIGNAAL_KEYS_DIR / keys_dir"
    )]
    Folder(PathBuf, String),
    /// `team.pub` could not be read.
    #[error("{0} cannot be read ({1})")]
    Unreadable(PathBuf, String),
    /// A line of `team.pub` is not an age recipient.
    #[error("{path} line {line} is not an age X25519 recipient (age1…); fix or remove that line")]
    BadLine { path: PathBuf, line: usize },
    /// `team.pub` lists nobody.
    #[error("{0} holds no recipient; add one age1… line per team key (see keys/README.md)")]
    Empty(PathBuf),
    /// Demo keys in production.
    #[error("production mode refuses demo keys: {0}; make real keys as keys/README.md says")]
    DemoInProduction(String),
    /// Demo keys could not be written.
    #[error("cannot write demo keys into {0} ({1})")]
    DemoWrite(PathBuf, String),
}

/// Path of `team.pub` in `keys_dir`.
pub fn team_pub_path(keys_dir: &Path) -> PathBuf {
    keys_dir.join("team.pub")
}

/// Path of a reviewer's identity file.
pub fn reviewer_path(keys_dir: &Path, name: &str) -> PathBuf {
    keys_dir.join("reviewers").join(format!("{name}.age"))
}

/// Parses `team.pub` text; errors name the line, never its content.
pub fn parse_team_pub(text: &str, path: &Path) -> Result<TeamKeys, KeysError> {
    let mut recipients = Vec::new();
    let mut demo = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line == DEMO_MARKER {
            demo = true;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let recipient = crypto::parse_recipient(line).ok_or_else(|| KeysError::BadLine {
            path: path.to_owned(),
            line: index + 1,
        })?;
        recipients.push(recipient);
    }
    if recipients.is_empty() {
        return Err(KeysError::Empty(path.to_owned()));
    }
    Ok(TeamKeys { recipients, demo })
}

/// Reads `team.pub` from `keys_dir`.
pub fn load_team(keys_dir: &Path) -> Result<TeamKeys, KeysError> {
    let path = team_pub_path(keys_dir);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| KeysError::Unreadable(path.clone(), e.kind().to_string()))?;
    parse_team_pub(&text, &path)
}

/// A demo key pair that was just made; the passphrase is shown once, then dropped.
pub struct DemoCreated {
    /// The passphrase of `reviewers/demo.age`.
    pub passphrase: zeroize::Zeroizing<String>,
}

/// Loads the team keys, making demo keys first when there are none and
/// production mode is off.
pub fn load_or_make_demo(
    keys_dir: &Path,
    production: bool,
) -> Result<(TeamKeys, Option<DemoCreated>), KeysError> {
    let team_pub = team_pub_path(keys_dir);
    if !team_pub.exists() {
        if production {
            return Err(KeysError::Unreadable(
                team_pub,
                "it does not exist, and production mode will not make demo keys".into(),
            ));
        }
        let created = make_demo(keys_dir)?;
        let team = load_team(keys_dir)?;
        return Ok((team, Some(created)));
    }
    if let Err(e) = std::fs::read_dir(keys_dir) {
        return Err(KeysError::Folder(keys_dir.to_owned(), e.kind().to_string()));
    }
    let team = load_team(keys_dir)?;
    if production && team.demo {
        return Err(KeysError::DemoInProduction(team_pub.display().to_string()));
    }
    Ok((team, None))
}

fn make_demo(keys_dir: &Path) -> Result<DemoCreated, KeysError> {
    let fail = |e: std::io::Error| KeysError::DemoWrite(keys_dir.to_owned(), e.kind().to_string());
    let reviewers = keys_dir.join("reviewers");
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&reviewers)
            .map_err(fail)?;
    }
    let identity = x25519::Identity::generate();
    let passphrase = demo_passphrase();
    let wrapped = crypto::wrap_identity(&identity, &passphrase, Some(DEMO_WORK_FACTOR))
        .map_err(|_| KeysError::DemoWrite(keys_dir.to_owned(), "encryption failed".into()))?;
    write_private(&reviewers.join("demo.age"), &wrapped).map_err(fail)?;
    let team = format!(
        "{DEMO_MARKER}\n# The demo reviewer's identity is reviewers/demo.age.\n{}\n",
        identity.to_public()
    );
    write_private(&team_pub_path(keys_dir), team.as_bytes()).map_err(fail)?;
    Ok(DemoCreated { passphrase })
}

/// Writes a file readable by its owner only. Run as root in a folder that
/// belongs to another user (the service's), the file goes to that user, so
/// the service can read what an operator made without a chown afterwards.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    give_to_folder_owner(&file, path)?;
    file.sync_all()
}

/// Run as root, hands `file` (at `path`) to the owner of its folder when that
/// is another user (the service's, in the package's folders), who must read it.
fn give_to_folder_owner(file: &std::fs::File, path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Ok(owner) if owner.uid() != 0 => {
            std::os::unix::fs::fchown(file, Some(owner.uid()), Some(owner.gid()))
        }
        _ => Ok(()),
    }
}

/// Appends `line` to `team.pub` and syncs it. A file it creates is
/// owner-only and, when root runs the command, given to the owner of the
/// keys folder (the service's user), who must read it.
pub fn append_team_line(path: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let existed = path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    if !existed {
        give_to_folder_owner(&file, path)?;
    }
    file.write_all(line.as_bytes())?;
    file.sync_all()
}

/// Five words' worth of randomness in lower-case base32 groups, easy to type.
fn demo_passphrase() -> zeroize::Zeroizing<String> {
    let raw = zeroize::Zeroizing::new(crypto::random_bytes::<10>());
    let text = zeroize::Zeroizing::new(
        data_encoding::BASE32_NOPAD
            .encode(raw.as_ref())
            .to_ascii_lowercase(),
    );
    let mut out = zeroize::Zeroizing::new(String::with_capacity(20));
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_allowed() {
        let id = x25519::Identity::generate();
        let text = format!("# team\n\n  {}  \n", id.to_public());
        let keys = parse_team_pub(&text, Path::new("team.pub")).unwrap();
        assert_eq!(keys.recipients.len(), 1);
        assert!(!keys.demo);
    }

    #[test]
    fn a_bad_line_is_named_by_number_not_content() {
        let text = "# team\nAGE-SECRET-KEY-1SECRETSECRET\n";
        let err = parse_team_pub(text, Path::new("team.pub"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
    }

    #[test]
    fn demo_keys_are_made_once_and_refused_in_production() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, created) = load_or_make_demo(dir.path(), false).unwrap();
        assert!(keys.demo);
        let passphrase = created.unwrap().passphrase;
        let file = std::fs::read(reviewer_path(dir.path(), "demo")).unwrap();
        let id = crypto::unwrap_identity(&file, &passphrase).unwrap();
        assert_eq!(id.to_public().to_string(), keys.recipients[0].to_string());
        let (_, again) = load_or_make_demo(dir.path(), false).unwrap();
        assert!(again.is_none());
        assert!(matches!(
            load_or_make_demo(dir.path(), true),
            Err(KeysError::DemoInProduction(_))
        ));
    }
}
