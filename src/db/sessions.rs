//! The `sessions` collection: server-side sessions, so they survive a restart and can be revoked.
//! Only a SHA-256 of each token is stored; the token itself lives in the browser's cookie.

use mongodb::{
    Collection, IndexModel,
    bson::{DateTime, doc, oid::ObjectId},
    options::IndexOptions,
};
use serde::{Deserialize, Serialize};

use super::Db;

pub const COLLECTION: &str = "sessions";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionDoc {
    /// Hex SHA-256 of the session token.
    #[serde(rename = "_id")]
    pub token_hash: String,
    pub user_id: ObjectId,
    pub created_at: DateTime,
    pub expires_at: DateTime,
    /// The user's login before this one, shown on the welcome page.
    #[serde(default)]
    pub previous_login_at: Option<DateTime>,
}

impl Db {
    pub fn sessions(&self) -> Collection<SessionDoc> {
        self.database().collection(COLLECTION)
    }
}

/// Expired sessions are refused at lookup; the TTL index only keeps the collection small.
pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<()> {
    let by_user = IndexModel::builder()
        .keys(doc! { "user_id": 1 })
        .options(IndexOptions::builder().name("user_id".to_string()).build())
        .build();
    db.sessions().create_index(by_user).await?;
    let ttl = IndexModel::builder()
        .keys(doc! { "expires_at": 1 })
        .options(
            IndexOptions::builder()
                .name("expires_at_ttl".to_string())
                .expire_after(std::time::Duration::ZERO)
                .build(),
        )
        .build();
    if let Err(e) = db.sessions().create_index(ttl).await {
        // Not every MongoDB-compatible server has TTL indexes; correctness does not depend on it.
        tracing::warn!(error = %e, "no TTL index on sessions; expired sessions are only refused, not purged");
    }
    Ok(())
}
