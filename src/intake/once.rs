//! One-time form tokens: a form that cannot be filed twice.
//!
//! Every form the intake serves carries a fresh random token (128 bits). The
//! first submission that stores a signal under it leaves one entry in memory,
//! found by HMAC(secret, token ‖ SHA-256 of the answers) and holding the
//! receipt code sealed with age to an X25519 identity that HKDF derives from
//! the token. The same form sent again with the same answers — a reload of
//! the receipt, a restored tab, "resend", a double click — stores nothing and
//! shows the *same* receipt. A form sent with other answers (edited after
//! going back) is a new signal, so nothing typed is ever swallowed.
//!
//! Why the same receipt rather than "already received": the code the sender
//! writes down must be the one that opens their signal, and a second page
//! without it leaves them unsure which one counts. Showing it again costs no
//! secrecy: the server keeps neither the token nor a code it could read —
//! without the sender's own request an entry opens nothing.
//!
//! Invariants: no cookie, no script, nothing about the visitor; the token
//! travels in the form's body only. Entries live in memory only, for one to
//! two generations of [`GENERATION`], at most [`MAX_ENTRIES`] a generation;
//! nothing of them reaches disk or a log. A token that is missing, malformed
//! or forgotten (after a restart or a day) simply lets the form be stored as
//! any form is: the token prevents duplicates, it never refuses a signal.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::x25519;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::crypto;
use crate::signal::answers::Answers;

/// How long one generation of entries lasts; an entry lives one to two.
pub const GENERATION: Duration = Duration::from_secs(12 * 3600);
/// Entries a generation holds at most; past it a new generation starts.
pub const MAX_ENTRIES: usize = 50_000;
/// Characters of a token: 16 random bytes in lower-case base32.
const TOKEN_CHARS: usize = 26;

/// The receipt code in `sealed`, if `identity` opens it.
fn open_code(sealed: &[u8], identity: &x25519::Identity) -> Option<Zeroizing<String>> {
    let plain = crypto::open(sealed, &[identity]).ok()?;
    std::str::from_utf8(&plain)
        .ok()
        .map(|code| Zeroizing::new(code.to_owned()))
}

/// A receipt code sealed to a token-derived identity, once stored.
type Entry = Arc<OnceCell<Vec<u8>>>;

struct Generations {
    started: Instant,
    current: HashMap<[u8; 32], Entry>,
    previous: HashMap<[u8; 32], Entry>,
}

/// The tokens of the forms the intake has served and seen stored.
pub struct FormTokens {
    secret: Zeroizing<[u8; 32]>,
    entries: Mutex<Generations>,
}

impl std::fmt::Debug for FormTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormTokens")
    }
}

impl Default for FormTokens {
    fn default() -> Self {
        Self::new()
    }
}

/// What became of a submission with a token.
#[derive(Debug)]
pub enum Outcome<E> {
    /// Stored now: this receipt code.
    Stored(Zeroizing<String>),
    /// Stored before, under the same token and answers: the same code.
    Again(Zeroizing<String>),
    /// Storing failed; nothing was kept.
    Failed(E),
}

impl FormTokens {
    /// An empty set with a fresh secret.
    pub fn new() -> Self {
        Self {
            secret: Zeroizing::new(crypto::random_bytes()),
            entries: Mutex::new(Generations {
                started: Instant::now(),
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
        }
    }

    /// A fresh token for a form being served.
    pub fn issue() -> String {
        data_encoding::BASE32_NOPAD
            .encode(&crypto::random_bytes::<16>())
            .to_ascii_lowercase()
    }

    /// Whether `token` has the shape [`FormTokens::issue`] gives.
    pub fn well_formed(token: &str) -> bool {
        token.len() == TOKEN_CHARS
            && token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    }

    /// Stores a submission once: `store` runs only if no earlier submission
    /// with this `token` and these `answers` stored a signal (concurrent ones
    /// wait for the first); otherwise the earlier receipt code is given back.
    /// Without a well-formed token, `store` simply runs.
    pub async fn once<E, F, Fut>(
        &self,
        token: Option<&str>,
        answers: &Answers,
        store: F,
    ) -> Outcome<E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Zeroizing<String>, E>>,
    {
        let Some((entry, identity)) = token
            .filter(|t| Self::well_formed(t))
            .and_then(|t| self.entry(t, answers))
        else {
            return Self::run(&store).await;
        };
        let mut fresh = None;
        let sealed = entry
            .get_or_try_init(|| async {
                let code = store().await.map_err(Some)?;
                // A code that cannot be sealed is still this sender's
                // receipt: the entry stays empty (a reload would store again).
                let sealed =
                    crypto::seal(code.as_bytes(), &[&identity.to_public()]).map_err(|_| None);
                fresh = Some(code);
                sealed
            })
            .await;
        if let Some(code) = fresh {
            return Outcome::Stored(code);
        }
        let again = match sealed {
            Err(Some(e)) => return Outcome::Failed(e),
            Ok(sealed) => open_code(sealed, &identity),
            // Not reached (an initialiser that stored set `fresh`).
            Err(None) => None,
        };
        match again {
            Some(code) => Outcome::Again(code),
            // An entry that cannot be read: stored as without a token.
            None => Self::run(&store).await,
        }
    }

    async fn run<E, F, Fut>(store: &F) -> Outcome<E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Zeroizing<String>, E>>,
    {
        match store().await {
            Ok(code) => Outcome::Stored(code),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The entry of `token` with `answers` (made if new), and the identity
    /// its code is sealed to.
    fn entry(&self, token: &str, answers: &Answers) -> Option<(Entry, x25519::Identity)> {
        let identity = crypto::derive_identity(
            token.as_bytes(),
            b"signaal v1 form token",
            b"signaal v1 form token receipt",
        )
        .ok()?;
        let key = self.key(token, answers)?;
        let mut g = self.entries.lock().ok()?;
        if g.started.elapsed() >= GENERATION || g.current.len() >= MAX_ENTRIES {
            g.previous = std::mem::take(&mut g.current);
            g.started = Instant::now();
        }
        let entry = match g.previous.get(&key) {
            Some(e) => Arc::clone(e),
            None => Arc::clone(g.current.entry(key).or_default()),
        };
        Some((entry, identity))
    }

    /// HMAC(secret, token ‖ SHA-256(answers)): the answers by name and
    /// value, each with its length, so no two forms share a key.
    fn key(&self, token: &str, answers: &Answers) -> Option<[u8; 32]> {
        let mut digest = Sha256::new();
        for (name, value) in &answers.0 {
            digest.update((name.len() as u64).to_be_bytes());
            digest.update(name.as_bytes());
            digest.update((value.len() as u64).to_be_bytes());
            digest.update(value.as_bytes());
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_ref()).ok()?;
        mac.update(token.as_bytes());
        mac.update(&digest.finalize());
        Some(mac.finalize().into_bytes().into())
    }

    /// Entries held now (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .map(|g| g.current.len() + g.previous.len())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::signal::answers::decode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn answers(text: &str) -> Answers {
        decode(format!("situation={text}").as_bytes())
            .unwrap()
            .answers
    }

    async fn send(
        tokens: &FormTokens,
        token: Option<&str>,
        a: &Answers,
        stored: &AtomicUsize,
    ) -> Outcome<()> {
        tokens
            .once(token, a, || async {
                let n = stored.fetch_add(1, Ordering::SeqCst);
                Ok(Zeroizing::new(format!("CODE-{n}")))
            })
            .await
    }

    fn code<E>(o: &Outcome<E>) -> &str {
        match o {
            Outcome::Stored(c) | Outcome::Again(c) => c.as_str(),
            Outcome::Failed(_) => panic!("failed"),
        }
    }

    #[tokio::test]
    async fn the_same_form_sent_twice_is_stored_once_and_shows_the_same_code() {
        let tokens = FormTokens::new();
        let stored = AtomicUsize::new(0);
        let token = FormTokens::issue();
        assert!(FormTokens::well_formed(&token));
        let a = answers("Een+regel");
        let first = send(&tokens, Some(&token), &a, &stored).await;
        let again = send(&tokens, Some(&token), &a, &stored).await;
        assert!(matches!(first, Outcome::Stored(_)));
        assert!(matches!(again, Outcome::Again(_)));
        assert_eq!(code(&first), code(&again));
        assert_eq!(stored.load(Ordering::SeqCst), 1);
        // Edited after going back: a new signal, not swallowed.
        let edited = send(&tokens, Some(&token), &answers("Een+andere+regel"), &stored).await;
        assert!(matches!(edited, Outcome::Stored(_)));
        assert_ne!(code(&edited), code(&first));
        // No token, or a made-up one: stored as any form is.
        let plain = send(&tokens, None, &a, &stored).await;
        let odd = send(&tokens, Some("not a token"), &a, &stored).await;
        assert!(matches!(plain, Outcome::Stored(_)) && matches!(odd, Outcome::Stored(_)));
        assert_eq!(stored.load(Ordering::SeqCst), 4);
        assert_eq!(tokens.len(), 2);
    }

    #[tokio::test]
    async fn a_failed_store_keeps_nothing_and_the_next_try_stores() {
        let tokens = FormTokens::new();
        let token = FormTokens::issue();
        let a = answers("x");
        let failed = tokens
            .once(Some(&token), &a, || async {
                Err::<Zeroizing<String>, _>("full")
            })
            .await;
        assert!(matches!(failed, Outcome::Failed("full")));
        let stored = AtomicUsize::new(0);
        let next = send(&tokens, Some(&token), &a, &stored).await;
        assert!(matches!(next, Outcome::Stored(_)));
    }

    #[tokio::test]
    async fn two_sends_at_once_store_one_signal() {
        let tokens = Arc::new(FormTokens::new());
        let stored = Arc::new(AtomicUsize::new(0));
        let token = FormTokens::issue();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (tokens, stored, token) = (Arc::clone(&tokens), Arc::clone(&stored), token.clone());
            tasks.push(tokio::spawn(async move {
                let a = answers("tegelijk");
                let o = tokens
                    .once(Some(&token), &a, || {
                        let stored = Arc::clone(&stored);
                        async move {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            let n = stored.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, ()>(Zeroizing::new(format!("CODE-{n}")))
                        }
                    })
                    .await;
                code(&o).to_owned()
            }));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        assert_eq!(stored.load(Ordering::SeqCst), 1);
        assert!(codes.iter().all(|c| c == "CODE-0"));
    }

    #[test]
    fn an_entry_holds_no_code_it_could_read_without_the_token() {
        let tokens = FormTokens::new();
        let token = FormTokens::issue();
        let other = FormTokens::issue();
        let a = answers("x");
        let (entry, _) = tokens.entry(&token, &a).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let identity = crypto::derive_identity(
            token.as_bytes(),
            b"signaal v1 form token",
            b"signaal v1 form token receipt",
        )
        .unwrap();
        rt.block_on(entry.get_or_init(|| async {
            crypto::seal(b"AAAA-BBBB", &[&identity.to_public()]).unwrap()
        }));
        let sealed = entry.get().unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"AAAA-BBBB"));
        let (_, wrong) = tokens.entry(&other, &a).unwrap();
        assert!(crypto::open(sealed, &[&wrong]).is_err());
        assert!(crypto::open(sealed, &[&identity]).is_ok());
    }
}
