//! What the provider keeps in the database, so that every instance sees it (docs/oidc.md,
//! "Several instances"): authorization codes, refresh tokens, redeemed tokens, revoked grants
//! and consents. Every read is by `_id`; single use rests on the unique `_id` of an insert into
//! `oidc_redeemed`, which only one of two racing redemptions can win, on any instance.

use mongodb::{
    Collection,
    bson::{DateTime, doc, oid::ObjectId},
};
use serde::{Deserialize, Serialize};

use crate::db::Db;

pub const CODES: &str = "oidc_codes";
pub const REFRESH: &str = "oidc_refresh_tokens";
pub const REDEEMED: &str = "oidc_redeemed";
pub const REVOKED: &str = "oidc_revoked_grants";
pub(crate) const CONSENTS: &str = "oidc_consents";

/// What a login gave a client, shared by an authorization code and every token issued for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Grant {
    /// Random; revoking it ends every token it issued.
    pub(crate) grant_id: String,
    pub(crate) client_id: String,
    pub(crate) user_id: ObjectId,
    pub(crate) scopes: Vec<String>,
    /// When the person's facegate login happened.
    pub(crate) auth_time: DateTime,
    pub(crate) amr: Vec<String>,
    pub(crate) acr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeDoc {
    /// SHA-256 of the code (hex).
    #[serde(rename = "_id")]
    pub(crate) hash: String,
    pub(crate) grant: Grant,
    pub(crate) redirect_uri: String,
    #[serde(default)]
    pub(crate) nonce: Option<String>,
    /// PKCE S256 challenge, when the client sent one.
    #[serde(default)]
    pub(crate) code_challenge: Option<String>,
    pub(crate) expires_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefreshDoc {
    #[serde(rename = "_id")]
    pub(crate) hash: String,
    pub(crate) grant: Grant,
    pub(crate) expires_at: DateTime,
}

/// A code or refresh token that has been used (by hash). Its insert is the redemption.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RedeemedDoc {
    #[serde(rename = "_id")]
    pub(crate) hash: String,
    pub(crate) grant_id: String,
    pub(crate) at: DateTime,
    /// When this record may be purged (after what it redeemed has expired anyway).
    pub(crate) expires_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevokedDoc {
    #[serde(rename = "_id")]
    pub(crate) grant_id: String,
    pub(crate) at: DateTime,
    pub(crate) reason: String,
    pub(crate) expires_at: DateTime,
}

/// A person's consent to a client for some scopes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConsentDoc {
    /// `<user id hex>/<client id>`.
    #[serde(rename = "_id")]
    pub(crate) id: String,
    pub(crate) user_id: ObjectId,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) granted_at: DateTime,
}

pub(crate) fn consent_id(user_id: &ObjectId, client_id: &str) -> String {
    format!("{}/{client_id}", user_id.to_hex())
}

impl Db {
    pub fn oidc_codes(&self) -> Collection<CodeDoc> {
        self.database().collection(CODES)
    }
    pub fn oidc_refresh_tokens(&self) -> Collection<RefreshDoc> {
        self.database().collection(REFRESH)
    }
    pub fn oidc_redeemed(&self) -> Collection<RedeemedDoc> {
        self.database().collection(REDEEMED)
    }
    pub fn oidc_revoked(&self) -> Collection<RevokedDoc> {
        self.database().collection(REVOKED)
    }
    pub fn oidc_consents(&self) -> Collection<ConsentDoc> {
        self.database().collection(CONSENTS)
    }
}

/// Marks a code or refresh token used. `Ok(false)`: it had been used already.
pub async fn redeem(
    db: &Db,
    hash: &str,
    grant_id: &str,
    keep_until: DateTime,
) -> mongodb::error::Result<bool> {
    let doc = RedeemedDoc {
        hash: hash.to_string(),
        grant_id: grant_id.to_string(),
        at: DateTime::now(),
        expires_at: keep_until,
    };
    match db.oidc_redeemed().insert_one(&doc).await {
        Ok(_) => Ok(true),
        Err(e) if crate::db::is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Ends every token of a grant (an insert; revoking twice is fine).
pub async fn revoke(
    db: &Db,
    grant_id: &str,
    reason: &str,
    keep_until: DateTime,
) -> mongodb::error::Result<()> {
    let doc = RevokedDoc {
        grant_id: grant_id.to_string(),
        at: DateTime::now(),
        reason: reason.to_string(),
        expires_at: keep_until,
    };
    match db.oidc_revoked().insert_one(&doc).await {
        Ok(_) => Ok(()),
        Err(e) if crate::db::is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn is_revoked(db: &Db, grant_id: &str) -> mongodb::error::Result<bool> {
    Ok(db
        .oidc_revoked()
        .find_one(doc! { "_id": grant_id })
        .await?
        .is_some())
}

pub(crate) async fn consent(
    db: &Db,
    user_id: &ObjectId,
    client_id: &str,
) -> mongodb::error::Result<Option<ConsentDoc>> {
    db.oidc_consents()
        .find_one(doc! { "_id": consent_id(user_id, client_id) })
        .await
}

/// Records (or widens) a consent.
pub(crate) async fn save_consent(
    db: &Db,
    user_id: ObjectId,
    client_id: &str,
    scopes: &[String],
) -> mongodb::error::Result<()> {
    let consent = ConsentDoc {
        id: consent_id(&user_id, client_id),
        user_id,
        client_id: client_id.to_string(),
        scopes: scopes.to_vec(),
        granted_at: DateTime::now(),
    };
    db.oidc_consents()
        .replace_one(doc! { "_id": &consent.id }, &consent)
        .upsert(true)
        .await?;
    Ok(())
}

/// Every consent of a person (the welcome page).
pub(crate) async fn consents_of(db: &Db, user_id: ObjectId) -> mongodb::error::Result<Vec<ConsentDoc>> {
    use futures::TryStreamExt;
    db.oidc_consents()
        .find(doc! { "user_id": user_id })
        .await?
        .try_collect()
        .await
}

pub(crate) async fn revoke_consent(
    db: &Db,
    user_id: &ObjectId,
    client_id: &str,
) -> mongodb::error::Result<bool> {
    let deleted = db
        .oidc_consents()
        .delete_one(doc! { "_id": consent_id(user_id, client_id) })
        .await?;
    Ok(deleted.deleted_count > 0)
}

/// Deletes expired codes, refresh tokens and the redemption and revocation records that outlived
/// them (background housekeeping).
pub async fn purge_expired(db: &Db) -> mongodb::error::Result<u64> {
    let now = DateTime::now();
    let past = doc! { "expires_at": { "$lt": now } };
    let mut deleted = db.oidc_codes().delete_many(past.clone()).await?.deleted_count;
    deleted += db
        .oidc_refresh_tokens()
        .delete_many(past.clone())
        .await?
        .deleted_count;
    deleted += db.oidc_redeemed().delete_many(past.clone()).await?.deleted_count;
    deleted += db.oidc_revoked().delete_many(past).await?.deleted_count;
    Ok(deleted)
}

/// Purges now and then, until shutdown.
pub fn spawn_housekeeping(background: &crate::background::Background, db: Db) {
    background.every(
        "OpenID Connect purge",
        std::time::Duration::from_secs(300),
        move || {
            let db = db.clone();
            async move {
                match purge_expired(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(records = n, "purged expired OpenID Connect records"),
                    Err(e) => tracing::warn!(error = %e, "could not purge expired OpenID Connect records"),
                }
            }
        },
    );
}

/// A revoked grant's record must outlive its longest token; a refresh chain's lifetime bounds it.
pub fn after(duration: std::time::Duration) -> DateTime {
    DateTime::from_millis(
        DateTime::now()
            .timestamp_millis()
            .saturating_add(duration.as_millis() as i64),
    )
}
