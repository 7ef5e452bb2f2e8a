//! A per-client share of a limited resource (login places, live sockets, connections): how many
//! one client key holds at once, refused past `limit`. Memory follows the current holders only:
//! a key is forgotten when its last place is given back.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use super::client_key::ClientKey;

pub struct Shares {
    limit: usize,
    held: Mutex<HashMap<ClientKey, usize>>,
}

impl Shares {
    /// `limit`: the most one key may hold at once.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            held: Mutex::default(),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// One more place for `key`, or `None` when it holds its share already.
    pub fn try_take(self: &Arc<Self>, key: ClientKey) -> Option<Share> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Share {
            shares: Arc::clone(self),
            key,
        })
    }

    #[cfg(test)]
    /// Keys holding at least one place.
    pub fn holders(&self) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// One place held by a key; given back when dropped.
pub struct Share {
    shares: Arc<Shares>,
    key: ClientKey,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut held = self.shares.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> ClientKey {
        ClientKey::of(ip.parse().expect("ip"), 64)
    }

    #[test]
    fn one_key_holds_at_most_its_share_and_gets_it_back() {
        let shares = Shares::new(2);
        let a1 = shares.try_take(key("192.0.2.1")).expect("first");
        let _a2 = shares.try_take(key("192.0.2.1")).expect("second");
        assert!(shares.try_take(key("192.0.2.1")).is_none(), "third refused");
        // Another client is unaffected; a second address of the same /64 is not.
        let _b = shares.try_take(key("2001:db8::1")).expect("other client");
        let _b2 = shares
            .try_take(key("2001:db8::2"))
            .expect("same /64, second place");
        assert!(shares.try_take(key("2001:db8::ffff")).is_none());
        drop(a1);
        assert!(shares.try_take(key("192.0.2.1")).is_some(), "given back");
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let shares = Shares::new(1);
        let held: Vec<_> = (0..100u8)
            .filter_map(|i| shares.try_take(ClientKey::of([192, 0, 2, i].into(), 64)))
            .collect();
        assert_eq!(shares.holders(), 100);
        drop(held);
        assert_eq!(shares.holders(), 0);
    }
}
