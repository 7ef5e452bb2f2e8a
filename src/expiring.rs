//! Short-lived secrets kept in memory (live-check nonces and proofs, login tickets): a map
//! whose expired entries are swept at most once a second, random tokens, and a lock helper.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

/// How often an expiring map may be swept.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Entries with a lifetime, swept of expired ones at most once every [`SWEEP_EVERY`]: a sweep
/// walks the whole map, and the requests that insert must not each pay for one.
pub(crate) struct Expiring<V> {
    pub(crate) entries: HashMap<String, V>,
    last_sweep: Option<Instant>,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            last_sweep: None,
        }
    }
}

impl<V> Expiring<V> {
    /// Keeps only the entries `alive` accepts, unless the last sweep was under a second ago.
    pub(crate) fn sweep(&mut self, now: Instant, mut alive: impl FnMut(&V) -> bool) {
        if self
            .last_sweep
            .is_some_and(|at| now.duration_since(at) < SWEEP_EVERY)
        {
            return;
        }
        self.entries.retain(|_, entry| alive(entry));
        self.last_sweep = Some(now);
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold plain data; a panic elsewhere cannot leave them inconsistent.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// 192 random bits, URL-safe base64: unguessable, and safe in a URL or JSON.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
