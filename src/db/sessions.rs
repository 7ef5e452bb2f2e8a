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

/// Expired sessions are refused at lookup whatever happens here. A TTL index also deletes them
/// (MongoDB); where the server has none (FerretDB v1), a plain index serves [`purge_expired`].
/// Returns whether the TTL index exists.
pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<bool> {
    let index = |field: &str, name: &str, ttl: Option<std::time::Duration>| {
        IndexModel::builder()
            .keys(doc! { field: 1 })
            .options(
                IndexOptions::builder()
                    .name(name.to_string())
                    .expire_after(ttl)
                    .build(),
            )
            .build()
    };
    db.sessions()
        .create_index(index("user_id", "user_id", None))
        .await?;
    let ttl = index("expires_at", "expires_at_ttl", Some(std::time::Duration::ZERO));
    match db.sessions().create_index(ttl).await {
        Ok(_) => Ok(true),
        Err(e) => {
            tracing::info!(
                reason = %e.kind,
                "the database has no TTL indexes; expired sessions are purged at login instead"
            );
            db.sessions()
                .create_index(index("expires_at", "expires_at", None))
                .await?;
            Ok(false)
        }
    }
}

/// Deletes expired sessions; used where the database cannot do it with a TTL index.
pub async fn purge_expired(db: &Db) -> mongodb::error::Result<u64> {
    let result = db
        .sessions()
        .delete_many(doc! { "expires_at": { "$lt": DateTime::now() } })
        .await?;
    Ok(result.deleted_count)
}
