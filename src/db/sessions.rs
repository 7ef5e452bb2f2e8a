//! The `sessions` collection: server-side sessions, so they survive a restart and can be revoked.
//! Only a SHA-256 of each token is stored; the token itself lives in the browser's cookie.

use mongodb::{
    Collection,
    bson::{DateTime, doc, oid::ObjectId},
};
use serde::{Deserialize, Serialize};

use super::Db;

pub(crate) const COLLECTION: &str = "sessions";
/// Sessions ended by a logout or a new login in the same browser, by token hash. Ending a
/// session is then an insert here; deleting its row (a scan of `sessions` on FerretDB) waits for
/// the background purge. Every read of `sessions` leaves these out.
pub(crate) const ENDED: &str = "ended_sessions";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct EndedDoc {
    #[serde(rename = "_id")]
    pub token_hash: String,
    pub(crate) ended_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionDoc {
    /// Hex SHA-256 of the session token.
    #[serde(rename = "_id")]
    pub token_hash: String,
    pub user_id: ObjectId,
    /// When the face (and second factor) check that opened it passed.
    pub created_at: DateTime,
    /// The absolute end of the session, however active (also what the TTL index expires on).
    pub expires_at: DateTime,
    /// The last request seen, at a granularity of a minute: the idle timeout counts from here.
    #[serde(default)]
    pub last_seen_at: Option<DateTime>,
    /// The user's login before this one, shown on the welcome page.
    #[serde(default)]
    pub previous_login_at: Option<DateTime>,
    /// How the login was made (RFC 8176 values): `face`, then `pin`, or `hwk` (+ `user` when the
    /// passkey verified its user). Empty for sessions from before it was recorded.
    #[serde(default)]
    pub amr: Vec<String>,
}

impl SessionDoc {
    /// The login passed a second factor (PIN or passkey) after the face, not the face alone
    /// (`second-factor = off` or `ambiguous`, an account without a PIN). Adding a passkey needs
    /// it. Read from `amr`: one record of how the login was made, not two that could disagree.
    pub fn second_factor(&self) -> bool {
        self.amr.iter().any(|m| m == "pin" || m == "hwk")
    }
}

impl Db {
    pub fn sessions(&self) -> Collection<SessionDoc> {
        self.database().collection(COLLECTION)
    }

    pub(crate) fn ended_sessions(&self) -> Collection<EndedDoc> {
        self.database().collection(ENDED)
    }
}

/// Records that a session has ended (an insert; ending it twice is fine).
pub(crate) async fn mark_ended(db: &Db, token_hash: &str) -> mongodb::error::Result<()> {
    let ended = EndedDoc {
        token_hash: token_hash.to_string(),
        ended_at: DateTime::now(),
    };
    match db.ended_sessions().insert_one(&ended).await {
        Ok(_) => Ok(()),
        Err(e) if super::is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The token hashes of every ended session not yet purged.
pub async fn ended(db: &Db) -> mongodb::error::Result<std::collections::HashSet<String>> {
    use futures::TryStreamExt;
    let ended: Vec<EndedDoc> = db.ended_sessions().find(doc! {}).await?.try_collect().await?;
    Ok(ended.into_iter().map(|e| e.token_hash).collect())
}

/// Deletes the rows of ended sessions, then their marks (background housekeeping).
pub async fn purge_ended(db: &Db) -> mongodb::error::Result<u64> {
    let hashes: Vec<String> = ended(db).await?.into_iter().collect();
    if hashes.is_empty() {
        return Ok(0);
    }
    let deleted = db
        .sessions()
        .delete_many(doc! { "_id": { "$in": &hashes } })
        .await?;
    db.ended_sessions()
        .delete_many(doc! { "_id": { "$in": &hashes } })
        .await?;
    Ok(deleted.deleted_count)
}

/// Expired sessions are refused at lookup whatever happens here. A TTL index also deletes them
/// (MongoDB); where the server has none (FerretDB v1), a plain index serves the background purge.
/// Idle sessions are purged in the background on both.
pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<()> {
    let sessions = db.sessions();
    super::create_missing_indexes(&sessions, vec![super::plain_index("user_id", None)]).await?;
    let existing = sessions.list_index_names().await.unwrap_or_default();
    if existing
        .iter()
        .any(|name| name == "expires_at_ttl" || name == "expires_at")
    {
        return Ok(());
    }
    let ttl = super::plain_index("expires_at", Some(std::time::Duration::ZERO));
    match sessions.create_index(ttl).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::info!(
                reason = %e.kind,
                "the database has no TTL indexes; expired sessions are purged in the background"
            );
            db.sessions()
                .create_index(super::plain_index("expires_at", None))
                .await?;
            Ok(())
        }
    }
}

/// Deletes sessions past their absolute end or idle since before `idle_since`.
pub async fn purge_expired(db: &Db, idle_since: DateTime) -> mongodb::error::Result<u64> {
    let result = db
        .sessions()
        .delete_many(doc! { "$or": [
            { "expires_at": { "$lt": DateTime::now() } },
            { "last_seen_at": { "$lt": idle_since } },
        ] })
        .await?;
    Ok(result.deleted_count)
}

/// Every session not yet past its end or idle timeout, nor ended (start-up: one read of each
/// collection). A session ended by a logout keeps its row until the next purge: the
/// `ended_sessions` mark is what keeps it ended across a restart.
pub async fn all_live(db: &Db, idle: std::time::Duration) -> mongodb::error::Result<Vec<SessionDoc>> {
    use futures::TryStreamExt;
    let ended = ended(db).await?;
    let now = DateTime::now();
    let idle_since = DateTime::from_millis(now.timestamp_millis() - idle.as_millis() as i64);
    let sessions: Vec<SessionDoc> = db
        .sessions()
        .find(doc! { "expires_at": { "$gt": now } })
        .await?
        .try_collect()
        .await?;
    Ok(sessions
        .into_iter()
        .filter(|s| s.last_seen_at.unwrap_or(s.created_at) >= idle_since)
        .filter(|s| !ended.contains(&s.token_hash))
        .collect())
}
