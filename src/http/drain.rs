//! Draining at shutdown: whether the server is stopping, and how many requests are running.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Shared by the shutdown sequence, `/healthz` and every request: whether the server is
/// draining, and how many requests are running (live-check WebSockets count only until their
/// upgrade).
#[derive(Clone, Default)]
pub struct Drain {
    pub(crate) draining: Arc<AtomicBool>,
    pub(crate) in_flight: Arc<AtomicUsize>,
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// Decrements the count however the request ends (answered, or dropped when its client left).
pub struct InFlight(pub Drain);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
