//! The gallery: every enrolled face encoding, in memory, so a login is one scan of RAM rather
//! than a read of every user from MongoDB. Loaded at start-up, updated by this process on every
//! register and delete. See docs/gallery.md for several app instances on one database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mongodb::bson::oid::ObjectId;

use crate::{
    db::Db,
    face::{
        Encoding,
        matching::{EncodingIndex, Match},
    },
    templates::{TemplateCipher, TemplateError, keyring::SETTING},
};

/// Why the gallery could not be loaded at start-up.
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error("could not load the face gallery from the database: {0}")]
    Database(#[from] mongodb::error::Error),
    #[error(
        "{failed} of {total} users' face templates cannot be opened with the key file {path} (setting {SETTING}); the first, user {user}: {cause}. Point FACEGATE_TEMPLATE_KEY_FILE / template-key-file at the key file these records were written with",
        path = .path.display()
    )]
    Templates {
        failed: usize,
        total: usize,
        path: std::path::PathBuf,
        user: ObjectId,
        cause: TemplateError,
    },
}

#[derive(Clone, Default)]
pub struct Gallery {
    index: Arc<RwLock<EncodingIndex<ObjectId>>>,
    /// Each enrolled user's PIN hash (Argon2id PHC string, ~100 bytes), so the PIN step of a
    /// login reads memory, not the users collection. Users registered before PINs existed have
    /// none: they have no second factor to ask for.
    pin_hashes: Arc<RwLock<HashMap<ObjectId, String>>>,
}

impl Gallery {
    /// Reads every user's templates and PIN hash (only those fields) from the database and opens
    /// the templates. Any
    /// record that does not open stops the start-up: serving with part of the users silently
    /// missing would look like "face not recognised" to them.
    pub async fn load(db: &Db, cipher: &TemplateCipher) -> Result<Self, GalleryError> {
        let gallery = Self::default();
        let users = crate::templates::stored::all(db, &["pin_hash"]).await?;
        let total = users.len();
        let (mut skipped, mut failed, mut first_failure) = (0usize, 0usize, None);
        for user in users {
            let Some(templates) = user.templates else {
                skipped += 1;
                continue;
            };
            match cipher.open(&user.id, &templates) {
                Ok(encodings) if encodings.is_empty() => skipped += 1,
                Ok(encodings) => {
                    let pin_hash = user.also.get_str("pin_hash").ok().map(str::to_string);
                    gallery.add(user.id, &encodings, pin_hash);
                }
                Err(cause) => {
                    failed += 1;
                    first_failure.get_or_insert((user.id, cause));
                }
            }
        }
        if let Some((user, cause)) = first_failure {
            return Err(GalleryError::Templates {
                failed,
                total,
                path: cipher.path().to_path_buf(),
                user,
                cause,
            });
        }
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "users without a readable face encoding were left out of the gallery"
            );
        }
        let without_pin = gallery.len().saturating_sub(gallery.pin_hashes().len());
        if without_pin > 0 {
            tracing::warn!(
                users = without_pin,
                "users registered before PINs existed log in by face alone; ask them to register again"
            );
        }
        tracing::info!(users = gallery.len(), "face gallery loaded");
        Ok(gallery)
    }

    /// Enrols `id` with its encodings and PIN hash (`None`: an account from before PINs).
    pub fn add(&self, id: ObjectId, encodings: &[Encoding], pin_hash: Option<String>) {
        self.write().add(id, encodings);
        if let Some(hash) = pin_hash {
            self.pin_hashes_mut().insert(id, hash);
        }
    }

    pub fn remove(&self, id: &ObjectId) {
        self.write().remove(id);
        self.pin_hashes_mut().remove(id);
    }

    /// The PIN hash of an enrolled user, if they have a PIN.
    pub fn pin_hash(&self, id: &ObjectId) -> Option<String> {
        self.pin_hashes().get(id).cloned()
    }

    /// Whether `id` was registered before PINs existed (and so has none).
    pub fn has_no_pin(&self, id: &ObjectId) -> bool {
        !self.pin_hashes().contains_key(id)
    }

    fn pin_hashes(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ObjectId, String>> {
        self.pin_hashes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn pin_hashes_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ObjectId, String>> {
        self.pin_hashes.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The closest enrolled user and the runner-up distance. The scan is CPU work (milliseconds
    /// at 100k users), so it runs on the blocking pool, not on the async workers.
    pub async fn best_match(&self, encoding: Encoding) -> Option<Match<ObjectId>> {
        let gallery = self.clone();
        tokio::task::spawn_blocking(move || gallery.read().best_match(&encoding))
            .await
            .unwrap_or_else(|e| {
                tracing::error!("gallery search failed: {e}");
                None
            })
    }

    // A poisoned lock only means a panic elsewhere mid-update of plain data; keep serving.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, EncodingIndex<ObjectId>> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, EncodingIndex<ObjectId>> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }
}
