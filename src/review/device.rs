//! Device cookies: a browser in which a reviewer has logged in before gets
//! an attempt bucket of its own, so someone who knows a reviewer's name and
//! spends that name's allowance on guesses cannot lock the reviewer out of
//! a browser they have used before (OWASP, "Slow Down Online Guessing
//! Attacks with Device Cookies").
//!
//! Invariants:
//! - The cookie holds 32 random bytes in hex. The server keeps only their
//!   SHA-256, with the name they were given to, in memory: a restart forgets
//!   them, and the next login in that browser goes by the name's bucket and
//!   gets a new cookie.
//! - A device counts only for the name it was given to, after a login that
//!   passed every check; at most [`PER_REVIEWER`] are kept per name, the
//!   oldest forgotten first.
//! - A device's attempts are limited as a name's are (ten, then one a
//!   minute), in a bucket of its own: wrong passphrases typed in it slow only it.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderMap, HeaderValue};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

/// Devices kept per reviewer (browsers, laptops).
pub const PER_REVIEWER: usize = 8;
/// The cookie's name over HTTPS.
pub const COOKIE_SECURE: &str = "__Host-signaal-device";
/// The cookie's name on a plain-http loopback demo.
pub const COOKIE_PLAIN: &str = "signaal-device";
/// How long a browser keeps the cookie: a year.
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// A device, by the hash of its cookie.
pub type Device = [u8; 32];

/// The devices reviewers have logged in from, and their attempt buckets.
pub struct Devices {
    given: Mutex<HashMap<String, VecDeque<Device>>>,
    buckets: DefaultKeyedRateLimiter<Device>,
}

impl Default for Devices {
    fn default() -> Self {
        let nz = |n| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            given: Mutex::new(HashMap::new()),
            buckets: RateLimiter::keyed(Quota::per_minute(nz(1)).allow_burst(nz(10))),
        }
    }
}

fn hash(token: &str) -> Device {
    Sha256::digest(token.as_bytes()).into()
}

impl Devices {
    /// The device of the request's cookie, if it was given to `name`.
    pub fn of(&self, name: &str, headers: &HeaderMap, production: bool) -> Option<Device> {
        let token = cookie(headers, production)?;
        let device = hash(&token);
        let given = self.given.lock().unwrap_or_else(PoisonError::into_inner);
        given
            .get(name)
            .is_some_and(|devices| devices.contains(&device))
            .then_some(device)
    }

    /// Whether an attempt from `device` may go on.
    pub fn allow(&self, device: &Device) -> bool {
        self.buckets.check_key(device).is_ok()
    }

    /// Gives `name` a new device; returns the cookie's value.
    pub fn give(&self, name: &str) -> String {
        let token = data_encoding::HEXLOWER.encode(&crate::crypto::random_bytes::<32>());
        let mut given = self.given.lock().unwrap_or_else(PoisonError::into_inner);
        let devices = given.entry(name.to_owned()).or_default();
        devices.push_back(hash(&token));
        while devices.len() > PER_REVIEWER {
            devices.pop_front();
        }
        drop(given);
        self.buckets.retain_recent();
        token
    }
}

/// The device cookie's value in the request, if it has the right shape.
fn cookie(headers: &HeaderMap, production: bool) -> Option<String> {
    let name = if production {
        COOKIE_SECURE
    } else {
        COOKIE_PLAIN
    };
    super::session::hex_cookie(headers, name)
}

/// The one constructor of the device cookie: only the login page reads it
/// (but a `__Host-` cookie must have `Path=/`), never script, never another site.
pub fn set_cookie(production: bool, token: &str) -> HeaderValue {
    let value = if production {
        format!(
            "{COOKIE_SECURE}={token}; Path=/; Max-Age={MAX_AGE_SECS}; Secure; HttpOnly; SameSite=Strict"
        )
    } else {
        format!("{COOKIE_PLAIN}={token}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Strict")
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::header;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_device_counts_for_its_own_name_only_and_keeps_its_bucket() {
        let devices = Devices::default();
        let token = devices.give("ann");
        let headers = with_cookie(&format!("{COOKIE_PLAIN}={token}"));
        let device = devices.of("ann", &headers, false).unwrap();
        assert_eq!(devices.of("bob", &headers, false), None);
        assert_eq!(
            devices.of("ann", &headers, true),
            None,
            "another cookie name"
        );
        assert_eq!(
            devices.of("ann", &with_cookie("signaal-device=00"), false),
            None
        );
        for _ in 0..10 {
            assert!(devices.allow(&device));
        }
        assert!(!devices.allow(&device));
    }

    #[test]
    fn the_oldest_device_is_forgotten_past_the_bound() {
        let devices = Devices::default();
        let first = devices.give("ann");
        for _ in 0..PER_REVIEWER {
            devices.give("ann");
        }
        let headers = with_cookie(&format!("{COOKIE_PLAIN}={first}"));
        assert_eq!(devices.of("ann", &headers, false), None);
    }
}
