//! The `users` collection.
//!
//! Uniqueness of email and username is decided by unique indexes on normalised copies
//! (`email_key`, `username_key`), never by a read-then-write check, so racing registrations
//! cannot both win.

use mongodb::{
    Collection, IndexModel,
    bson::{DateTime, doc, oid::ObjectId},
    options::IndexOptions,
};
use serde::{Deserialize, Serialize};

use super::Db;
use crate::at_rest::{SealedPin, StoredTemplates};

pub(crate) const COLLECTION: &str = "users";

/// A stored user. No picture is ever stored: only the face encodings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// As entered.
    pub email: String,
    /// Trimmed and lower-cased: the unique key.
    pub email_key: String,
    /// As entered.
    pub username: String,
    /// Case-folded: the unique key, so "Ada" and "ada" are one name.
    pub username_key: String,
    /// The enrolled encodings, encrypted (`crate::at_rest`; docs/security.md). Older versions
    /// stored them plain in `face_encodings`; `facegate keys migrate-plain` seals those records.
    pub face_templates: StoredTemplates,
    pub created_at: DateTime,
    /// Written by versions before logins were kept in memory; the latest login now comes from
    /// the account history (`accounts::ssr::audit::latest_logins`) and lives in the gallery.
    #[serde(default)]
    pub last_login_at: Option<DateTime>,
    /// The second factor: the PIN's Argon2id PHC string sealed with the template key and bound to
    /// this user (`crate::at_rest::pin`; docs/security.md, "The PIN at rest"). `None` for
    /// accounts registered before PINs existed, and for plain records not yet migrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_sealed: Option<SealedPin>,
    /// Older versions stored the PHC string here, unsealed. It is never trusted: such an account
    /// cannot confirm a login with its PIN until `facegate keys migrate-plain` seals it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_hash: Option<String>,
}

pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl Db {
    pub fn users(&self) -> Collection<UserDoc> {
        self.database().collection(COLLECTION)
    }
}

pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<()> {
    let unique = |field: &str| {
        IndexModel::builder()
            .keys(doc! { field: 1 })
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .name(format!("{field}_unique"))
                    .build(),
            )
            .build()
    };
    super::create_missing_indexes(&db.users(), vec![unique("email_key"), unique("username_key")]).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::at_rest::{binary_to_encoding, encoding_to_binary};

    #[test]
    fn encodings_round_trip_exactly() {
        let encoding: Vec<f32> = (0..128).map(|i| (i as f32 - 64.0) / 321.0).collect();
        let binary = encoding_to_binary(&encoding);
        assert_eq!(binary.bytes.len(), 512);
        assert_eq!(binary_to_encoding(&binary).expect("whole f32s"), encoding);
    }

    #[test]
    fn keys_fold_case_and_spaces() {
        assert_eq!(email_key("  Ada@Example.ORG "), "ada@example.org");
        assert_eq!(username_key("Ada.Lovelace"), "ada.lovelace");
    }
}
