//! The replay memory in the database (`live_replays`), so that every instance and a restarted
//! one refuse frames that already passed a check. One document per passed check: the prints of
//! its decoded frames and when they may be forgotten.
//!
//! Nothing on a request reads the collection: lookups read the in-memory set
//! ([`ReplayMemory`]). That set is filled at start-up with every unexpired print,
//! and a background follower reads what was added since its last read (every [`POLL_EVERY`],
//! re-reading an [`OVERLAP`] so that a slow insert is not missed) — another instance's accepted
//! frames are refused here within about [`POLL_EVERY`]. The follower also deletes expired
//! documents ([`PURGE_EVERY`]): FerretDB v1 has no TTL indexes, and its deletes scan.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::{
    Collection,
    bson::{Binary, DateTime, Document, doc, oid::ObjectId, spec::BinarySubtype},
};
use serde::{Deserialize, Serialize};

use crate::background::Background;
use crate::db::{Db, create_missing_indexes, plain_index};
use crate::expiring::lock;

pub const COLLECTION: &str = "live_replays";
/// How often the follower reads what other instances added: the staleness bound.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// How far back each read looks before the previous one (clock differences between instances,
/// inserts that took long to land).
pub const OVERLAP: Duration = Duration::from_secs(30);
/// How often expired documents are deleted.
pub const PURGE_EVERY: Duration = Duration::from_secs(300);
/// Fingerprints kept at most (32 bytes each: 64 MB at most).
const REPLAY_CAPACITY: usize = 2_000_000;

/// A frame's fingerprint: SHA-256 of its decoded pixels ([`crate::face::PixelPrint`]).
pub type FrameFingerprint = crate::face::PixelPrint;

#[derive(Default)]
pub(super) struct ReplayMemory {
    seen: HashSet<FrameFingerprint>,
    /// When each print may be forgotten, oldest first.
    order: VecDeque<(Instant, FrameFingerprint)>,
}

impl ReplayMemory {
    pub(super) fn contains(&self, print: &FrameFingerprint) -> bool {
        self.seen.contains(print)
    }

    fn forget_old(&mut self, now: Instant) {
        while let Some((until, print)) = self.order.front() {
            if *until > now && self.order.len() <= REPLAY_CAPACITY {
                break;
            }
            self.seen.remove(print);
            self.order.pop_front();
        }
    }

    /// Remembers prints until `until`; true for each one that was new.
    pub(super) fn remember(&mut self, prints: &[FrameFingerprint], until: Instant) {
        for print in prints {
            if self.seen.insert(*print) {
                self.order.push_back((until, *print));
            }
        }
        self.forget_old(Instant::now());
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReplayDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    prints: Vec<Binary>,
    created_at: DateTime,
    expires_at: DateTime,
}

/// Writes passed frames; cheap to clone.
#[derive(Clone)]
pub struct ReplayLog {
    collection: Collection<ReplayDoc>,
    /// Runs the inserts a check's answer does not wait for (shutdown does).
    background: Background,
}

impl ReplayLog {
    /// Loads every unexpired print into `memory` and starts the follower.
    pub(super) async fn start(
        db: Db,
        memory: Arc<Mutex<ReplayMemory>>,
        background: &Background,
    ) -> mongodb::error::Result<Self> {
        let collection: Collection<ReplayDoc> = db.database().collection(COLLECTION);
        create_missing_indexes(
            &collection,
            vec![plain_index("created_at", None), plain_index("expires_at", None)],
        )
        .await?;
        let loaded = read_into(
            &collection,
            doc! { "expires_at": { "$gt": DateTime::now() } },
            &memory,
        )
        .await?;
        tracing::info!(prints = loaded, "replay memory loaded");
        let follower = collection.clone();
        background.spawn("replay memory follower", follow(follower, memory));
        Ok(Self {
            collection,
            background: background.clone(),
        })
    }

    /// Inserts one passed check's prints, in the background (the check's answer does not wait;
    /// this instance already remembers them).
    pub(super) fn write(&self, prints: Vec<FrameFingerprint>, keep: Duration) {
        let now = DateTime::now();
        let entry = ReplayDoc {
            id: ObjectId::new(),
            prints: prints
                .into_iter()
                .map(|p| Binary {
                    subtype: BinarySubtype::Generic,
                    bytes: p.to_vec(),
                })
                .collect(),
            created_at: now,
            expires_at: DateTime::from_millis(now.timestamp_millis() + keep.as_millis() as i64),
        };
        let collection = self.collection.clone();
        self.background.finish(async move {
            if let Err(error) = collection.insert_one(&entry).await {
                tracing::warn!(%error, "could not store a passed check's frame prints: other instances will not refuse their replay");
            }
        });
    }
}

async fn follow(collection: Collection<ReplayDoc>, memory: Arc<Mutex<ReplayMemory>>) {
    let mut last_read = DateTime::now();
    let mut last_purge = Instant::now();
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let started = DateTime::now();
        let since = DateTime::from_millis(last_read.timestamp_millis() - OVERLAP.as_millis() as i64);
        match read_into(&collection, doc! { "created_at": { "$gte": since } }, &memory).await {
            Ok(_) => last_read = started,
            Err(error) => tracing::warn!(%error, "could not read the shared replay memory; retrying"),
        }
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = Instant::now();
            match collection
                .delete_many(doc! { "expires_at": { "$lt": DateTime::now() } })
                .await
            {
                Ok(result) if result.deleted_count > 0 => {
                    tracing::info!(checks = result.deleted_count, "purged expired replay prints");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not purge expired replay prints"),
            }
        }
    }
}

/// Reads the matching documents into memory; the number of prints read.
async fn read_into(
    collection: &Collection<ReplayDoc>,
    filter: Document,
    memory: &Mutex<ReplayMemory>,
) -> mongodb::error::Result<usize> {
    let docs: Vec<ReplayDoc> = collection.find(filter).await?.try_collect().await?;
    let now_ms = DateTime::now().timestamp_millis();
    let mut count = 0;
    let mut memory = lock(memory);
    for entry in docs {
        let left = entry.expires_at.timestamp_millis() - now_ms;
        if left <= 0 {
            continue;
        }
        let prints: Vec<FrameFingerprint> = entry
            .prints
            .iter()
            .filter_map(|b| b.bytes.as_slice().try_into().ok())
            .collect();
        count += prints.len();
        memory.remember(&prints, Instant::now() + Duration::from_millis(left as u64));
    }
    Ok(count)
}
