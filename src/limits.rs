//! Rate limits that never store an address.
//!
//! A client is known only by HMAC-SHA256(secret, address), the secret held in
//! memory and replaced every day, IPv6 addresses cut to their /64. The limiter's
//! memory is trimmed on a timer, so it stays bounded under a flood.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::config::Limits;

/// The keyed hash a client is known by.
pub type ClientKey = [u8; 32];

/// Why a request was held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until a new attempt may succeed.
    pub retry_after_secs: u64,
}

/// The limiters of one face.
pub struct Limiters {
    secret: RwLock<Zeroizing<[u8; 32]>>,
    submit: DefaultKeyedRateLimiter<ClientKey>,
    lookup: DefaultKeyedRateLimiter<ClientKey>,
    global: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiters")
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limiters {
    /// Builds the limiters from validated settings.
    pub fn new(limits: &Limits) -> Self {
        let per_hour = |n: u32, burst: u32| {
            Quota::with_period(Duration::from_secs(3600) / n.max(1))
                .unwrap_or_else(|| Quota::per_hour(nonzero(n)))
                .allow_burst(nonzero(burst))
        };
        Self {
            secret: RwLock::new(Zeroizing::new(crate::crypto::random_bytes())),
            submit: RateLimiter::keyed(per_hour(limits.submit_per_hour, limits.submit_burst)),
            // A burst never larger than the hour's allowance.
            lookup: RateLimiter::keyed(per_hour(
                limits.lookup_per_hour,
                limits.lookup_burst.min(limits.lookup_per_hour),
            )),
            global: RateLimiter::direct(Quota::per_second(nonzero(limits.global_per_second))),
            clock: DefaultClock::default(),
        }
    }

    /// The keyed hash of a client address (IPv6 by its /64; a Tor circuit's
    /// address, which only the Tor listener gives, whole: see [`crate::web::proxy`]).
    pub fn client_key(&self, addr: IpAddr) -> ClientKey {
        let mut bytes = Zeroizing::new([0u8; 16]);
        let used = match addr.to_canonical() {
            IpAddr::V6(v6) if crate::web::proxy::is_tor_circuit(&v6) => {
                bytes.copy_from_slice(&v6.octets());
                16
            }
            IpAddr::V4(v4) => {
                if let Some(dst) = bytes.get_mut(..4) {
                    dst.copy_from_slice(&v4.octets());
                }
                4
            }
            IpAddr::V6(v6) => {
                if let (Some(dst), Some(src)) = (bytes.get_mut(..8), v6.octets().get(..8)) {
                    dst.copy_from_slice(src);
                }
                8
            }
        };
        let secret = self.secret.read().map(|s| **s).unwrap_or([0u8; 32]);
        // HMAC accepts keys of any length, so the error branch cannot be taken; if
        // it were, every client would share one key, which fails closed.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&secret) else {
            return [0u8; 32];
        };
        mac.update(bytes.get(..used).unwrap_or_default());
        mac.finalize().into_bytes().into()
    }

    /// Checks a submission from `client` against its own and the global limit.
    pub fn check_submit(&self, client: &ClientKey) -> Result<(), Limited> {
        self.check(&self.submit, client)
    }

    /// Checks a receipt look-up against the limit for all clients together.
    /// A client's own limit counts only the codes that opened nothing (see
    /// [`Limiters::note_failed_lookup`]), so a right code opens even after
    /// colleagues behind the same address mistyped theirs; only when all
    /// clients together are over the global limit is a right code refused too.
    pub fn check_lookup(&self) -> Result<(), Limited> {
        self.global.check().map_err(|nu| Limited {
            retry_after_secs: nu.wait_time_from(self.clock.now()).as_secs().max(1),
        })
    }

    /// Counts a look-up by `client` that opened nothing; `Err` once the
    /// client has tried more wrong codes than its limit allows.
    pub fn note_failed_lookup(&self, client: &ClientKey) -> Result<(), Limited> {
        self.lookup.check_key(client).map_err(|nu| Limited {
            retry_after_secs: nu.wait_time_from(self.clock.now()).as_secs().max(1),
        })
    }

    fn check(
        &self,
        keyed: &DefaultKeyedRateLimiter<ClientKey>,
        client: &ClientKey,
    ) -> Result<(), Limited> {
        let wait = |nu: governor::NotUntil<_>| Limited {
            retry_after_secs: nu.wait_time_from(self.clock.now()).as_secs().max(1),
        };
        keyed.check_key(client).map_err(wait)?;
        self.global.check().map_err(wait)
    }

    /// Forgets idle clients and returns the memory; called every minute.
    pub fn trim(&self) {
        for limiter in [&self.submit, &self.lookup] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Replaces the hashing secret (daily), so yesterday's keys mean nothing today.
    pub fn rotate_secret(&self) {
        if let Ok(mut s) = self.secret.write() {
            *s = Zeroizing::new(crate::crypto::random_bytes());
        }
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_addr(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer_ip = peer.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer_ip) {
        return peer_ip;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer_ip)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(burst: u32) -> Limits {
        Limits {
            submit_burst: burst,
            submit_per_hour: 10,
            global_per_second: 1000,
            lookup_per_hour: 10,
            lookup_burst: 10,
        }
    }

    #[test]
    fn one_client_is_limited_while_another_is_not() {
        let l = Limiters::new(&limits(3));
        let a = l.client_key("127.0.0.2".parse().unwrap());
        let b = l.client_key("127.0.0.3".parse().unwrap());
        for _ in 0..3 {
            l.check_submit(&a).unwrap();
        }
        let held = l.check_submit(&a).unwrap_err();
        assert!(held.retry_after_secs >= 1);
        l.check_submit(&b).unwrap();
    }

    #[test]
    fn only_wrong_codes_count_against_an_address() {
        let l = Limiters::new(&limits(3));
        let a = l.client_key("127.0.0.2".parse().unwrap());
        for _ in 0..100 {
            l.check_lookup().unwrap();
        }
        for _ in 0..10 {
            l.note_failed_lookup(&a).unwrap();
        }
        assert!(l.note_failed_lookup(&a).is_err());
        l.check_lookup().unwrap();
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let l = Limiters::new(&limits(1));
        let a = l.client_key("2001:db8:1:2::1".parse().unwrap());
        let b = l.client_key("2001:db8:1:2:ffff::9".parse().unwrap());
        let c = l.client_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn each_tor_circuit_is_a_client_of_its_own() {
        let l = Limiters::new(&limits(1));
        let one = l.client_key("fc00:dead:beef:4dad::1".parse().unwrap());
        let two = l.client_key("fc00:dead:beef:4dad::2".parse().unwrap());
        assert_ne!(one, two);
        assert_eq!(one, l.client_key("fc00:dead:beef:4dad::1".parse().unwrap()));
    }

    #[test]
    fn rotating_the_secret_changes_every_key() {
        let l = Limiters::new(&limits(1));
        let ip = "10.1.2.3".parse().unwrap();
        let before = l.client_key(ip);
        l.rotate_secret();
        assert_ne!(before, l.client_key(ip));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.7, 10.0.0.9".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let direct: SocketAddr = "203.0.113.5:4000".parse().unwrap();
        assert_eq!(
            client_addr(proxy, &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_addr(direct, &h, &trusted),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_addr(proxy, &HeaderMap::new(), &trusted), proxy.ip());
    }
}
