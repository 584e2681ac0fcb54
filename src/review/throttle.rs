//! The review face's login throttles: per-name attempt buckets, the budget
//! of decoy work for unknown names, the unlock semaphores, and the tally that
//! counts refused logins instead of writing one audit row each.
//!
//! Invariants:
//! - A known reviewer's attempts are limited by that name's own bucket only:
//!   no flood of other names can make their login wait or fail.
//! - An unknown name has a bucket of its own too (so a 429 does not tell a
//!   reviewer's name from another), and costs the time of a wrong passphrase
//!   on the costliest reviewer file: a real decoy unlock while the budget and
//!   the single decoy slot allow, else a wait as long as the last one took.
//! - The memory is bounded: reviewers' buckets by the number of reviewers,
//!   unknown names' by [`UNKNOWN_NAMES_KEPT`], the tally by reviewers × reasons.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use super::{ReviewState, reviewers};
use crate::audit::{Action, Entry};
use crate::store::Store;

/// scrypt unlocks of known names running at once (each takes up to ~1 GiB and a second).
pub const UNLOCKS_AT_ONCE: usize = 2;
/// How often the counted refusals are written.
pub const TALLY_EVERY: Duration = Duration::from_secs(60);
/// Unknown names whose buckets are kept before they are forgotten at once.
const UNKNOWN_NAMES_KEPT: usize = 10_000;

/// Attempt limits, the unlock semaphores and the tally of refusals.
pub struct LoginGuard {
    known: DefaultKeyedRateLimiter<String>,
    unknown: RwLock<DefaultKeyedRateLimiter<String>>,
    decoys: DefaultDirectRateLimiter,
    pub(super) unlocks: Arc<Semaphore>,
    decoy_slot: Arc<Semaphore>,
    decoy_time: Mutex<Option<Duration>>,
    pub(super) tally: Tally,
    pub(super) devices: super::device::Devices,
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
            devices: super::device::Devices::default(),
        }
    }

    /// Whether an attempt for `name` may go on: from a browser the reviewer
    /// logged in from before, by that device's own bucket; else a known
    /// reviewer by their name's bucket, any other name by its own in the
    /// unknown names' set.
    pub(super) fn allow(
        &self,
        name: &str,
        known: bool,
        device: Option<&super::device::Device>,
    ) -> bool {
        if let Some(device) = device {
            return self.devices.allow(device);
        }
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
    pub(super) async fn decoy(&self, state: &ReviewState, passphrase: zeroize::Zeroizing<String>) {
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

    /// Holds a known name's refused login until it has taken as long as an
    /// unknown name's (the last decoy's time, measured now if no decoy has
    /// run yet), so that a reviewer whose file is cheaper than the costliest
    /// does not stand out by a quicker refusal.
    pub(super) async fn pad_refusal(
        &self,
        state: &ReviewState,
        started: Instant,
        passphrase: zeroize::Zeroizing<String>,
    ) {
        let measured = self.decoy_time.lock().ok().and_then(|t| *t);
        match measured {
            Some(decoy) => tokio::time::sleep(decoy.saturating_sub(started.elapsed())).await,
            None => self.decoy(state, passphrase).await,
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
pub(super) struct Tally(Mutex<HashMap<(String, &'static str), u64>>);

impl Tally {
    /// Counts one refusal; `true` if it is the first of its actor and reason
    /// in this minute (write it at once), `false` if it is only counted.
    pub(super) fn note(&self, actor: &str, reason: &'static str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            let _ = guard.allow(&format!("junk{i}"), false, None);
            let _ = guard.allow("INVALID NAME", false, None);
        }
        assert!(guard.allow("ann", true, None));
        for _ in 0..20 {
            let _ = guard.allow("nobody", false, None);
        }
        assert!(
            !guard.allow("nobody", false, None),
            "an unknown name has a bucket too"
        );
    }
}
