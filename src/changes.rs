//! The change feed: how several app instances on one database keep what they hold in memory —
//! the gallery, the sessions, who has a passkey — in step. Each instance applies its own changes
//! at once and appends them to the `changes` log (`db::changes`); every instance follows the log
//! and applies the others'.
//!
//! Following is a poll of the log's tail every [`POLL_EVERY`] (works on any MongoDB-compatible
//! server; the log is small, so even FerretDB's full scan is cheap). Where the database offers
//! change streams (a MongoDB replica set), a stream on the log wakes the follower as soon as a
//! change lands; the poll still does the reading, so both paths apply the same changes in the
//! same order. A background reconciliation with the collections themselves is the safety net
//! should a change ever be lost.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mongodb::bson::oid::ObjectId;
use tokio::sync::{Mutex, Notify};

use crate::{
    background::Background,
    db::{
        Db,
        changes::{self, Change, ChangeDoc},
    },
};

/// What the feed keeps in step: this instance's memory of the accounts (`accounts::ssr`
/// implements it). The feed decides when and in which order; the replica what a change means.
pub trait Replica: Clone + Send + Sync + 'static {
    /// Applies another instance's change to this one's memory.
    fn apply(&self, change: Change) -> impl Future<Output = ()> + Send;
    /// Forgets sessions past their end (every [`FORGET_EXPIRED_EVERY`]).
    fn forget_expired(&self);
    /// Compares memory with the collections and mends what differs (every [`RECONCILE_EVERY`];
    /// full scans, so only ever here, in the background).
    fn reconcile(&self) -> impl Future<Output = ()> + Send;
}

/// How often the log is read. Another instance's registration reaches this one's gallery within
/// about this (plus the database's answer).
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(500);
/// How long a missing change number is waited for before it is skipped: an instance can take a
/// number and then fail to append (crash, database gone). Later changes wait behind the gap so
/// that every instance applies changes in one order (a logout must never overtake its login).
const GAP_PATIENCE: Duration = Duration::from_secs(5);
/// How often memory is compared with the collections.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(300);
/// How often expired sessions are forgotten and the log's old entries deleted.
pub const FORGET_EXPIRED_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ChangeFeed {
    db: Db,
    /// Owns the follower and the writes nobody waits for.
    background: Background,
    /// This instance's name in the log: random per process.
    origin: Arc<str>,
    follower: Arc<Mutex<Follower>>,
    wake: Arc<Notify>,
    /// Told after every read of the log by the follower (see [`Self::next_read`]).
    read_done: Arc<Notify>,
    /// Users deleted lately: the reconciliation must not put back one it read just before the
    /// deletion.
    removed: Arc<std::sync::Mutex<HashMap<ObjectId, Instant>>>,
}

struct Follower {
    /// The lowest change number not yet applied (or skipped).
    next: i64,
    /// Since when `next` has been missing while later numbers exist.
    gap_since: Option<Instant>,
    /// When the latest read of the log began.
    last_read: Option<Instant>,
    /// Whether the latest read failed (logged once per outage, not twice a second).
    failing: bool,
}

impl ChangeFeed {
    /// Starts following at the log's current end. Call before loading the collections: a change
    /// made during the load is then both in the load and in the log, and applying it twice is
    /// harmless, whereas one made between the load and this call would be lost.
    pub async fn open(db: Db, background: Background) -> mongodb::error::Result<Self> {
        let last = changes::last_seq(&db).await?;
        Ok(Self {
            db,
            background,
            origin: crate::expiring::random_token().into(),
            follower: Arc::new(Mutex::new(Follower {
                next: last + 1,
                gap_since: None,
                last_read: None,
                failing: false,
            })),
            wake: Arc::default(),
            read_done: Arc::default(),
            removed: Arc::default(),
        })
    }

    /// Appends `change` (already applied here) for the other instances.
    pub(crate) async fn publish(&self, change: Change) -> mongodb::error::Result<()> {
        let seq = changes::next_seq(&self.db).await?;
        changes::append(&self.db, seq, &self.origin, change).await
    }

    /// [`Self::publish`] without waiting (shutdown does); a failure is logged (the
    /// reconciliation mends it).
    pub(crate) fn publish_in_background(&self, change: Change) {
        let feed = self.clone();
        self.background.finish(async move {
            if let Err(e) = feed.publish(change).await {
                tracing::warn!(error = %e, "could not publish a change to the other instances");
            }
        });
    }

    /// Reads and applies what the log has now. Callers that find nothing in memory (a session
    /// cookie from a login on another instance a moment ago) wait for this instead of reading
    /// the collection.
    /// Concurrent callers share one read: whoever finds that a read began after they asked
    /// takes its result instead of reading again.
    pub async fn catch_up(&self, replica: &impl Replica) {
        let asked = Instant::now();
        let mut follower = self.follower.lock().await;
        if follower.last_read.is_some_and(|read| read >= asked) {
            return;
        }
        follower.last_read = Some(Instant::now());
        let entries = match changes::since(&self.db, follower.next).await {
            Ok(entries) => {
                if std::mem::take(&mut follower.failing) {
                    tracing::info!("reading the change log again");
                }
                entries
            }
            Err(e) => {
                if !std::mem::replace(&mut follower.failing, true) {
                    tracing::warn!(error = %e, "could not read the change log; retrying");
                }
                return;
            }
        };
        for entry in follower.in_order(entries, Instant::now()) {
            if *entry.origin != *self.origin {
                replica.apply(entry.change).await;
            }
        }
    }

    /// Waits until the follower has read the log once from start to end after this call (the
    /// second read to finish: the first may have begun earlier), or `limit`. For a session
    /// cookie this instance does not know: if its login happened on another instance a moment
    /// ago, that read brings it. It costs the database nothing extra, so cookies made up by an
    /// outsider cannot be turned into database reads.
    pub(crate) async fn next_read(&self, limit: Duration) {
        let two_reads = async {
            for _ in 0..2 {
                self.read_done.notified().await;
            }
        };
        let _ = tokio::time::timeout(limit, two_reads).await;
    }

    /// Follows the log until shutdown; also forgets expired sessions and reconciles memory with
    /// the collections now and then.
    pub fn spawn_follower(&self, replica: impl Replica, background: &Background) {
        let feed = self.clone();
        let jobs = background.clone();
        background.spawn("change follower", async move {
            feed.listen_for_changes(&jobs).await;
            let mut polls = tokio::time::interval(POLL_EVERY);
            polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut forgot_at, mut reconciled_at) = (Instant::now(), Instant::now());
            loop {
                tokio::select! {
                    _ = polls.tick() => {}
                    _ = feed.wake.notified() => {}
                }
                feed.catch_up(&replica).await;
                feed.read_done.notify_waiters();
                if forgot_at.elapsed() >= FORGET_EXPIRED_EVERY {
                    forgot_at = Instant::now();
                    replica.forget_expired();
                    let db = feed.db.clone();
                    jobs.spawn("change log purge", async move {
                        if let Err(e) = changes::purge_old(&db).await {
                            tracing::warn!(error = %e, "could not purge the change log");
                        }
                    });
                }
                if reconciled_at.elapsed() >= RECONCILE_EVERY {
                    reconciled_at = Instant::now();
                    let replica = replica.clone();
                    jobs.spawn("reconciliation", async move { replica.reconcile().await });
                }
            }
        });
    }

    /// Notes a user deleted here or reported deleted: the reconciliation must not put them
    /// back from a read that began before the deletion.
    pub(crate) fn note_removed(&self, user_id: ObjectId) {
        let mut removed = crate::expiring::lock(&self.removed);
        removed.retain(|_, at| at.elapsed() < 2 * RECONCILE_EVERY);
        removed.insert(user_id, Instant::now());
    }

    /// Undoes [`Self::note_removed`] (a deletion that failed midway).
    pub(crate) fn unnote_removed(&self, user_id: &ObjectId) {
        crate::expiring::lock(&self.removed).remove(user_id);
    }

    /// Whether `user_id` was deleted lately.
    pub fn was_removed(&self, user_id: &ObjectId) -> bool {
        crate::expiring::lock(&self.removed).contains_key(user_id)
    }

    /// On a replica set, a change stream on the log wakes the follower at once. Standalone
    /// servers and FerretDB refuse to open one: polling alone then.
    async fn listen_for_changes(&self, background: &Background) {
        match self.db.changes().watch().await {
            Ok(mut stream) => {
                tracing::info!("following other instances through a change stream");
                let wake = self.wake.clone();
                background.spawn("change stream", async move {
                    while let Some(event) = stream.next().await {
                        if let Err(e) = event {
                            tracing::warn!(error = %e, "the change stream ended; polling alone");
                            return;
                        }
                        wake.notify_one();
                    }
                });
            }
            Err(e) => tracing::info!(
                reason = %e.kind,
                every_ms = POLL_EVERY.as_millis() as u64,
                "no change streams on this database; following other instances by polling"
            ),
        }
    }
}

impl Follower {
    /// The entries to apply now, in number order, moving `next` past them: stops at a missing
    /// number until it has been missing for [`GAP_PATIENCE`], then skips it.
    fn in_order(&mut self, entries: Vec<ChangeDoc>, now: Instant) -> Vec<ChangeDoc> {
        let mut ready = Vec::new();
        for entry in entries {
            if entry.seq < self.next {
                continue;
            }
            if entry.seq > self.next {
                let since = *self.gap_since.get_or_insert(now);
                if now.duration_since(since) < GAP_PATIENCE {
                    break;
                }
                tracing::warn!(
                    missing_from = self.next,
                    missing_to = entry.seq - 1,
                    "skipped change numbers that never appeared in the log"
                );
            }
            self.gap_since = None;
            self.next = entry.seq + 1;
            ready.push(entry);
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::DateTime;

    fn entry(seq: i64) -> ChangeDoc {
        ChangeDoc {
            seq,
            at: DateTime::now(),
            origin: "other".into(),
            change: Change::SessionEnded {
                token_hash: format!("t{seq}"),
            },
        }
    }

    fn follower(next: i64) -> Follower {
        Follower {
            next,
            gap_since: None,
            last_read: None,
            failing: false,
        }
    }

    fn seqs(entries: &[ChangeDoc]) -> Vec<i64> {
        entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn changes_apply_in_number_order_and_once() {
        let mut follower = follower(3);
        let now = Instant::now();
        assert_eq!(
            seqs(&follower.in_order(vec![entry(2), entry(3), entry(4)], now)),
            [3, 4]
        );
        assert_eq!(
            seqs(&follower.in_order(vec![entry(3), entry(4), entry(5)], now)),
            [5]
        );
        assert_eq!(follower.next, 6);
    }

    #[test]
    fn a_missing_number_holds_later_changes_back_then_is_skipped() {
        // 6 was taken by an instance that has not written it (yet): 7 (say, a logout) must not
        // be applied before it (say, the login).
        let mut follower = follower(6);
        let start = Instant::now();
        assert!(follower.in_order(vec![entry(7)], start).is_empty());
        assert!(
            follower
                .in_order(vec![entry(7)], start + GAP_PATIENCE / 2)
                .is_empty()
        );
        // It arrives: both, in order.
        assert_eq!(
            seqs(&follower.in_order(vec![entry(6), entry(7)], start + GAP_PATIENCE / 2)),
            [6, 7]
        );
        // 9 never comes: after the patience, 10 goes ahead.
        let later = start + GAP_PATIENCE;
        assert!(follower.in_order(vec![entry(8), entry(10)], later).len() == 1);
        assert_eq!(
            seqs(&follower.in_order(vec![entry(10)], later + GAP_PATIENCE)),
            [10]
        );
        assert_eq!(follower.next, 11);
    }
}
