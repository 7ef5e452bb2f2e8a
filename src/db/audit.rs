//! The `audit` collection: what happened to an account — sign-ins, refused attempts, wrong PINs,
//! sign-outs — for its owner to see (the welcome page, the export). Entries are only ever
//! inserted; a background task deletes those older than the retention setting. Never an image
//! or an encoding.

use mongodb::{
    Collection, IndexModel,
    bson::{DateTime, doc, oid::ObjectId},
    options::IndexOptions,
};
use serde::{Deserialize, Serialize};

use super::Db;

pub(crate) const COLLECTION: &str = "audit";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditDoc {
    #[serde(rename = "_id")]
    pub(crate) id: ObjectId,
    pub(crate) user_id: ObjectId,
    pub(crate) at: DateTime,
    /// What happened: `signed_in`, `pin_refused`, `pin_locked`, `signed_out`, … (see
    /// `accounts::ssr::audit::Event`).
    pub event: String,
    /// Whether it let someone in (`true`) or was refused (`false`).
    pub(crate) success: bool,
    /// The refusal's error code, when refused.
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    pub(crate) client_address: Option<String>,
    #[serde(default)]
    pub(crate) user_agent: Option<String>,
}

impl Db {
    pub fn audit(&self) -> Collection<AuditDoc> {
        self.database().collection(COLLECTION)
    }
}

/// `(user_id, at)` answers "this account's latest entries" and the deletion; `at` the purge.
pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<()> {
    let by_user = IndexModel::builder()
        .keys(doc! { "user_id": 1, "at": -1 })
        .options(IndexOptions::builder().name("user_id_at".to_string()).build())
        .build();
    super::create_missing_indexes(&db.audit(), vec![by_user, super::plain_index("at", None)]).await
}

/// Deletes entries recorded before `before`.
pub async fn purge_before(db: &Db, before: DateTime) -> mongodb::error::Result<u64> {
    let result = db.audit().delete_many(doc! { "at": { "$lt": before } }).await?;
    Ok(result.deleted_count)
}
