//! The gallery: every enrolled face encoding, in memory, so a login is one scan of RAM rather
//! than a read of every user from MongoDB. Loaded at start-up, updated by this process on every
//! register and delete. See docs/gallery.md for several app instances on one database.

use std::collections::HashSet;
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
    /// Users registered before PINs existed: they have no second factor to ask for. Known here
    /// so a login need not read the user from the database to find out.
    without_pin: Arc<RwLock<HashSet<ObjectId>>>,
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
                    gallery.add(user.id, &encodings);
                    if !user.also.contains_key("pin_hash") {
                        gallery
                            .without_pin
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(user.id);
                    }
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
        let without_pin = gallery
            .without_pin
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        if without_pin > 0 {
            tracing::warn!(
                users = without_pin,
                "users registered before PINs existed log in by face alone; ask them to register again"
            );
        }
        tracing::info!(users = gallery.len(), "face gallery loaded");
        Ok(gallery)
    }

    pub fn add(&self, id: ObjectId, encodings: &[Encoding]) {
        self.write().add(id, encodings);
    }

    pub fn remove(&self, id: &ObjectId) {
        self.write().remove(id);
        self.without_pin
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Whether `id` was registered before PINs existed (and so has none).
    pub fn has_no_pin(&self, id: &ObjectId) -> bool {
        self.without_pin
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(id)
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
