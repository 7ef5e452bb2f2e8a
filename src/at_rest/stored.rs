//! The sealed records in the users collection (face templates, PIN hash): sealing plain records
//! written by older versions (on the operator's command only), and re-sealing records under
//! another key (rotation).

use futures::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc, oid::ObjectId};

use zeroize::Zeroizing;

use super::{
    SealedPin, StoredTemplates, TemplateCipher, TemplateError, TemplateKey, binary_to_encoding,
    pin::seal_pin_with, seal_with,
};
use crate::{db::Db, face::Encoding};

/// The field older versions stored plain encodings in (one 512-byte binary per encoding).
pub const PLAIN_FIELD: &str = "face_encodings";
/// The field the encrypted templates live in.
pub(crate) const FIELD: &str = "face_templates";

/// The field older versions stored the PIN's PHC string in, unsealed.
pub(crate) const PLAIN_PIN_FIELD: &str = "pin_hash";
/// The field the sealed PIN hash lives in.
pub(crate) const PIN_FIELD: &str = "pin_sealed";

fn plain_filter() -> Document {
    doc! { "$or": [ { PLAIN_FIELD: { "$exists": true } }, { PLAIN_PIN_FIELD: { "$exists": true } } ] }
}

/// Users with a plain field (face encodings or PIN hash): start-up reports them, never uses them.
pub async fn count_plain(db: &Db) -> mongodb::error::Result<u64> {
    db.users().count_documents(plain_filter()).await
}

/// What `facegate keys migrate-plain` did, user by user (so the operator sees whose record it
/// sealed: a plain record may have been planted).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// Users whose plain encodings were sealed: id and name.
    pub faces: Vec<(ObjectId, String)>,
    /// Users whose plain PIN hash was sealed.
    pub(crate) pins: Vec<(ObjectId, String)>,
    /// Plain fields removed without sealing: the user already had a sealed record, which wins.
    pub(crate) dropped: usize,
}

/// Seals every plain field (`face_encodings`, `pin_hash`) with the active key, bound to its user,
/// and removes it, one conditional update per user. A plain field beside a sealed one is removed
/// unsealed (the sealed record is the one that was written by facegate). Safe to repeat.
pub async fn migrate_plain(db: &Db, cipher: &TemplateCipher) -> Result<Migrated, StoreError> {
    let users = db.users().clone_with_type::<Document>();
    let mut plain = users
        .find(plain_filter())
        .projection(
            doc! { "_id": 1, "username": 1, PLAIN_FIELD: 1, FIELD: 1, PLAIN_PIN_FIELD: 1, PIN_FIELD: 1 },
        )
        .await?;
    let mut report = Migrated::default();
    while let Some(user) = plain.try_next().await? {
        let Ok(id) = user.get_object_id("_id") else {
            continue;
        };
        let name = user.get_str("username").unwrap_or_default().to_string();
        let (mut set, mut unset) = (Document::new(), Document::new());
        let mut condition = doc! { "_id": id };
        if user.contains_key(PLAIN_FIELD) {
            condition.insert(PLAIN_FIELD, doc! { "$exists": true });
            unset.insert(PLAIN_FIELD, "");
            if user.contains_key(FIELD) {
                report.dropped += 1;
            } else {
                let sealed = cipher
                    .seal(&id, &plain_encodings(&user))
                    .map_err(|cause| StoreError::Template { user: id, cause })?;
                set.insert(FIELD, to_bson(&sealed)?);
                report.faces.push((id, name.clone()));
            }
        }
        if let Ok(phc) = user.get_str(PLAIN_PIN_FIELD) {
            condition.insert(PLAIN_PIN_FIELD, phc);
            unset.insert(PLAIN_PIN_FIELD, "");
            if user.contains_key(PIN_FIELD) {
                report.dropped += 1;
            } else {
                let sealed = cipher
                    .seal_pin(&id, phc)
                    .map_err(|cause| StoreError::Template { user: id, cause })?;
                set.insert(PIN_FIELD, bson::to_bson(&sealed)?);
                report.pins.push((id, name.clone()));
            }
        } else if user.contains_key(PLAIN_PIN_FIELD) {
            unset.insert(PLAIN_PIN_FIELD, "");
            report.dropped += 1;
        }
        let mut update = doc! { "$unset": unset };
        if !set.is_empty() {
            update.insert("$set", set);
        }
        users.update_one(condition, update).await?;
    }
    Ok(report)
}

fn plain_encodings(user: &Document) -> Vec<Encoding> {
    user.get_array(PLAIN_FIELD)
        .map(|list| {
            list.iter()
                .filter_map(|value| match value {
                    Bson::Binary(binary) => binary_to_encoding(binary),
                    _ => None,
                })
                .filter_map(|values| Encoding::from_slice(&values))
                .collect()
        })
        .unwrap_or_default()
}

/// A user's stored templates as read from the database.
pub(crate) struct StoredUser {
    pub(crate) id: ObjectId,
    /// `None` when the document has no (readable) `face_templates` field.
    pub(crate) templates: Option<StoredTemplates>,
    /// The other fields asked for (those the user has).
    pub(crate) also: Document,
}

/// Every user's id and templates, plus the fields named in `also`, read in one pass.
pub async fn all(db: &Db, also: &[&str]) -> mongodb::error::Result<Vec<StoredUser>> {
    matching(db, doc! {}, also).await
}

/// [`all`] for the users that `filter` selects.
pub(crate) async fn matching(
    db: &Db,
    filter: Document,
    also: &[&str],
) -> mongodb::error::Result<Vec<StoredUser>> {
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
    pub(crate) resealed: usize,
    /// Records that changed (or went away) between the read and the write; the next pass
    /// looks at them again.
    pub(crate) raced: usize,
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
    for user in all(db, &[PIN_FIELD]).await? {
        let template_error = |cause| StoreError::Template { user: user.id, cause };
        let mut condition = doc! { "_id": user.id };
        let mut set = Document::new();
        if let Some(old) = &user.templates
            && old.key_id != key.id()
        {
            let encodings = cipher.open(&user.id, old).map_err(template_error)?;
            let new = seal_with(key, &user.id, &encodings).map_err(template_error)?;
            condition.insert(format!("{FIELD}.key_id"), &old.key_id);
            condition.insert(format!("{FIELD}.nonce"), Bson::Binary(old.nonce.clone()));
            set.insert(FIELD, to_bson(&new)?);
        }
        if let Some(old) = sealed_pin(&user)
            && old.key_id != key.id()
        {
            let phc = Zeroizing::new(cipher.open_pin(&user.id, &old).map_err(template_error)?);
            let new = seal_pin_with(key, &user.id, &phc).map_err(template_error)?;
            condition.insert(format!("{PIN_FIELD}.key_id"), &old.key_id);
            condition.insert(format!("{PIN_FIELD}.nonce"), Bson::Binary(old.nonce.clone()));
            set.insert(PIN_FIELD, bson::to_bson(&new)?);
        }
        if set.is_empty() {
            continue;
        }
        let result = users.update_one(condition, doc! { "$set": set }).await?;
        if result.modified_count == 1 {
            pass.resealed += 1;
        } else {
            pass.raced += 1;
        }
    }
    Ok(pass)
}

/// The sealed PIN hash of a user read with [`PIN_FIELD`] among the fields asked for.
pub(crate) fn sealed_pin(user: &StoredUser) -> Option<SealedPin> {
    let sealed = user.also.get_document(PIN_FIELD).ok()?;
    bson::from_document(sealed.clone()).ok()
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
