//! The templates in the users collection: migrating plain records written by older versions, and
//! re-sealing records under another key (rotation).

use futures::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc, oid::ObjectId};

use super::{StoredTemplates, TemplateCipher, TemplateError, TemplateKey, seal_with};
use crate::{
    db::{Db, users::binary_to_encoding},
    face::Encoding,
};

/// The field older versions stored plain encodings in (one 512-byte binary per encoding).
pub const PLAIN_FIELD: &str = "face_encodings";
/// The field the encrypted templates live in.
pub const FIELD: &str = "face_templates";

/// Encrypts every plain-form record (`face_encodings`) with the active key and removes the plain
/// field, in one update per user. Returns how many users were migrated. Safe to repeat: a record
/// is only rewritten while it still has its plain field.
pub async fn migrate_plain(db: &Db, cipher: &TemplateCipher) -> Result<usize, StoreError> {
    let users = db.users().clone_with_type::<Document>();
    let mut plain = users
        .find(doc! { PLAIN_FIELD: { "$exists": true } })
        .projection(doc! { "_id": 1, PLAIN_FIELD: 1 })
        .await?;
    let mut migrated = 0;
    while let Some(user) = plain.try_next().await? {
        let Ok(id) = user.get_object_id("_id") else {
            continue;
        };
        let encodings: Vec<Encoding> = user
            .get_array(PLAIN_FIELD)
            .map(|list| {
                list.iter()
                    .filter_map(|value| match value {
                        Bson::Binary(binary) => binary_to_encoding(binary),
                        _ => None,
                    })
                    .filter_map(|values| Encoding::from_slice(&values))
                    .collect()
            })
            .unwrap_or_default();
        let sealed = cipher
            .seal(&id, &encodings)
            .map_err(|cause| StoreError::Template { user: id, cause })?;
        let result = users
            .update_one(
                doc! { "_id": id, PLAIN_FIELD: { "$exists": true } },
                doc! { "$set": { FIELD: to_bson(&sealed)? }, "$unset": { PLAIN_FIELD: "" } },
            )
            .await?;
        migrated += result.modified_count as usize;
    }
    Ok(migrated)
}

/// A user's stored templates as read from the database.
pub struct StoredUser {
    pub id: ObjectId,
    /// `None` when the document has no (readable) `face_templates` field.
    pub templates: Option<StoredTemplates>,
    /// The other fields asked for (those the user has).
    pub also: Document,
}

/// Every user's id and templates, plus the fields named in `also`, read in one pass.
pub async fn all(db: &Db, also: &[&str]) -> mongodb::error::Result<Vec<StoredUser>> {
    matching(db, doc! {}, also).await
}

/// [`all`] for the users that `filter` selects.
pub async fn matching(db: &Db, filter: Document, also: &[&str]) -> mongodb::error::Result<Vec<StoredUser>> {
    let mut projection = doc! { "_id": 1, FIELD: 1 };
    for field in also {
        projection.insert(*field, 1);
    }
    let mut cursor = db
        .users()
        .clone_with_type::<Document>()
        .find(filter)
        .projection(projection)
        .await?;
    let mut users = Vec::new();
    while let Some(user) = cursor.try_next().await? {
        let Ok(id) = user.get_object_id("_id") else {
            continue;
        };
        let templates = user
            .get_document(FIELD)
            .ok()
            .and_then(|t| bson::from_document(t.clone()).ok());
        let also = also
            .iter()
            .filter_map(|field| Some((field.to_string(), user.get(*field)?.clone())))
            .collect();
        users.push(StoredUser { id, templates, also });
    }
    Ok(users)
}

/// How one re-sealing pass went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResealPass {
    /// Records now sealed with the new key.
    pub resealed: usize,
    /// Records that changed (or went away) between the read and the write; the next pass
    /// looks at them again.
    pub raced: usize,
}

/// Re-seals with `key` every record not yet sealed with it, opening each with `cipher`'s keys.
/// Each write is conditional on the record still holding what was read (key id and nonce), so a
/// registration or deletion meanwhile is never overwritten with stale templates.
pub async fn reseal_pass(
    db: &Db,
    cipher: &TemplateCipher,
    key: &TemplateKey,
) -> Result<ResealPass, StoreError> {
    let users = db.users().clone_with_type::<Document>();
    let mut pass = ResealPass::default();
    for user in all(db, &[]).await? {
        let Some(old) = user.templates else {
            continue;
        };
        if old.key_id == key.id() {
            continue;
        }
        let encodings = cipher
            .open(&user.id, &old)
            .map_err(|cause| StoreError::Template { user: user.id, cause })?;
        let new = seal_with(key, &user.id, &encodings)
            .map_err(|cause| StoreError::Template { user: user.id, cause })?;
        let result = users
            .update_one(
                doc! {
                    "_id": user.id,
                    format!("{FIELD}.key_id"): &old.key_id,
                    format!("{FIELD}.nonce"): Bson::Binary(old.nonce.clone()),
                },
                doc! { "$set": { FIELD: to_bson(&new)? } },
            )
            .await?;
        if result.modified_count == 1 {
            pass.resealed += 1;
        } else {
            pass.raced += 1;
        }
    }
    Ok(pass)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] mongodb::error::Error),
    #[error("the face templates of user {user}: {cause}")]
    Template { user: ObjectId, cause: TemplateError },
    #[error("cannot encode templates as BSON: {0}")]
    Encode(#[from] bson::ser::Error),
}

fn to_bson(templates: &StoredTemplates) -> Result<Bson, StoreError> {
    Ok(bson::to_bson(templates)?)
}
