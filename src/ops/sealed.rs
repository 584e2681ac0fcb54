//! Backups sealed with age: the backup recipient (`keys/backup.pub`), the
//! identity that opens a sealed backup, and the streams between them.
//!
//! Invariant: a sealed backup is written and read as a stream of age's 64 KiB
//! chunks, so no step holds the whole database in memory, and the file at the
//! destination is never anything but age ciphertext. The identity that opens
//! it is read only by `restore`, held in memory, and wiped when dropped.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::x25519;
use zeroize::Zeroizing;

use super::OpsError;

/// The recipients file that `backup` seals to when no `--encrypt-to` is given.
pub const BACKUP_PUB: &str = "backup.pub";

/// The first bytes of every age file (binary and ASCII-armoured).
const AGE_BINARY: &[u8] = b"age-encryption.org/v1";
const AGE_ARMOR: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Whether the file at `path` is an age file (and not a SQLite database).
pub fn is_sealed(path: &Path) -> bool {
    let mut head = [0u8; 34];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
    match read {
        Ok(n) => {
            let head = head.get(..n).unwrap_or_default();
            head.starts_with(AGE_BINARY) || head.starts_with(AGE_ARMOR)
        }
        Err(_) => false,
    }
}

/// The recipients named by `--encrypt-to`: one `age1…` recipient, or a file of
/// them (one a line, whole-line `#` comments, as `team.pub`).
pub fn recipients(spec: &str) -> Result<Vec<x25519::Recipient>, OpsError> {
    if let Ok(recipient) = x25519::Recipient::from_str(spec.trim()) {
        return Ok(vec![recipient]);
    }
    recipients_file(Path::new(spec))
}

/// The recipients in a recipients file such as `keys/backup.pub`.
pub fn recipients_file(path: &Path) -> Result<Vec<x25519::Recipient>, OpsError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        OpsError::path(
            path,
            format!(
                "cannot be read ({}); name an age1… recipient or a file of them",
                e.kind()
            ),
        )
    })?;
    let team = crate::keys::parse_team_pub(&text, path)?;
    Ok(team.recipients)
}

/// The default backup recipients file of an installation, if there is one.
pub fn default_recipients(keys_dir: &Path) -> Option<PathBuf> {
    let path = keys_dir.join(BACKUP_PUB);
    path.is_file().then_some(path)
}

/// Streams the file `plain` into the new file `sealed`, encrypted to
/// `recipients`, and syncs it.
pub fn seal_file(
    plain: &Path,
    sealed: &Path,
    recipients: &[x25519::Recipient],
) -> Result<(), OpsError> {
    let cannot = |path: &Path, what: &str, e: std::io::Error| {
        OpsError::path(path, format!("cannot be {what} ({})", e.kind()))
    };
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|_| OpsError::path(sealed, "cannot be sealed: no backup recipient"))?;
    let mut input = std::fs::File::open(plain).map_err(|e| cannot(plain, "read", e))?;
    let output = super::backup::create_private(sealed)?;
    let mut writer = encryptor
        .wrap_output(std::io::BufWriter::new(output))
        .map_err(|e| cannot(sealed, "written", e))?;
    std::io::copy(&mut input, &mut writer).map_err(|e| cannot(sealed, "written", e))?;
    let output = writer
        .finish()
        .and_then(|mut w| w.flush().map(|()| w))
        .map_err(|e| cannot(sealed, "written", e))?;
    let file = output
        .into_inner()
        .map_err(|e| cannot(sealed, "written", e.into_error()))?;
    file.sync_all().map_err(|e| cannot(sealed, "synced", e))
}

/// Streams the sealed backup `sealed` into the new file `plain`, opened with
/// `identities`.
pub fn open_file(
    sealed: &Path,
    plain: &Path,
    identities: &[x25519::Identity],
) -> Result<(), OpsError> {
    let input = std::fs::File::open(sealed)
        .map_err(|e| OpsError::path(sealed, format!("cannot be read ({})", e.kind())))?;
    let armored = age::armor::ArmoredReader::new(BufReader::new(input));
    let decryptor = age::Decryptor::new_buffered(armored)
        .map_err(|_| OpsError::path(sealed, "is not a readable age file"))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|_| {
            OpsError::path(
                sealed,
                "does not open with the identity given; name the backup identity \
                 whose recipient is in keys/backup.pub",
            )
        })?;
    let mut output = super::backup::create_private(plain)?;
    std::io::copy(&mut reader, &mut output).map_err(|e| {
        OpsError::path(
            sealed,
            format!(
                "is damaged or cut short ({}); nothing was restored",
                e.kind()
            ),
        )
    })?;
    output
        .sync_all()
        .map_err(|e| OpsError::path(plain, format!("cannot be synced ({})", e.kind())))
}

/// Reads the identities in `path`: a plain identity file (`age-keygen -o`), or
/// one protected with a passphrase (`age-keygen | age -p`), whose passphrase
/// comes from the terminal or the first line of standard input.
pub fn identities(path: &Path) -> Result<Vec<x25519::Identity>, OpsError> {
    let bytes = Zeroizing::new(
        std::fs::read(path)
            .map_err(|e| OpsError::path(path, format!("cannot be read ({})", e.kind())))?,
    );
    if bytes.starts_with(AGE_BINARY) || bytes.starts_with(AGE_ARMOR) {
        let passphrase = read_passphrase(path)?;
        let identity = crate::crypto::unwrap_identity(&bytes, &passphrase)
            .map_err(|_| OpsError::Unlock(format!("{}: wrong passphrase", path.display())))?;
        return Ok(vec![identity]);
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Never the line itself: it is a secret key.
        let identity = x25519::Identity::from_str(line).map_err(|_| {
            OpsError::path(path, format!("line {} is not an age identity", index + 1))
        })?;
        found.push(identity);
    }
    if found.is_empty() {
        return Err(OpsError::path(path, "holds no age identity"));
    }
    Ok(found)
}

fn read_passphrase(path: &Path) -> Result<Zeroizing<String>, OpsError> {
    let failed =
        |e: std::io::Error| OpsError::Unlock(format!("cannot read the passphrase ({})", e.kind()));
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Passphrase of {}: ", path.display()))
            .map(Zeroizing::new)
            .map_err(failed);
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(failed)?;
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn a_sealed_file_opens_with_its_identity_only_and_is_never_plain() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let body: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        std::fs::write(&plain, &body).unwrap();
        let identity = x25519::Identity::generate();
        let sealed = dir.path().join("sealed.age");
        seal_file(&plain, &sealed, &[identity.to_public()]).unwrap();
        assert!(is_sealed(&sealed));
        let stored = std::fs::read(&sealed).unwrap();
        assert!(
            !stored
                .windows(64)
                .any(|w| body.windows(64).next() == Some(w))
        );

        let back = dir.path().join("back");
        open_file(&sealed, &back, &[identity]).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), body);
        let stranger = dir.path().join("stranger");
        let err = open_file(&sealed, &stranger, &[x25519::Identity::generate()]).unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
    }

    #[test]
    fn an_identity_file_is_read_with_comments_and_a_bad_line_is_named_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let identity = x25519::Identity::generate();
        let path = dir.path().join("backup.key");
        let secret = identity.to_string();
        std::fs::write(
            &path,
            format!("# created: today\n{}\n", secret.expose_secret()),
        )
        .unwrap();
        assert_eq!(identities(&path).unwrap().len(), 1);
        std::fs::write(&path, "# x\nAGE-SECRET-KEY-1NOTAKEY\n").unwrap();
        let Err(err) = identities(&path) else {
            unreachable!("a bad identity line was accepted")
        };
        let err = err.to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("NOTAKEY"), "{err}");
    }

    #[test]
    fn encrypt_to_takes_a_recipient_or_a_recipients_file() {
        let dir = tempfile::tempdir().unwrap();
        let r = x25519::Identity::generate().to_public().to_string();
        assert_eq!(recipients(&r).unwrap().len(), 1);
        let file = dir.path().join("backup.pub");
        std::fs::write(&file, format!("# the backup key\n{r}\n")).unwrap();
        assert_eq!(recipients(file.to_str().unwrap()).unwrap().len(), 1);
        assert!(recipients("age1nonsense").is_err());
        let err = recipients("age1nonsense").unwrap_err().to_string();
        assert!(err.contains("age1nonsense"), "{err}");
    }
}
