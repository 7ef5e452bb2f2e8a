//! The `pin_locks` collection: consecutive wrong PINs per account, so a lock survives a restart
//! and holds on every instance. Only accounts with failures since their last good PIN have a
//! document (a good PIN deletes it), so the collection stays small however many users there
//! are, and reading it stays cheap even where the database scans.

use mongodb::{
    Collection,
    bson::{DateTime, doc, oid::ObjectId},
    options::ReturnDocument,
};
use serde::{Deserialize, Serialize};

use super::Db;

pub const COLLECTION: &str = "pin_locks";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PinLockDoc {
    #[serde(rename = "_id")]
    pub user_id: ObjectId,
    /// Wrong PINs in a row.
    pub failures: u32,
    pub last_failure_at: DateTime,
}

impl Db {
    pub fn pin_locks(&self) -> Collection<PinLockDoc> {
        self.database().collection(COLLECTION)
    }

    pub async fn pin_lock(&self, user_id: ObjectId) -> mongodb::error::Result<Option<PinLockDoc>> {
        self.pin_locks().find_one(doc! { "_id": user_id }).await
    }

    /// Counts one more wrong PIN, atomically (two instances failing at once both count).
    pub async fn record_pin_failure(&self, user_id: ObjectId) -> mongodb::error::Result<Option<PinLockDoc>> {
        self.pin_locks()
            .find_one_and_update(
                doc! { "_id": user_id },
                doc! { "$inc": { "failures": 1 }, "$set": { "last_failure_at": DateTime::now() } },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
    }

    pub async fn clear_pin_failures(&self, user_id: ObjectId) -> mongodb::error::Result<()> {
        self.pin_locks()
            .delete_one(doc! { "_id": user_id })
            .await
            .map(|_| ())
    }
}
