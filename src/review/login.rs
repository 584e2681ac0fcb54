//! Login and logout: unlock the reviewer's identity file with their passphrase,
//! check the recipient is still in `team.pub`, check the TOTP code, start a session.
//!
//! Invariants:
//! - Unknown name, wrong passphrase, revoked key, wrong or replayed code: one
//!   answer (401, the same page), and the same time — an unknown name costs
//!   what a wrong passphrase costs on the costliest reviewer file
//!   ([`reviewers::decoy`]), or, past the decoys' own budget, a wait as long
//!   as the last decoy took.
//! - A known reviewer's attempts are limited by that name's own bucket only:
//!   no flood of other names can make their login wait or fail. Unknown names
//!   share a budget of decoy work and a bucket per name, so the answer to an
//!   unknown name is the answer to a known one (a 429 after ten, a 401 before).
//! - scrypt of a known name runs on the blocking pool, at most
//!   [`UNLOCKS_AT_ONCE`] at a time; a decoy runs beside them, one at a time,
//!   and never queues.
//! - A TOTP step, once accepted for a reviewer, is never accepted again (the
//!   last used step is kept in the database, so a restart does not forget it).
//!   Wrong codes after the right passphrase are held back more and more
//!   ([`backoff_secs`]) and after [`LOCK_AFTER_WRONG`] locked until
//!   `signaal reviewer totp NAME` writes a new second factor; the next
//!   successful login says how many were refused.
//! - The passphrase and code are never logged or audited. Refusals are
//!   counted, not written one by one ([`Tally`]): the first of each reviewer
//!   and reason in a minute is written at once, the rest as one row with
//!   their count, so a flood adds a bounded number of rows. An unknown name is
//!   recorded as `(unknown)`, so a passphrase typed into the name field is not kept.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use super::fields::Fields;
use super::reviewers;
use super::session::{self, Reviewer};
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::store::Store;

/// scrypt unlocks of known names running at once (each takes up to ~1 GiB and a second).
pub const UNLOCKS_AT_ONCE: usize = 2;
/// Wrong codes after the right passphrase that are let through at once (typos).
pub const FREE_WRONG_CODES: u32 = 3;
/// Wrong codes in a row after which the second factor is locked.
pub const LOCK_AFTER_WRONG: u32 = 10;
/// How often the counted refusals are written.
pub const TALLY_EVERY: Duration = Duration::from_secs(60);
/// Unknown names whose buckets are kept before they are forgotten at once.
const UNKNOWN_NAMES_KEPT: usize = 10_000;

/// Seconds a reviewer waits after `wrong` wrong codes in a row before the
/// next code is checked: none for the first [`FREE_WRONG_CODES`], then 30 s,
/// doubling with each further one.
pub fn backoff_secs(wrong: u32) -> u64 {
    match wrong.checked_sub(FREE_WRONG_CODES) {
        None => 0,
        Some(over) => 30u64 << over.min(16),
    }
}

/// Attempt limits, the unlock semaphores and the tally of refusals.
pub struct LoginGuard {
    known: DefaultKeyedRateLimiter<String>,
    unknown: RwLock<DefaultKeyedRateLimiter<String>>,
    decoys: DefaultDirectRateLimiter,
    unlocks: Arc<Semaphore>,
    decoy_slot: Arc<Semaphore>,
    decoy_time: Mutex<Option<Duration>>,
    tally: Tally,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginGuard")
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn per_name() -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(Quota::per_minute(nz(1)).allow_burst(nz(10)))
}

impl Default for LoginGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginGuard {
    /// Ten attempts per name, then one a minute; decoy work for unknown names
    /// thirty at once, then one a second.
    pub fn new() -> Self {
        Self {
            known: per_name(),
            unknown: RwLock::new(per_name()),
            decoys: RateLimiter::direct(Quota::per_minute(nz(60)).allow_burst(nz(30))),
            unlocks: Arc::new(Semaphore::new(UNLOCKS_AT_ONCE)),
            decoy_slot: Arc::new(Semaphore::new(1)),
            decoy_time: Mutex::new(None),
            tally: Tally::default(),
        }
    }

    /// Whether an attempt for `name` may go on: a known reviewer by their own
    /// bucket, any other name by its own in the unknown names' set.
    fn allow(&self, name: &str, known: bool) -> bool {
        if known {
            return self.known.check_key(&name.to_owned()).is_ok();
        }
        let key = if reviewers::valid_name(name) {
            name.to_owned()
        } else {
            String::new()
        };
        if let Ok(unknown) = self.unknown.read() {
            if unknown.len() <= UNKNOWN_NAMES_KEPT {
                return unknown.check_key(&key).is_ok();
            }
        }
        // Too many names: forget those at rest, and if a flood of new names
        // keeps it full, forget them all (none of them is anyone's account).
        if let Ok(mut unknown) = self.unknown.write() {
            unknown.retain_recent();
            if unknown.len() > UNKNOWN_NAMES_KEPT {
                *unknown = per_name();
            }
            return unknown.check_key(&key).is_ok();
        }
        false
    }

    /// Spends on an unknown name the time a wrong passphrase costs: a decoy
    /// unlock while the decoy budget and slot allow, else a wait as long as
    /// the last decoy took (no work, so a flood costs no CPU).
    async fn decoy(&self, state: &ReviewState, passphrase: zeroize::Zeroizing<String>) {
        let slot = if self.decoys.check().is_ok() {
            let measured = self.decoy_time.lock().map(|t| t.is_some()).unwrap_or(false);
            if measured {
                Arc::clone(&self.decoy_slot).try_acquire_owned().ok()
            } else {
                // Nothing measured yet: this one measures, however long it waits.
                Arc::clone(&self.decoy_slot).acquire_owned().await.ok()
            }
        } else {
            None
        };
        match slot {
            Some(permit) => {
                let keys_dir = state.keys_dir.clone();
                let started = Instant::now();
                let _ = tokio::task::spawn_blocking(move || {
                    reviewers::decoy(&keys_dir, &passphrase);
                    drop(permit);
                })
                .await;
                if let Ok(mut t) = self.decoy_time.lock() {
                    *t = Some(started.elapsed());
                }
            }
            None => {
                drop(passphrase);
                let wait = self.decoy_time.lock().ok().and_then(|t| *t);
                tokio::time::sleep(wait.unwrap_or_default()).await;
            }
        }
    }

    /// Writes the refusals counted since the last call (every
    /// [`TALLY_EVERY`], and at shutdown).
    pub async fn flush(&self, store: &Store) {
        for ((actor, reason), more) in self.tally.take() {
            let detail = format!("{reason}: {more} more in that minute");
            if let Err(e) = store
                .audit(Entry::general(&actor, Action::LoginFailed, detail))
                .await
            {
                tracing::error!(error = %e, "counted login refusals could not be audited");
            }
        }
    }
}

/// Refused logins of the current minute, by actor and reason.
#[derive(Default)]
struct Tally(Mutex<HashMap<(String, &'static str), u64>>);

impl Tally {
    /// Counts one refusal; `true` if it is the first of its actor and reason
    /// in this minute (write it at once), `false` if it is only counted.
    fn note(&self, actor: &str, reason: &'static str) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return true;
        };
        match map.get_mut(&(actor.to_owned(), reason)) {
            Some(more) => {
                *more += 1;
                false
            }
            None => {
                map.insert((actor.to_owned(), reason), 0);
                true
            }
        }
    }

    /// The counts beyond each first refusal, and a fresh minute.
    fn take(&self) -> Vec<((String, &'static str), u64)> {
        let Ok(mut map) = self.0.lock() else {
            return Vec::new();
        };
        let mut counted: Vec<_> = map.drain().filter(|(_, more)| *more > 0).collect();
        counted.sort();
        counted
    }
}

/// Writes the counted refusals every [`TALLY_EVERY`] while the guard exists.
pub fn spawn_tally_writer(guard: &Arc<LoginGuard>, store: &Store) {
    let weak: Weak<LoginGuard> = Arc::downgrade(guard);
    let store = store.clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            let mut tick = tokio::time::interval(TALLY_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(guard) => guard.flush(&store).await,
                    None => return,
                }
            }
        });
    }
}

/// `GET /login`.
pub async fn form(State(state): State<ReviewState>, face: Face) -> Response {
    pages::login(face, state.production, None).into_response()
}

/// `POST /login`.
pub async fn submit(State(state): State<ReviewState>, face: Face, body: Body) -> Response {
    let Some(fields) = Fields::read(body).await else {
        return ReviewError::BadRequest.page(face);
    };
    let name = fields.get("name").trim().to_owned();
    let known = reviewers::valid_name(&name) && reviewers::list(&state.keys_dir).contains(&name);
    let actor = if known { name.as_str() } else { "(unknown)" };
    if !state.guard.allow(&name, known) {
        refused(&state, actor, "rate-limited").await;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(
                face,
                state.production,
                Some(face.t("review.login.too_many")),
            ),
        )
            .into_response();
    }
    let outcome = if known {
        unlock(&state, &name, &fields).await
    } else {
        let passphrase = zeroize::Zeroizing::new(fields.get("passphrase").to_owned());
        state.guard.decoy(&state, passphrase).await;
        Err("unknown-name")
    };
    match outcome {
        Ok((identity, refused_before)) => {
            let Some(token) = state.sessions.create(&name, identity) else {
                return ReviewError::Unavailable.page(face);
            };
            let detail = if refused_before > 0 {
                format!("after {refused_before} refused second factors")
            } else {
                String::new()
            };
            if let Err(e) = state
                .store
                .audit(Entry::general(&name, Action::Login, detail))
                .await
            {
                state.sessions.end(&token);
                return ReviewError::from(e).page(face);
            }
            if refused_before > 0 {
                state.sessions.notify(&token, refused_before);
            }
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                session::set_cookie(state.production, &token),
            );
            res
        }
        Err(reason) => {
            refused(&state, actor, reason).await;
            (
                StatusCode::UNAUTHORIZED,
                pages::login(face, state.production, Some(face.t("review.login.refused"))),
            )
                .into_response()
        }
    }
}

/// Audits a refused login: at once if it is the first of its kind this
/// minute, else only counted (see [`Tally`]).
async fn refused(state: &ReviewState, actor: &str, reason: &'static str) {
    if !state.guard.tally.note(actor, reason) {
        return;
    }
    if let Err(e) = state
        .store
        .audit(Entry::general(actor, Action::LoginFailed, reason))
        .await
    {
        tracing::error!(error = %e, "a failed login could not be audited");
    }
}

/// Runs the checks in order; every refusal carries a reason for the audit
/// only. On success: the identity, and how many second factors were refused
/// since the last login.
async fn unlock(
    state: &ReviewState,
    name: &str,
    fields: &Fields,
) -> Result<(age::x25519::Identity, u64), reviewers::Refusal> {
    let permit = Arc::clone(&state.guard.unlocks)
        .acquire_owned()
        .await
        .map_err(|_| "busy")?;
    let keys_dir = state.keys_dir.clone();
    let owned_name = name.to_owned();
    let passphrase = zeroize::Zeroizing::new(fields.get("passphrase").to_owned());
    let identity = tokio::task::spawn_blocking(move || {
        let result = reviewers::unlock(&keys_dir, &owned_name, &passphrase);
        drop(permit);
        result
    })
    .await
    .map_err(|_| "busy")??;
    if !reviewers::is_listed(&state.keys_dir, &identity) {
        return Err("revoked");
    }
    let Some(totp) = reviewers::open_totp(&state.keys_dir, name, &identity)? else {
        return if state.production {
            Err("no-totp-configured")
        } else {
            Ok((identity, 0))
        };
    };
    let file = reviewers::totp_fingerprint(&state.keys_dir, name).ok_or("totp-unreadable")?;
    second_factor(state, name, file, &totp, fields.get("totp")).await?;
    let refused_before = state
        .store
        .second_factor_passed(name)
        .await
        .map_err(|_| "unavailable")?;
    Ok((identity, refused_before))
}

/// Checks the code against the backoff, the lockout and the replay rule.
async fn second_factor(
    state: &ReviewState,
    name: &str,
    file: [u8; 32],
    totp: &totp_rs::TOTP,
    code: &str,
) -> Result<(), reviewers::Refusal> {
    let store = &state.store;
    let record = store
        .second_factor(name, file)
        .await
        .map_err(|_| "unavailable")?;
    let now = reviewers::unix_now();
    let held = if record.wrong >= LOCK_AFTER_WRONG {
        Some("totp-locked")
    } else if now < record.last_wrong.saturating_add(backoff_secs(record.wrong)) {
        Some("totp-backoff")
    } else {
        None
    };
    if let Some(reason) = held {
        let _ = store.second_factor_refused(name, file, None).await;
        return Err(reason);
    }
    let Some(step) = reviewers::matching_step(totp, code, now) else {
        let counted = store
            .second_factor_refused(name, file, Some(now))
            .await
            .map_err(|_| "unavailable")?;
        return Err(if counted.wrong == LOCK_AFTER_WRONG {
            "totp-lockout"
        } else {
            "totp"
        });
    };
    match store.claim_totp_step(name, step).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            let _ = store.second_factor_refused(name, file, None).await;
            Err("totp-replayed")
        }
        Err(_) => Err("unavailable"),
    }
}

/// `POST /logout`: ends the session (the identity is wiped), clears the cookie.
pub async fn logout(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    Fields::read_checked(body, &reviewer)
        .await
        .map_err(|e| Failure(face, e))?;
    state.sessions.end(reviewer.token());
    state
        .store
        .audit(Entry::general(&reviewer.name, Action::Logout, ""))
        .await
        .map_err(|e| Failure(face, e.into()))?;
    drop(reviewer);
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(state.production));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_grows_after_the_free_codes() {
        assert_eq!(backoff_secs(0), 0);
        assert_eq!(backoff_secs(FREE_WRONG_CODES - 1), 0);
        assert_eq!(backoff_secs(FREE_WRONG_CODES), 30);
        assert_eq!(backoff_secs(FREE_WRONG_CODES + 1), 60);
        assert_eq!(backoff_secs(FREE_WRONG_CODES + 3), 240);
        assert!(backoff_secs(u32::MAX) > 0);
    }

    #[test]
    fn a_refusal_is_written_once_a_minute_and_then_counted() {
        let tally = Tally::default();
        assert!(tally.note("(unknown)", "unknown-name"));
        for _ in 0..999 {
            assert!(!tally.note("(unknown)", "unknown-name"));
        }
        assert!(tally.note("ann", "passphrase"));
        assert_eq!(
            tally.take(),
            [(("(unknown)".to_owned(), "unknown-name"), 999)]
        );
        assert!(tally.note("(unknown)", "unknown-name"), "a new minute");
    }

    #[test]
    fn a_known_name_is_not_held_back_by_a_flood_of_others() {
        let guard = LoginGuard::new();
        for i in 0..1_000 {
            let _ = guard.allow(&format!("junk{i}"), false);
            let _ = guard.allow("INVALID NAME", false);
        }
        assert!(guard.allow("ann", true));
        for _ in 0..20 {
            let _ = guard.allow("nobody", false);
        }
        assert!(
            !guard.allow("nobody", false),
            "an unknown name has a bucket too"
        );
    }
}
