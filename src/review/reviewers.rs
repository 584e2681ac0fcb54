//! Reviewer key files: `keys/reviewers/<name>.age` (a passphrase-protected age
//! identity, exactly what `age-keygen | age -p` makes) and
//! `keys/reviewers/<name>.totp` (the reviewer's TOTP secret, an age file
//! encrypted to that reviewer's own X25519 recipient).
//!
//! Why the TOTP secret is sealed to the reviewer's recipient: it is unreadable
//! at rest and costs no second scrypt at login (the identity just unlocked
//! opens it with one X25519 operation), and any identity file the standard
//! tools made works unchanged. The second factor still holds: a stolen
//! passphrase without the phone does not log in.
//!
//! Invariant: nothing here logs or returns a passphrase, a secret key or a
//! TOTP secret in an error; failures are reported as a fixed reason.

use std::path::{Path, PathBuf};

use age::x25519;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use crate::crypto;
use crate::keys;

/// TOTP time step in seconds (what authenticator apps expect).
pub const TOTP_STEP: u64 = 30;
/// First line of the plaintext of a `.totp` file.
const TOTP_MAGIC: &str = "signaal-totp-v1";

/// Whether `name` is a usable reviewer name: 1–32 of `a-z 0-9 _ -`, starting
/// with a letter or digit (it becomes a file name and an otpauth label).
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The folder of reviewer files.
pub fn folder(keys_dir: &Path) -> PathBuf {
    keys_dir.join("reviewers")
}

/// Path of a reviewer's TOTP file.
pub fn totp_path(keys_dir: &Path, name: &str) -> PathBuf {
    folder(keys_dir).join(format!("{name}.totp"))
}

/// The names of every reviewer file, sorted.
pub fn list(keys_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder(keys_dir))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let stem = name.strip_suffix(".age")?;
                    valid_name(stem).then(|| stem.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Why an unlock was refused. Only ever written to the audit log and never
/// shown: the visitor sees one answer for all of them.
pub type Refusal = &'static str;

/// Decrypts `name`'s identity file with `passphrase` (scrypt: run it on the
/// blocking pool). An unknown name is refused without work here: the caller
/// spends the same time on it with [`decoy`].
pub fn unlock(keys_dir: &Path, name: &str, passphrase: &str) -> Result<x25519::Identity, Refusal> {
    let known = valid_name(name) && keys::reviewer_path(keys_dir, name).is_file();
    if !known {
        return Err("unknown-name");
    }
    let file = std::fs::read(keys::reviewer_path(keys_dir, name)).map_err(|_| "unreadable")?;
    crypto::unwrap_identity(&file, passphrase).map_err(|_| "passphrase")
}

/// The work of a wrong passphrase on the costliest reviewer file: the file
/// whose scrypt work factor is highest is tried with `passphrase`, and the
/// result thrown away. So an unknown name takes as long as the slowest real
/// one, and no reviewer's name stands out by its file's cost.
pub fn decoy(keys_dir: &Path, passphrase: &str) {
    let costliest = list(keys_dir)
        .into_iter()
        .filter_map(|name| std::fs::read(keys::reviewer_path(keys_dir, &name)).ok())
        .filter_map(|file| crypto::scrypt_work_factor(&file).map(|n| (n, file)))
        .filter(|(n, _)| *n <= crypto::MAX_WORK_FACTOR)
        .max_by_key(|(n, _)| *n);
    if let Some((_, file)) = costliest {
        let _ = crypto::unwrap_identity(&file, passphrase);
    }
}

/// Whether `identity`'s recipient is listed in `team.pub` (read now).
pub fn is_listed(keys_dir: &Path, identity: &x25519::Identity) -> bool {
    let mine = identity.to_public().to_string();
    keys::load_team(keys_dir)
        .map(|t| t.recipients.iter().any(|r| r.to_string() == mine))
        .unwrap_or(false)
}

/// A new random TOTP secret (160 bits, RFC 4226's recommendation).
pub fn new_totp_secret() -> Zeroizing<Vec<u8>> {
    Zeroizing::new(crypto::random_bytes::<20>().to_vec())
}

/// The TOTP of `name` with `secret`: SHA-1, 6 digits, 30 s, no skew (the
/// caller checks the neighbouring steps itself to learn which step matched).
pub fn totp(name: &str, secret: &[u8]) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        TOTP_STEP,
        secret.to_vec(),
        Some("signaal".to_owned()),
        name.to_owned(),
    )
    .ok()
}

/// Seals a TOTP secret to the reviewer's own recipient.
pub fn seal_totp(secret: &[u8], recipient: &x25519::Recipient) -> Option<Vec<u8>> {
    let encoded = Zeroizing::new(data_encoding::BASE32_NOPAD.encode(secret));
    let plain = Zeroizing::new(format!("{TOTP_MAGIC}\n{}\n", encoded.as_str()));
    crypto::seal(plain.as_bytes(), &[recipient]).ok()
}

/// Reads `name`'s TOTP with the unlocked identity. `Ok(None)`: no TOTP file.
pub fn open_totp(
    keys_dir: &Path,
    name: &str,
    identity: &x25519::Identity,
) -> Result<Option<TOTP>, Refusal> {
    let path = totp_path(keys_dir, name);
    if !path.exists() {
        return Ok(None);
    }
    let file = std::fs::read(&path).map_err(|_| "totp-unreadable")?;
    let plain = crypto::open(&file, &[identity]).map_err(|_| "totp-unreadable")?;
    let text = std::str::from_utf8(&plain).map_err(|_| "totp-unreadable")?;
    let mut lines = text.lines();
    if lines.next() != Some(TOTP_MAGIC) {
        return Err("totp-unreadable");
    }
    let secret = Zeroizing::new(
        data_encoding::BASE32_NOPAD
            .decode(lines.next().unwrap_or("").trim().as_bytes())
            .map_err(|_| "totp-unreadable")?,
    );
    totp(name, &secret).map(Some).ok_or("totp-unreadable")
}

/// SHA-256 of `name`'s sealed TOTP file, which the count of wrong codes is
/// kept against: a new file (`signaal reviewer totp NAME`) starts it afresh.
pub fn totp_fingerprint(keys_dir: &Path, name: &str) -> Option<[u8; 32]> {
    use sha2::Digest;
    let file = std::fs::read(totp_path(keys_dir, name)).ok()?;
    Some(sha2::Sha256::digest(&file).into())
}

/// The time step `code` belongs to, accepting the previous, current and next
/// step (clock drift); `None` if it matches none.
pub fn matching_step(totp: &TOTP, code: &str, now: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now / TOTP_STEP;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| totp.check(code, s * TOTP_STEP))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reviewer_names_are_safe_file_names() {
        assert!(valid_name("ann"));
        assert!(valid_name("a-1_b"));
        assert!(!valid_name(""));
        assert!(!valid_name("-ann"));
        assert!(!valid_name("../ann"));
        assert!(!valid_name("Ann"));
        assert!(!valid_name(&"a".repeat(33)));
    }

    #[test]
    fn a_sealed_totp_secret_opens_with_the_reviewers_identity_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(folder(dir.path())).unwrap();
        let id = x25519::Identity::generate();
        let secret = new_totp_secret();
        let sealed = seal_totp(&secret, &id.to_public()).unwrap();
        std::fs::write(totp_path(dir.path(), "ann"), sealed).unwrap();
        let t = open_totp(dir.path(), "ann", &id).unwrap().unwrap();
        let now = unix_now();
        let code = t.generate(now);
        assert_eq!(matching_step(&t, &code, now), Some(now / TOTP_STEP));
        assert_eq!(matching_step(&t, "12345", now), None);
        let other = x25519::Identity::generate();
        assert!(open_totp(dir.path(), "ann", &other).is_err());
        assert!(open_totp(dir.path(), "bob", &id).unwrap().is_none());
    }
}
