//! The work-network check: is a visitor's address inside one of the
//! configured `work_networks`?
//!
//! Invariant: the address is compared in memory and dropped; it is never
//! stored, logged or shown, and only a yes/no leaves this module.

use std::net::SocketAddr;

use axum::http::HeaderMap;

use crate::config::Config;
use crate::limits;

/// Whether the visitor seems to be on a work network.
pub fn on_work_network(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> bool {
    if config.work_networks.is_empty() {
        return false;
    }
    let addr = limits::client_addr(peer, headers, &config.trusted_proxies);
    config.work_networks.iter().any(|net| net.contains(&addr))
}
