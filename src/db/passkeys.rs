//! The `passkeys` collection: the WebAuthn credentials a person added to their account (public
//! keys and signature counters; no secret is stored).

use mongodb::{
    Collection,
    bson::{DateTime, oid::ObjectId},
};
use serde::{Deserialize, Serialize};

use super::Db;

pub(crate) const COLLECTION: &str = "passkeys";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct PasskeyDoc {
    #[serde(rename = "_id")]
    pub(crate) id: ObjectId,
    pub(crate) user_id: ObjectId,
    /// webauthn-rs' `Passkey` as JSON: its byte fields then round-trip exactly, whatever the
    /// database's BSON conventions.
    pub(crate) credential: String,
    /// The owner's name for it (passkeys added before names existed have none).
    #[serde(default)]
    pub(crate) name: String,
    pub(crate) created_at: DateTime,
    #[serde(default)]
    pub(crate) last_used_at: Option<DateTime>,
}

impl Db {
    pub(crate) fn passkeys(&self) -> Collection<PasskeyDoc> {
        self.database().collection(COLLECTION)
    }
}

pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<()> {
    super::create_missing_indexes(&db.passkeys(), vec![super::plain_index("user_id", None)]).await
}
