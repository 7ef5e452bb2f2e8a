//! The gallery: every enrolled face encoding, in memory, so a login is one scan of RAM rather
//! than a read of every user from MongoDB. Loaded at start-up, updated by this process on every
//! register and delete. See docs/gallery.md for several app instances on one database.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use futures::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId};

use crate::{
    db::{Db, users::binary_to_encoding},
    face::{
        Encoding,
        matching::{EncodingIndex, Match},
    },
};

#[derive(Clone, Default)]
pub struct Gallery {
    index: Arc<RwLock<EncodingIndex<ObjectId>>>,
    /// Users registered before PINs existed: they have no second factor to ask for. Known here
    /// so a login need not read the user from the database to find out.
    without_pin: Arc<RwLock<HashSet<ObjectId>>>,
}

impl Gallery {
    /// Reads every user's encodings (only those fields) from the database.
    pub async fn load(db: &Db) -> mongodb::error::Result<Self> {
        let gallery = Self::default();
        let mut users = db
            .users()
            .clone_with_type::<mongodb::bson::Document>()
            .find(doc! {})
            .projection(doc! { "_id": 1, "face_encodings": 1, "pin_hash": 1 })
            .await?;
        let mut skipped = 0usize;
        while let Some(user) = users.try_next().await? {
            let Ok(id) = user.get_object_id("_id") else {
                continue;
            };
            let encodings: Vec<Encoding> = user
                .get_array("face_encodings")
                .map(|list| {
                    list.iter()
                        .filter_map(|value| match value {
                            mongodb::bson::Bson::Binary(binary) => binary_to_encoding(binary),
                            _ => None,
                        })
                        .filter_map(|values| Encoding::from_slice(&values))
                        .collect()
                })
                .unwrap_or_default();
            if encodings.is_empty() {
                skipped += 1;
                continue;
            }
            gallery.add(id, &encodings);
            if !user.contains_key("pin_hash") {
                gallery
                    .without_pin
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id);
            }
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
