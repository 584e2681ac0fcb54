//! Connection slots per client: one client (one keyed hash, see
//! [`crate::limits`]) may hold at most `max_connections_per_client` of a
//! listener's connections, so slow sockets from one place cannot take every
//! slot from everyone else. A trusted proxy's connection carries many
//! clients: there each request takes a slot of the client its
//! `X-Forwarded-For` names, from its head until it is answered.
//!
//! Invariant: only keyed hashes are held, in memory, and an entry lives only
//! while its client has a connection open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::limits::ClientKey;

/// The connections each client holds on one listener.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    held: Mutex<HashMap<ClientKey, usize>>,
}

/// One connection's slot; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    key: ClientKey,
}

impl Slots {
    /// At most `max` connections per client.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key`, unless it holds `max` already.
    pub fn take(self: &Arc<Self>, key: ClientKey) -> Option<Slot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let n = held.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: Arc::clone(self),
            key,
        })
    }

    /// How many clients hold a slot.
    #[cfg(test)]
    pub fn clients(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_client_gets_its_share_and_the_next_one_its_own() {
        let slots = Slots::new(2);
        let a = [1u8; 32];
        let b = [2u8; 32];
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_none());
        let _other = slots.take(b).unwrap();
        drop(first);
        let _again = slots.take(a).unwrap();
        assert_eq!(slots.clients(), 2);
    }

    #[test]
    fn a_client_without_connections_is_forgotten() {
        let slots = Slots::new(1);
        drop(slots.take([3u8; 32]).unwrap());
        assert_eq!(slots.clients(), 0);
    }
}
