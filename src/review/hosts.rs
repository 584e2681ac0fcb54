//! The names the review face answers to: its own address (and `localhost`
//! when that is a loopback address) and the `review_hosts` setting. Any other
//! `Host` is refused with 421 before any handler runs.
//!
//! Invariant: a browser that reaches the review face under a name someone
//! else chose (a page whose DNS name was pointed at this address: DNS
//! rebinding) is refused, even though its `Origin` and `Host` agree and so
//! pass the same-origin check. An address typed as such cannot be rebound,
//! so any port of the own address is accepted (a proxy in front may listen
//! on another one).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::{Face, ReviewError, ReviewState};
use crate::config::split_host;

/// The names one review face answers to.
#[derive(Debug, Clone)]
pub struct Hosts {
    own: IpAddr,
    names: Vec<String>,
}

impl Hosts {
    /// The names of a face listening on `addr`, and the configured ones.
    pub fn new(addr: SocketAddr, configured: &[String]) -> Self {
        Self {
            own: addr.ip().to_canonical(),
            names: configured.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a request with `Host: host` is meant for this face.
    pub fn allow(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let (name, _port) = split_host(&host);
        let literal = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
            .map(|ip| ip.to_canonical());
        if let Some(ip) = literal {
            // Bound to every address: every address of the machine is its own.
            if self.own.is_unspecified() || ip == self.own {
                return true;
            }
        }
        if self.own.is_loopback() && name == "localhost" {
            return true;
        }
        self.names.iter().any(|n| *n == host || *n == name)
    }
}

/// Refuses a request whose `Host` is not one of this face's names (421), or
/// that names none (400).
pub async fn named_only(State(state): State<ReviewState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    let refusal = match host {
        None => Some(ReviewError::BadRequest),
        Some(h) if !state.hosts.allow(&h) => Some(ReviewError::Misdirected),
        Some(_) => None,
    };
    match refusal {
        Some(e) => e.page(Face::of(&state, req.headers())),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_own_address_localhost_and_the_configured_names_pass() {
        let h = Hosts::new("127.0.0.1:8081".parse().unwrap(), &[]);
        for ok in [
            "127.0.0.1:8081",
            "127.0.0.1",
            "127.0.0.1:8443",
            "localhost:8081",
            "LOCALHOST",
        ] {
            assert!(h.allow(ok), "{ok}");
        }
        for bad in [
            "evil.example:8081",
            "127.0.0.2:8081",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!h.allow(bad), "{bad}");
        }
        let h = Hosts::new(
            "10.0.0.5:8081".parse().unwrap(),
            &["review.example".to_owned(), "other.example:8443".to_owned()],
        );
        assert!(h.allow("review.example:9999"));
        assert!(h.allow("other.example:8443"));
        assert!(!h.allow("other.example:8080"));
        assert!(!h.allow("localhost:8081"), "not on a loopback address");
        let any = Hosts::new("[::]:8081".parse().unwrap(), &[]);
        assert!(any.allow("[2001:db8::1]:8081"));
        assert!(any.allow("192.0.2.7:8081"));
        assert!(!any.allow("rebound.example:8081"));
    }
}
