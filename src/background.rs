//! The server's background loops — the change follower, the purges, the key-file watch, the
//! sweeps of idle clients and ended grants, the database health check — started here and
//! stopped here: one owner, one shutdown signal. A loop in the middle of a round finishes that
//! round (a purge is not cut between two deletes); the server waits for them, up to a deadline,
//! before it returns.

use std::{future::Future, time::Duration};

use tokio::time::MissedTickBehavior;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// Owns every background loop of one server. Clones share the loops.
#[derive(Clone, Default)]
pub struct Background {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Background {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `round` every `period`, the first after one period, until shutdown. A slow round
    /// delays the next instead of bunching them up.
    pub fn every<F, Fut>(&self, name: &'static str, period: Duration, mut round: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => break,
                    _ = ticks.tick() => round().await,
                }
            }
            tracing::debug!(task = name, "background task stopped");
        });
    }

    /// Runs `task` until it ends or shutdown begins, whichever is first. For loops with their
    /// own rhythm (the change follower waits on a poll or a wake-up).
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => tracing::debug!(task = name, "background task stopped"),
                () = task => {}
            }
        });
    }

    /// Runs a one-off `job` (a write the request did not wait for) that shutdown waits for but
    /// does not cut: its effect must not be lost to a stop.
    pub(crate) fn finish(&self, job: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(job);
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Stops every loop and waits for them (and for one-off jobs) up to `deadline`; returns how
    /// many were still running then.
    pub async fn shutdown(&self, deadline: Duration) -> usize {
        self.stop.cancel();
        self.tasks.close();
        if tokio::time::timeout(deadline, self.tasks.wait()).await.is_err() {
            let left = self.tasks.len();
            tracing::warn!(
                tasks = left,
                "background tasks still running at the shutdown deadline"
            );
            return left;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn loops_run_on_their_period_and_stop_on_shutdown() {
        let background = Background::new();
        let rounds = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&rounds);
        background.every("count", Duration::from_secs(10), move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_secs(35)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
        assert_eq!(background.shutdown(Duration::from_secs(1)).await, 0);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 3, "no round after shutdown");
    }

    #[tokio::test(start_paused = true)]
    async fn a_round_under_way_finishes_and_a_stuck_task_is_counted() {
        let background = Background::new();
        let finished = Arc::new(AtomicUsize::new(0));
        let done = Arc::clone(&finished);
        background.finish(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            done.fetch_add(1, Ordering::SeqCst);
        });
        background.finish(std::future::pending());
        assert_eq!(background.shutdown(Duration::from_secs(5)).await, 1);
        assert_eq!(finished.load(Ordering::SeqCst), 1, "the write was not cut");
        assert!(background.is_stopping());
    }
}
