//! One-time form tokens: a form that cannot be filed twice.
//!
//! Every form the intake serves carries a fresh random token (128 bits). The
//! first submission that stores a signal under it leaves one entry in memory,
//! found by HMAC(secret, token) and holding the receipt code sealed with age
//! to an X25519 identity that HKDF derives from the token, beside a keyed
//! digest of the answers it was stored with. Whatever comes with that token
//! again — a reload of the receipt, a restored tab, "resend", a double click,
//! or the form edited after going back — stores nothing and shows the *same*
//! receipt; answers that differ from the stored ones are said to be not
//! added (the thread takes them, with the code).
//!
//! Why the same receipt rather than "already received": the code the sender
//! writes down must be the one that opens their signal, and a second page
//! without it leaves them unsure which one counts. Showing it again costs no
//! secrecy: the server keeps neither the token nor a code it could read —
//! without the sender's own request an entry opens nothing.
//!
//! Invariants: no cookie, no script, nothing about the visitor; the token
//! travels in the form's body only. An entry is made only for a submission
//! that was admitted (its limits passed) and is removed again if nothing was
//! stored, so refused posts, however many, never touch what is held. Entries
//! live in memory only, for one to two generations of [`GENERATION`], at
//! most [`MAX_ENTRIES`] a generation; nothing of them reaches disk or a log.
//! A token that is missing, malformed or forgotten (after a restart or a day)
//! simply lets the form be stored as any form is: the token prevents
//! duplicates, it never refuses a signal.

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

/// What a token's first stored submission left.
struct Kept {
    /// The receipt code, sealed to the token-derived identity.
    sealed: Vec<u8>,
    /// HMAC(secret, token ‖ SHA-256(answers)) of the answers stored.
    answers: [u8; 32],
}

/// A token's entry: empty while its first submission is being stored.
type Entry = Arc<OnceCell<Kept>>;

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
    /// Stored before under the same token: the same code, and whether the
    /// answers sent now differ from those stored (they were not added).
    Again {
        /// The receipt code of the signal stored first.
        code: Zeroizing<String>,
        /// The answers differ from the stored ones.
        changed: bool,
    },
    /// Refused by `admit`, or storing failed; nothing was kept.
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

    /// Stores a submission once per token: if a submission with this `token`
    /// stored a signal before, its receipt code is given back and nothing
    /// runs (concurrent ones wait for the first). Otherwise `admit` decides
    /// (the limits) before anything is held for the token, and `store` runs.
    /// Without a well-formed token, `admit` and `store` simply run.
    pub async fn once<E, A, F, Fut>(
        &self,
        token: Option<&str>,
        answers: &Answers,
        admit: A,
        store: F,
    ) -> Outcome<E>
    where
        A: Fn() -> Result<(), E>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Zeroizing<String>, E>>,
    {
        let Some((token, key, identity)) = token
            .filter(|t| Self::well_formed(t))
            .and_then(|t| Some((t, self.key(t)?, derive(t)?)))
        else {
            return Self::run(&admit, &store).await;
        };
        let Some(digest) = self.digest(token, answers) else {
            return Self::run(&admit, &store).await;
        };
        // A token seen before needs no admission: its answer stores nothing.
        // A new one is admitted first, so a refused post leaves no entry.
        let (entry, admitted) = match self.find(&key) {
            Some(entry) => (entry, false),
            None => {
                if let Err(e) = admit() {
                    return Outcome::Failed(e);
                }
                match self.insert(key) {
                    Some(entry) => (entry, true),
                    None => return Self::stored(store().await),
                }
            }
        };
        let mut fresh = None;
        let kept = entry
            .get_or_try_init(|| async {
                // The first sender's store failed while this one waited.
                if !admitted {
                    admit().map_err(Some)?;
                }
                let code = store().await.map_err(Some)?;
                // A code that cannot be sealed is still this sender's
                // receipt: the entry stays empty (a reload would store again).
                let sealed =
                    crypto::seal(code.as_bytes(), &[&identity.to_public()]).map_err(|_| None);
                fresh = Some(code);
                Ok(Kept {
                    sealed: sealed?,
                    answers: digest,
                })
            })
            .await;
        if kept.is_err() {
            self.forget(&key, &entry);
        }
        if let Some(code) = fresh {
            return Outcome::Stored(code);
        }
        match kept {
            Err(Some(e)) => Outcome::Failed(e),
            Ok(kept) => match open_code(&kept.sealed, &identity) {
                Some(code) => Outcome::Again {
                    code,
                    changed: kept.answers != digest,
                },
                // Not reached: the token derives the identity it was sealed to.
                None => Self::run(&admit, &store).await,
            },
            // Not reached (an initialiser that stored set `fresh`).
            Err(None) => Self::run(&admit, &store).await,
        }
    }

    async fn run<E, A, F, Fut>(admit: &A, store: &F) -> Outcome<E>
    where
        A: Fn() -> Result<(), E>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Zeroizing<String>, E>>,
    {
        match admit() {
            Ok(()) => Self::stored(store().await),
            Err(e) => Outcome::Failed(e),
        }
    }

    fn stored<E>(result: Result<Zeroizing<String>, E>) -> Outcome<E> {
        match result {
            Ok(code) => Outcome::Stored(code),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The entry held for `key`, if any; makes none.
    fn find(&self, key: &[u8; 32]) -> Option<Entry> {
        let g = self.entries.lock().ok()?;
        g.current.get(key).or_else(|| g.previous.get(key)).cloned()
    }

    /// The entry for `key` (made if new), starting a new generation when the
    /// current one is old or full.
    fn insert(&self, key: [u8; 32]) -> Option<Entry> {
        let mut g = self.entries.lock().ok()?;
        if let Some(entry) = g.current.get(&key).or_else(|| g.previous.get(&key)) {
            return Some(Arc::clone(entry));
        }
        if g.started.elapsed() >= GENERATION || g.current.len() >= MAX_ENTRIES {
            g.previous = std::mem::take(&mut g.current);
            g.started = Instant::now();
        }
        Some(Arc::clone(g.current.entry(key).or_default()))
    }

    /// Removes `entry` if nothing was stored under it and no other sender
    /// waits on it (only the map and the caller hold it), so a failed store
    /// leaves nothing behind.
    fn forget(&self, key: &[u8; 32], entry: &Entry) {
        let Ok(mut g) = self.entries.lock() else {
            return;
        };
        if entry.get().is_some() || Arc::strong_count(entry) > 2 {
            return;
        }
        let g = &mut *g;
        for map in [&mut g.current, &mut g.previous] {
            if map.get(key).is_some_and(|e| Arc::ptr_eq(e, entry)) {
                map.remove(key);
            }
        }
    }

    /// HMAC(secret, token): where a token's entry is found.
    fn key(&self, token: &str) -> Option<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_ref()).ok()?;
        mac.update(b"signaal v1 form token entry\0");
        mac.update(token.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    /// HMAC(secret, token ‖ SHA-256(answers)): the answers by name and
    /// value, each with its length, so no two forms share a digest.
    fn digest(&self, token: &str, answers: &Answers) -> Option<[u8; 32]> {
        let mut digest = Sha256::new();
        for (name, value) in &answers.0 {
            digest.update((name.len() as u64).to_be_bytes());
            digest.update(name.as_bytes());
            digest.update((value.len() as u64).to_be_bytes());
            digest.update(value.as_bytes());
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_ref()).ok()?;
        mac.update(b"signaal v1 form token answers\0");
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

/// The identity a token's receipt code is sealed to.
fn derive(token: &str) -> Option<x25519::Identity> {
    crypto::derive_identity(
        token.as_bytes(),
        b"signaal v1 form token",
        b"signaal v1 form token receipt",
    )
    .ok()
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
            .once(
                token,
                a,
                || Ok(()),
                || async {
                    let n = stored.fetch_add(1, Ordering::SeqCst);
                    Ok(Zeroizing::new(format!("CODE-{n}")))
                },
            )
            .await
    }

    fn code<E>(o: &Outcome<E>) -> &str {
        match o {
            Outcome::Stored(c) | Outcome::Again { code: c, .. } => c.as_str(),
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
        assert!(matches!(again, Outcome::Again { changed: false, .. }));
        assert_eq!(code(&first), code(&again));
        assert_eq!(stored.load(Ordering::SeqCst), 1);
        // Edited after going back: still the first signal, said to be changed.
        let edited = send(&tokens, Some(&token), &answers("Een+andere+regel"), &stored).await;
        assert!(matches!(edited, Outcome::Again { changed: true, .. }));
        assert_eq!(code(&edited), code(&first));
        assert_eq!(stored.load(Ordering::SeqCst), 1);
        // No token, or a made-up one: stored as any form is.
        let plain = send(&tokens, None, &a, &stored).await;
        let odd = send(&tokens, Some("not a token"), &a, &stored).await;
        assert!(matches!(plain, Outcome::Stored(_)) && matches!(odd, Outcome::Stored(_)));
        assert_eq!(stored.load(Ordering::SeqCst), 3);
        assert_eq!(tokens.len(), 1);
    }

    #[tokio::test]
    async fn refused_posts_hold_nothing_and_push_no_stored_form_out() {
        let tokens = FormTokens::new();
        let stored = AtomicUsize::new(0);
        let token = FormTokens::issue();
        let a = answers("Een+regel");
        let first = send(&tokens, Some(&token), &a, &stored).await;
        // More refused posts, each with a token of its own, than a
        // generation holds: none of them makes an entry or stores.
        for _ in 0..MAX_ENTRIES + 10 {
            let refused = tokens
                .once(
                    Some(&FormTokens::issue()),
                    &a,
                    || Err("limited"),
                    || async { panic!("a refused post must not store") },
                )
                .await;
            assert!(matches!(refused, Outcome::Failed("limited")));
        }
        assert_eq!(tokens.len(), 1);
        let again = send(&tokens, Some(&token), &a, &stored).await;
        assert_eq!(code(&again), code(&first));
        assert_eq!(stored.load(Ordering::SeqCst), 1);
        // A refused post with a stored form's token still gets its receipt.
        let reload = tokens
            .once(
                Some(&token),
                &a,
                || Err("limited"),
                || async { panic!("a reload must not store") },
            )
            .await;
        assert!(matches!(reload, Outcome::Again { changed: false, .. }));
    }

    #[tokio::test]
    async fn a_failed_store_keeps_nothing_and_the_next_try_stores() {
        let tokens = FormTokens::new();
        let token = FormTokens::issue();
        let a = answers("x");
        let failed = tokens
            .once(
                Some(&token),
                &a,
                || Ok(()),
                || async { Err::<Zeroizing<String>, _>("full") },
            )
            .await;
        assert!(matches!(failed, Outcome::Failed("full")));
        assert_eq!(tokens.len(), 0, "a failed store leaves no entry");
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
                    .once(
                        Some(&token),
                        &a,
                        || Ok(()),
                        || {
                            let stored = Arc::clone(&stored);
                            async move {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                let n = stored.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, ()>(Zeroizing::new(format!("CODE-{n}")))
                            }
                        },
                    )
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

    #[tokio::test]
    async fn an_entry_holds_no_code_it_could_read_without_the_token() {
        let tokens = FormTokens::new();
        let token = FormTokens::issue();
        let other = FormTokens::issue();
        let a = answers("x");
        let stored = tokens
            .once(
                Some(&token),
                &a,
                || Ok::<_, ()>(()),
                || async { Ok(Zeroizing::new("AAAA-BBBB".to_owned())) },
            )
            .await;
        assert!(matches!(stored, Outcome::Stored(_)));
        let entry = tokens.find(&tokens.key(&token).unwrap()).unwrap();
        let sealed = &entry.get().unwrap().sealed;
        assert!(!sealed.windows(9).any(|w| w == b"AAAA-BBBB"));
        assert!(crypto::open(sealed, &[&derive(&other).unwrap()]).is_err());
        assert!(crypto::open(sealed, &[&derive(&token).unwrap()]).is_ok());
    }
}
