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

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};
use tokio::sync::{Mutex, Notify};

use crate::{
    at_rest::stored,
    db::{
        Db,
        changes::{self, Change, ChangeDoc},
    },
    gallery::STORED_FIELDS,
    state::AppState,
};

/// How often the log is read. Another instance's registration reaches this one's gallery within
/// about this (plus the database's answer).
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// How long a missing change number is waited for before it is skipped: an instance can take a
/// number and then fail to append (crash, database gone). Later changes wait behind the gap so
/// that every instance applies changes in one order (a logout must never overtake its login).
const GAP_PATIENCE: Duration = Duration::from_secs(5);
/// How often memory is compared with the collections.
const RECONCILE_EVERY: Duration = Duration::from_secs(300);
/// How often expired sessions are forgotten and the log's old entries deleted.
const FORGET_EXPIRED_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ChangeFeed {
    db: Db,
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
    pub async fn open(db: Db) -> mongodb::error::Result<Self> {
        let last = changes::last_seq(&db).await?;
        Ok(Self {
            db,
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
    pub async fn publish(&self, change: Change) -> mongodb::error::Result<()> {
        let seq = changes::next_seq(&self.db).await?;
        changes::append(&self.db, seq, &self.origin, change).await
    }

    /// [`Self::publish`] without waiting; a failure is logged (the reconciliation mends it).
    pub fn publish_in_background(&self, change: Change) {
        let feed = self.clone();
        tokio::spawn(async move {
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
    pub async fn catch_up(&self, state: &AppState) {
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
                apply(state, entry).await;
            }
        }
    }

    /// Waits until the follower has read the log once from start to end after this call (the
    /// second read to finish: the first may have begun earlier), or `limit`. For a session
    /// cookie this instance does not know: if its login happened on another instance a moment
    /// ago, that read brings it. It costs the database nothing extra, so cookies made up by an
    /// outsider cannot be turned into database reads.
    pub async fn next_read(&self, limit: Duration) {
        let two_reads = async {
            for _ in 0..2 {
                self.read_done.notified().await;
            }
        };
        let _ = tokio::time::timeout(limit, two_reads).await;
    }

    /// Follows the log until the process ends; also forgets expired sessions and reconciles
    /// memory with the collections now and then.
    pub fn spawn_follower(&self, state: AppState) {
        let feed = self.clone();
        tokio::spawn(async move {
            feed.listen_for_changes().await;
            let mut polls = tokio::time::interval(POLL_EVERY);
            polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut forgot_at, mut reconciled_at) = (Instant::now(), Instant::now());
            loop {
                tokio::select! {
                    _ = polls.tick() => {}
                    _ = feed.wake.notified() => {}
                }
                feed.catch_up(&state).await;
                feed.read_done.notify_waiters();
                if forgot_at.elapsed() >= FORGET_EXPIRED_EVERY {
                    forgot_at = Instant::now();
                    forget_expired_sessions(&state);
                    let db = state.db.clone();
                    tokio::spawn(async move {
                        if let Err(e) = changes::purge_old(&db).await {
                            tracing::warn!(error = %e, "could not purge the change log");
                        }
                    });
                }
                if reconciled_at.elapsed() >= RECONCILE_EVERY {
                    reconciled_at = Instant::now();
                    let state = state.clone();
                    tokio::spawn(async move { reconcile(&state).await });
                }
            }
        });
    }

    /// On a replica set, a change stream on the log wakes the follower at once. Standalone
    /// servers and FerretDB refuse to open one: polling alone then.
    async fn listen_for_changes(&self) {
        match self.db.changes().watch().await {
            Ok(mut stream) => {
                tracing::info!("following other instances through a change stream");
                let wake = self.wake.clone();
                tokio::spawn(async move {
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

/// Applies another instance's change to this one's memory.
async fn apply(state: &AppState, entry: ChangeDoc) {
    match entry.change {
        // One read by id per registration, in the follower (off the request paths): the record
        // is opened and its binding checked exactly as at start-up.
        Change::Enrolled { user_id } => {
            if !state.gallery.contains(&user_id) {
                enrol_stored(state, user_id).await;
            }
        }
        Change::Removed { user_id } => forget_user(state, &user_id),
        Change::SessionOpened { session } => {
            state.gallery.record_login(&session.user_id, session.created_at);
            state.sessions.insert(session);
        }
        Change::SessionSeen { token_hash, at } => state.sessions.seen(&token_hash, at),
        Change::SessionEnded { token_hash } => {
            state.sessions.remove(&token_hash);
        }
        Change::SessionsEnded { user_id } => {
            state.sessions.remove_user(&user_id);
        }
        Change::PasskeyAdded { user_id } => state.passkeys.add_owner(user_id),
        Change::PasskeysGone { user_id } => state.passkeys.forget_owner(&user_id),
        Change::Redacted {} => {}
    }
}

/// Everything this instance holds in memory about a deleted account.
pub fn forget_user(state: &AppState, user_id: &ObjectId) {
    {
        let mut removed = crate::expiring::lock(&state.changes.removed);
        removed.retain(|_, at| at.elapsed() < 2 * RECONCILE_EVERY);
        removed.insert(*user_id, Instant::now());
    }
    state.gallery.remove(user_id);
    state.sessions.remove_user(user_id);
    state.passkeys.forget_owner(user_id);
}

/// Puts a user back from the database after [`forget_user`] (a deletion that failed midway).
pub async fn reload_user(state: &AppState, user_id: ObjectId) {
    crate::expiring::lock(&state.changes.removed).remove(&user_id);
    enrol_stored(state, user_id).await;
}

/// Enrols a user as stored in the database (nothing when the record is gone or does not open).
async fn enrol_stored(state: &AppState, user_id: ObjectId) {
    match stored::matching(&state.db, doc! { "_id": user_id }, &STORED_FIELDS).await {
        Ok(users) => {
            for user in users {
                if let Err(e) = state.gallery.add_stored(&state.templates, user) {
                    tracing::error!(%user_id, error = %e, "a user's face templates do not open for them with this instance's key file: not enrolled");
                }
            }
        }
        Err(e) => tracing::error!(%user_id, error = %e, "could not read a user into the gallery"),
    }
}

fn forget_expired_sessions(state: &AppState) {
    let now = DateTime::now();
    let idle = state.config.accounts.session_idle();
    let idle_since = DateTime::from_millis(now.timestamp_millis() - idle.as_millis() as i64);
    let forgotten = state.sessions.forget_expired(now, idle_since);
    if forgotten > 0 {
        tracing::debug!(sessions = forgotten, "forgot expired sessions");
    }
}

/// The safety net behind the feed: forgets sessions and users this instance holds but the
/// database no longer has, and enrols users it has but this instance missed (a change lost
/// to a crash between two writes). Reads ids first, records only for what differs; runs in the
/// background, so its full scans never delay a request.
pub async fn reconcile(state: &AppState) {
    let started = DateTime::now();
    let before_start = |id: &ObjectId| id.timestamp().timestamp_millis() < started.timestamp_millis();
    match stored_ids(&state.db, crate::db::sessions::COLLECTION).await {
        Ok(ids) => {
            let mut stored: HashSet<String> = ids
                .into_iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect();
            // Ended sessions keep their rows until the purge: they are not live.
            match crate::db::sessions::ended(&state.db).await {
                Ok(ended) => stored.retain(|hash| !ended.contains(hash)),
                Err(e) => tracing::warn!(error = %e, "could not read the ended sessions"),
            }
            let forgotten = state.sessions.keep_only_stored(&stored, started);
            if forgotten > 0 {
                tracing::warn!(sessions = forgotten, "forgot sessions the database no longer has");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not reconcile sessions with the database"),
    }
    let stored: HashSet<ObjectId> = match stored_ids(&state.db, crate::db::users::COLLECTION).await {
        Ok(ids) => ids.into_iter().filter_map(|id| id.as_object_id()).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not reconcile the gallery with the database");
            return;
        }
    };
    let held: HashSet<ObjectId> = state.gallery.ids().into_iter().collect();
    // A user enrolled after the read began is not in it yet: keep them.
    let gone: Vec<ObjectId> = held
        .iter()
        .filter(|id| !stored.contains(id) && before_start(id))
        .copied()
        .collect();
    for id in &gone {
        forget_user(state, id);
    }
    if !gone.is_empty() {
        tracing::warn!(users = gone.len(), "forgot users the database no longer has");
    }
    let missing: Vec<ObjectId> = stored.difference(&held).copied().collect();
    if missing.is_empty() {
        return;
    }
    let users = match stored::matching(&state.db, doc! { "_id": { "$in": &missing } }, &STORED_FIELDS).await {
        Ok(users) => users,
        Err(e) => {
            tracing::warn!(error = %e, "could not read users missing from the gallery");
            return;
        }
    };
    let mut added = 0;
    for user in users {
        if crate::expiring::lock(&state.changes.removed).contains_key(&user.id) {
            continue;
        }
        match state.gallery.add_stored(&state.templates, user) {
            Ok(true) => added += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "a user's face templates do not open with this instance's key file")
            }
        }
    }
    if added > 0 {
        tracing::warn!(
            users = added,
            "enrolled users whose registration had not reached this instance"
        );
    }
}

async fn stored_ids(db: &Db, collection: &str) -> mongodb::error::Result<Vec<mongodb::bson::Bson>> {
    let cursor = db
        .database()
        .collection::<Document>(collection)
        .find(doc! {})
        .projection(doc! { "_id": 1 })
        .await?;
    let docs: Vec<Document> = cursor.try_collect().await?;
    Ok(docs.into_iter().filter_map(|mut d| d.remove("_id")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
