//! age sealing and opening, plaintext padding, receipt codes and the source
//! identity derived from them.
//!
//! Invariant: plaintext handed to [`seal`] is padded and encrypted before this
//! module returns; every intermediate buffer that held plaintext is wiped. Nothing
//! here is hand-made cryptography: age does the encryption, HKDF-SHA256 the
//! derivation, the operating system the randomness.

use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;
use bech32::{Bech32, Hrp};
use hkdf::Hkdf;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// The envelope format written today: an age v1 file with X25519 stanzas.
pub const FORMAT_AGE_X25519: &str = "age-v1-x25519";

/// Crockford's base32 alphabet: no I, L, O or U, so codes survive being read aloud.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a receipt code: 20 × 5 bits = 100 bits from the operating system.
pub const RECEIPT_SYMBOLS: usize = 20;

/// A failure to seal or open an envelope. Never carries plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// No recipient to encrypt to.
    #[error("there is no recipient to encrypt to")]
    NoRecipients,
    /// age refused to encrypt.
    #[error("encryption failed")]
    Seal,
    /// None of the identities opens the envelope, or it is damaged.
    #[error("the envelope cannot be opened with this key")]
    Open,
    /// The derived key material could not be turned into an age identity.
    #[error("key derivation failed")]
    Derive,
}

/// A receipt code: the sender's only handle on their signal.
///
/// Held normalised (20 symbols, no separators); shown grouped 4-4-4-4-4.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct Receipt(String);

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receipt(…)")
    }
}

impl Receipt {
    /// Draws a new code from the operating system's random source.
    pub fn generate() -> Self {
        let mut raw = Zeroizing::new([0u8; RECEIPT_SYMBOLS]);
        OsRng.fill_bytes(raw.as_mut());
        let code = raw
            .iter()
            .filter_map(|b| CROCKFORD.get(usize::from(b & 31)).copied().map(char::from))
            .collect();
        Self(code)
    }

    /// Reads a code as a person types it: any case, spaces and dashes, and the
    /// look-alikes O→0, I/L→1. Returns `None` unless exactly 20 valid symbols remain.
    pub fn parse(typed: &str) -> Option<Self> {
        let mut code = String::with_capacity(RECEIPT_SYMBOLS);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' | '\u{a0}' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c,
                _ => {
                    code.zeroize();
                    return None;
                }
            };
            if code.len() == RECEIPT_SYMBOLS {
                code.zeroize();
                return None;
            }
            code.push(c);
        }
        (code.len() == RECEIPT_SYMBOLS).then_some(Self(code))
    }

    /// The code grouped for people: `XXXX-XXXX-XXXX-XXXX-XXXX`.
    pub fn grouped(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(RECEIPT_SYMBOLS + 4));
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// Derives what the server may keep: the lookup tag and the source identity.
    pub fn derive(&self, install_salt: &[u8]) -> Result<SourceKeys, CryptoError> {
        let hk = Hkdf::<Sha256>::new(Some(install_salt), self.0.as_bytes());
        let mut tag = [0u8; 32];
        hk.expand(b"signaal v1 lookup tag", &mut tag)
            .map_err(|_| CryptoError::Derive)?;
        let mut secret = Zeroizing::new([0u8; 32]);
        hk.expand(b"signaal v1 source identity", secret.as_mut())
            .map_err(|_| CryptoError::Derive)?;
        let identity = identity_from_bytes(&secret)?;
        Ok(SourceKeys { tag, identity })
    }
}

/// What a receipt code yields.
pub struct SourceKeys {
    /// Stored and indexed: finds the signal without storing the code.
    pub tag: [u8; 32],
    /// Opens the sender's side of the thread; only its recipient is stored.
    pub identity: x25519::Identity,
}

/// Makes an age X25519 identity from 32 secret bytes, through age's own parser so
/// the clamping and encoding are age's.
fn identity_from_bytes(secret: &[u8; 32]) -> Result<x25519::Identity, CryptoError> {
    let hrp = Hrp::parse("age-secret-key-").map_err(|_| CryptoError::Derive)?;
    let mut encoded =
        Zeroizing::new(bech32::encode::<Bech32>(hrp, secret).map_err(|_| CryptoError::Derive)?);
    encoded.make_ascii_uppercase();
    x25519::Identity::from_str(&encoded).map_err(|_| CryptoError::Derive)
}

/// A random identifier for a stored row: 80 bits, lower-case base32, 16 characters.
pub fn random_id() -> String {
    let mut raw = [0u8; 10];
    OsRng.fill_bytes(&mut raw);
    data_encoding::BASE32_NOPAD
        .encode(&raw)
        .to_ascii_lowercase()
}

/// Random bytes for salts and keys.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut raw = [0u8; N];
    OsRng.fill_bytes(&mut raw);
    raw
}

/// The size a plaintext of `len` bytes is padded to: the next power of two, at
/// least 1 KiB, so an envelope tells only roughly how much was written.
pub fn padded_len(len: usize) -> usize {
    len.max(1024).next_power_of_two()
}

/// Pads JSON `plain` with trailing spaces to its bucket. JSON permits trailing
/// whitespace, so `age -d | jq` still reads it. Reserves once, so the buffer is
/// not reallocated (which would leave an unwiped copy behind).
pub fn pad(plain: &mut Zeroizing<Vec<u8>>) {
    let target = padded_len(plain.len());
    if plain.capacity() < target {
        let mut bigger = Zeroizing::new(Vec::with_capacity(target));
        bigger.extend_from_slice(plain);
        *plain = bigger;
    }
    plain.resize(target, b' ');
}

/// Encrypts `plain` to every recipient, in age's binary format.
pub fn seal(plain: &[u8], recipients: &[&dyn age::Recipient]) -> Result<Vec<u8>, CryptoError> {
    if recipients.is_empty() {
        return Err(CryptoError::NoRecipients);
    }
    let encryptor = age::Encryptor::with_recipients(recipients.iter().copied())
        .map_err(|_| CryptoError::Seal)?;
    // Header (~90 bytes a recipient) + 16 bytes tag per 64 KiB chunk.
    let mut out = Vec::with_capacity(plain.len() + 128 + 100 * recipients.len());
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|_| CryptoError::Seal)?;
    writer.write_all(plain).map_err(|_| CryptoError::Seal)?;
    writer.finish().map_err(|_| CryptoError::Seal)?;
    Ok(out)
}

/// Encrypts `plain` to every team recipient and, when given, the sender's own
/// (receipt-derived) recipient: the recipient set of every stored envelope.
pub fn seal_for(
    plain: &[u8],
    team: &[x25519::Recipient],
    source: Option<&x25519::Recipient>,
) -> Result<Vec<u8>, CryptoError> {
    let recipients: Vec<&dyn age::Recipient> = team
        .iter()
        .map(|r| r as &dyn age::Recipient)
        .chain(source.map(|s| s as &dyn age::Recipient))
        .collect();
    seal(plain, &recipients)
}

/// Decrypts an envelope with any of `identities`. The result is wiped on drop.
pub fn open(
    envelope: &[u8],
    identities: &[&dyn age::Identity],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let decryptor = age::Decryptor::new_buffered(envelope).map_err(|_| CryptoError::Open)?;
    let mut reader = decryptor
        .decrypt(identities.iter().copied())
        .map_err(|_| CryptoError::Open)?;
    // The plaintext is never larger than the envelope; reserving that avoids
    // reallocation copies.
    let mut out = Zeroizing::new(Vec::with_capacity(envelope.len()));
    reader
        .read_to_end(&mut out)
        .map_err(|_| CryptoError::Open)?;
    Ok(out)
}

/// Parses one age recipient (`age1…`).
pub fn parse_recipient(text: &str) -> Option<x25519::Recipient> {
    x25519::Recipient::from_str(text.trim()).ok()
}

/// Encrypts an age identity with a passphrase, in the format `age -p` writes
/// (ASCII-armoured), so the standard tools can open and check it.
pub fn wrap_identity(
    identity: &x25519::Identity,
    passphrase: &str,
    work_factor: Option<u8>,
) -> Result<Vec<u8>, CryptoError> {
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.to_owned()));
    if let Some(log_n) = work_factor {
        recipient.set_work_factor(log_n);
    }
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|_| CryptoError::Seal)?;
    let recipient_line = identity.to_public().to_string();
    let secret = identity.to_string();
    let mut plain = Zeroizing::new(format!(
        "# public key: {recipient_line}\n{}\n",
        secret.expose_secret()
    ));
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(|_| CryptoError::Seal)?;
    let mut writer = encryptor
        .wrap_output(armor)
        .map_err(|_| CryptoError::Seal)?;
    writer
        .write_all(plain.as_bytes())
        .map_err(|_| CryptoError::Seal)?;
    plain.zeroize();
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|_| CryptoError::Seal)?;
    Ok(out)
}

/// The highest scrypt work factor (log2 N) of a reviewer file that is opened.
pub const MAX_WORK_FACTOR: u8 = 22;

/// The scrypt work factor (log2 N) a passphrase-protected age file says it
/// was made with, read from its header (armored or binary) without the
/// passphrase: how much work opening it costs. `None` if it is no such file.
pub fn scrypt_work_factor(file: &[u8]) -> Option<u8> {
    let mut header = Vec::with_capacity(256);
    age::armor::ArmoredReader::new(file)
        .take(256)
        .read_to_end(&mut header)
        .ok()?;
    let text = String::from_utf8_lossy(&header);
    let mut lines = text.lines();
    if lines.next() != Some("age-encryption.org/v1") {
        return None;
    }
    let stanza = lines.next()?;
    let mut words = stanza.split(' ');
    if (words.next(), words.next()) != (Some("->"), Some("scrypt")) {
        return None;
    }
    words.nth(1)?.parse().ok()
}

/// Opens a passphrase-protected identity file (what `age-keygen | age -p` makes).
/// Costs what its scrypt work factor says: run it off the async workers.
pub fn unwrap_identity(file: &[u8], passphrase: &str) -> Result<x25519::Identity, CryptoError> {
    let reader = age::armor::ArmoredReader::new(file);
    let decryptor = age::Decryptor::new(reader).map_err(|_| CryptoError::Open)?;
    if !decryptor.is_scrypt() {
        return Err(CryptoError::Open);
    }
    let mut scrypt =
        age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.to_owned()));
    // age caps the work it will do at what this machine does in about 16 s,
    // measured now: on a busy machine that cap falls below age's own default
    // of 18, and a reviewer's file would be refused. Reviewer files are the
    // operator's, made with at most MAX_WORK_FACTOR.
    scrypt.set_max_work_factor(MAX_WORK_FACTOR);
    let mut reader = decryptor
        .decrypt(std::iter::once(&scrypt as _))
        .map_err(|_| CryptoError::Open)?;
    let mut plain = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|_| CryptoError::Open)?;
    let text = std::str::from_utf8(&plain).map_err(|_| CryptoError::Open)?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|l| x25519::Identity::from_str(l).ok())
        .ok_or(CryptoError::Open)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_work_factor_of_a_reviewer_file_is_read_from_its_header() {
        let id = x25519::Identity::generate();
        for log_n in [10, 12] {
            let file = wrap_identity(&id, "a passphrase", Some(log_n)).unwrap();
            assert_eq!(scrypt_work_factor(&file), Some(log_n));
        }
        let sealed = seal(b"x", &[&id.to_public()]).unwrap();
        assert_eq!(scrypt_work_factor(&sealed), None);
        assert_eq!(scrypt_work_factor(b"not an age file"), None);
    }

    #[test]
    fn a_receipt_has_100_bits_in_crockford_groups() {
        let r = Receipt::generate();
        let g = r.grouped();
        assert_eq!(g.len(), 24);
        assert_eq!(g.matches('-').count(), 4);
        assert!(
            g.chars()
                .all(|c| c == '-' || CROCKFORD.contains(&(c as u8)))
        );
        assert_ne!(Receipt::generate().0, r.0);
    }

    #[test]
    fn a_receipt_typed_sloppily_is_understood() {
        let r = Receipt::parse("ABCD-EFGH-JKMN-PQRS-TV01").unwrap();
        let typed = "abcd efgh jkmn pqrs tvoi";
        assert_eq!(Receipt::parse(typed).unwrap().0, r.0);
        assert_eq!(
            Receipt::parse("ABCDEFGHJKMNPQRSTVOL").unwrap().0,
            "ABCDEFGHJKMNPQRSTV01"
        );
        assert!(Receipt::parse("ABCD-EFGH-JKMN-PQRS-TV0").is_none());
        assert!(Receipt::parse("ABCD-EFGH-JKMN-PQRS-TV011").is_none());
        assert!(Receipt::parse("ABCD-EFGH-JKMN-PQRS-TVU1").is_none());
        assert!(Receipt::parse("ÄBCD-EFGH-JKMN-PQRS-TV01").is_none());
    }

    #[test]
    fn derivation_is_stable_and_salted() {
        let r = Receipt::generate();
        let a = r.derive(b"salt-one").unwrap();
        let b = r.derive(b"salt-one").unwrap();
        let c = r.derive(b"salt-two").unwrap();
        assert_eq!(a.tag, b.tag);
        assert_eq!(
            a.identity.to_public().to_string(),
            b.identity.to_public().to_string()
        );
        assert_ne!(a.tag, c.tag);
    }

    #[test]
    fn sealed_text_opens_for_each_recipient_and_no_one_else() {
        let team = x25519::Identity::generate();
        let source = Receipt::generate().derive(b"s").unwrap().identity;
        let stranger = x25519::Identity::generate();
        let mut plain = Zeroizing::new(b"{\"v\":1}".to_vec());
        pad(&mut plain);
        assert_eq!(plain.len(), 1024);
        let env = seal(&plain, &[&team.to_public(), &source.to_public()]).unwrap();
        assert_eq!(&open(&env, &[&team]).unwrap()[..], &plain[..]);
        assert_eq!(&open(&env, &[&source]).unwrap()[..], &plain[..]);
        assert!(open(&env, &[&stranger]).is_err());
    }

    #[test]
    fn padding_hides_the_length_within_a_bucket() {
        assert_eq!(padded_len(1), 1024);
        assert_eq!(padded_len(1025), 2048);
        assert_eq!(padded_len(40_000), 65_536);
    }

    #[test]
    fn a_wrapped_identity_opens_only_with_its_passphrase() {
        let id = x25519::Identity::generate();
        let file = wrap_identity(&id, "correct horse", Some(10)).unwrap();
        assert!(file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
        let back = unwrap_identity(&file, "correct horse").unwrap();
        assert_eq!(back.to_public().to_string(), id.to_public().to_string());
        assert!(unwrap_identity(&file, "wrong").is_err());
    }
}
