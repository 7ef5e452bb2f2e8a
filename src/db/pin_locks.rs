//! The `pin_locks` collection: wrong PINs counted in the database, so a lock survives a restart
//! and holds on every instance. Two kinds of document (docs/security.md, "The lock"):
//!
//! - per **client** (`_id` = `<subject>@<client>`): wrong PINs in a row from one client address
//!   (IPv6 by /64) for one account, the lock they earned, and the lease of a check in progress;
//! - per **subject** (`_id` = `<subject>`): wrong PINs from all clients together in the current
//!   day window.
//!
//! The subject is the ticket's accounts (one id, or two joined by `+` for an ambiguous face), so
//! guesses on an ambiguous ticket never count against either account alone. Every step is one
//! conditional update: two instances cannot both pass a check. Only subjects with failures have
//! documents, so the collection stays small however many users there are, and FerretDB's scan
//! per query stays cheap.

use mongodb::{
    Collection,
    bson::{DateTime, doc, oid::ObjectId},
    options::ReturnDocument,
};
use serde::{Deserialize, Serialize};

use super::{Db, is_duplicate_key};

pub(crate) const COLLECTION: &str = "pin_locks";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PinLockDoc {
    #[serde(rename = "_id")]
    pub key: String,
    /// The accounts of the subject (for export and deletion).
    pub(crate) user_ids: Vec<ObjectId>,
    /// Per client: wrong PINs in a row (the check in progress included). Per subject: wrong PINs
    /// in the current window.
    pub failures: u32,
    /// Per client: no PIN is checked before this time — a lock, or a check in progress.
    #[serde(default)]
    pub(crate) blocked_until: Option<DateTime>,
    /// Per client: the check in progress holding the document.
    #[serde(default)]
    pub(crate) lease: Option<String>,
    #[serde(default)]
    pub(crate) last_failure_at: Option<DateTime>,
    /// Per subject: when the current window began.
    #[serde(default)]
    pub(crate) window_start: Option<DateTime>,
}

/// What [`Db::reserve_pin_check`] found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reservation {
    /// The check may run; `failures` counts it already (as wrong until it proves right).
    Granted { failures: u32 },
    /// Another check of this client and subject is running (on some instance).
    Busy,
    /// The client is locked until then.
    Locked(DateTime),
}

fn at(from: DateTime, offset: std::time::Duration) -> DateTime {
    DateTime::from_millis(from.timestamp_millis() + offset.as_millis() as i64)
}

impl Db {
    pub fn pin_locks(&self) -> Collection<PinLockDoc> {
        self.database().collection(COLLECTION)
    }

    /// Takes the client's lease for one PIN check, if the client is neither locked nor checking:
    /// one conditional update (an upsert; a document that exists but does not qualify makes the
    /// insert collide on `_id`). The attempt is counted as wrong at once, so a crash mid-check
    /// never hands out a free guess.
    pub(crate) async fn reserve_pin_check(
        &self,
        key: &str,
        user_ids: &[ObjectId],
        lease: &str,
        hold: std::time::Duration,
    ) -> mongodb::error::Result<Reservation> {
        let now = DateTime::now();
        let taken = self
            .pin_locks()
            .find_one_and_update(
                doc! { "_id": key, "$or": [ { "blocked_until": { "$lte": now } }, { "blocked_until": null } ] },
                doc! {
                    "$inc": { "failures": 1 },
                    "$set": { "blocked_until": at(now, hold), "lease": lease, "user_ids": user_ids.to_vec() },
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await;
        match taken {
            Ok(Some(doc)) => Ok(Reservation::Granted {
                failures: doc.failures,
            }),
            Ok(None) => Ok(Reservation::Busy),
            Err(e) if is_duplicate_key(&e) => {
                let doc = self.pin_locks().find_one(doc! { "_id": key }).await?;
                Ok(match doc {
                    Some(PinLockDoc {
                        lease: None,
                        blocked_until: Some(until),
                        ..
                    }) => Reservation::Locked(until),
                    _ => Reservation::Busy,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Ends a check whose PIN was wrong: the client stays blocked for `lock` (if any).
    pub(crate) async fn release_wrong_pin(
        &self,
        key: &str,
        lease: &str,
        lock: Option<std::time::Duration>,
    ) -> mongodb::error::Result<()> {
        let now = DateTime::now();
        self.pin_locks()
            .update_one(
                doc! { "_id": key, "lease": lease },
                doc! {
                    "$set": { "blocked_until": at(now, lock.unwrap_or_default()), "last_failure_at": now },
                    "$unset": { "lease": "" },
                },
            )
            .await
            .map(|_| ())
    }

    /// Ends a check that was not a wrong PIN (refused before the PIN was tried, or a PIN two
    /// accounts share): the attempt is uncounted.
    pub(crate) async fn release_unchecked(&self, key: &str, lease: &str) -> mongodb::error::Result<()> {
        self.pin_locks()
            .update_one(
                doc! { "_id": key, "lease": lease },
                doc! {
                    "$inc": { "failures": -1 },
                    "$set": { "blocked_until": DateTime::now() },
                    "$unset": { "lease": "" },
                },
            )
            .await
            .map(|_| ())
    }

    /// A right PIN: the client's wrong PINs are forgotten.
    pub(crate) async fn release_right_pin(&self, key: &str, lease: &str) -> mongodb::error::Result<()> {
        self.pin_locks()
            .delete_one(doc! { "_id": key, "lease": lease })
            .await
            .map(|_| ())
    }

    /// Counts one guess against the subject's budget of `budget` per `window`; `None` when the
    /// budget is spent. Two conditional updates: start a new window if the old one has ended,
    /// then count if under the budget (an upsert colliding on `_id` when it is not).
    pub(crate) async fn count_daily_guess(
        &self,
        subject: &str,
        user_ids: &[ObjectId],
        window: std::time::Duration,
        budget: u32,
    ) -> mongodb::error::Result<Option<PinLockDoc>> {
        let now = DateTime::now();
        let ended = DateTime::from_millis(now.timestamp_millis() - window.as_millis() as i64);
        self.pin_locks()
            .update_one(
                doc! { "_id": subject, "window_start": { "$lte": ended } },
                doc! { "$set": { "failures": 0, "window_start": now } },
            )
            .await?;
        let counted = self
            .pin_locks()
            .find_one_and_update(
                doc! { "_id": subject, "failures": { "$lt": budget } },
                doc! {
                    "$inc": { "failures": 1 },
                    "$set": { "user_ids": user_ids.to_vec() },
                    "$setOnInsert": { "window_start": now },
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await;
        match counted {
            Err(e) if is_duplicate_key(&e) => Ok(None),
            other => other,
        }
    }

    /// Gives back a guess counted by [`Self::count_daily_guess`] that was not wrong.
    pub(crate) async fn uncount_daily_guess(&self, subject: &str) -> mongodb::error::Result<()> {
        self.pin_locks()
            .update_one(
                doc! { "_id": subject, "failures": { "$gt": 0 } },
                doc! { "$inc": { "failures": -1 } },
            )
            .await
            .map(|_| ())
    }

    /// The subject's day window document, if any.
    pub(crate) async fn daily_guesses(&self, subject: &str) -> mongodb::error::Result<Option<PinLockDoc>> {
        self.pin_locks().find_one(doc! { "_id": subject }).await
    }

    /// Every lock document naming `user_id` (export).
    pub async fn pin_locks_of(&self, user_id: ObjectId) -> mongodb::error::Result<Vec<PinLockDoc>> {
        use futures::TryStreamExt;
        self.pin_locks()
            .find(doc! { "user_ids": user_id })
            .await?
            .try_collect()
            .await
    }
}
