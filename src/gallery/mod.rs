//! The gallery: every enrolled face encoding, in memory, with what a login needs besides the
//! face (name, PIN hash, latest login), so a login searches RAM (`face::matching`'s cell index:
//! ~1.5 ms at a million encodings) rather than reading users from MongoDB. Loaded at start-up,
//! updated on every register and delete, here at once and on other instances through the change
//! feed (`crate::changes`; docs/gallery.md, docs/deploy.md).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mongodb::bson::{DateTime, oid::ObjectId};

use crate::{
    at_rest::{
        TemplateCipher, TemplateError,
        keyring::SETTING,
        stored::{self, StoredUser},
    },
    db::Db,
    face::{
        Encoding,
        matching::{EncodingIndex, Match},
    },
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
    /// What a login needs to know of each enrolled user besides the face, so that neither the
    /// PIN step nor a signed-in page reads the users collection.
    people: Arc<RwLock<HashMap<ObjectId, Person>>>,
}

/// The users' fields besides the templates that the gallery keeps.
pub(crate) const STORED_FIELDS: [&str; 4] = [
    stored::PIN_FIELD,
    stored::PLAIN_PIN_FIELD,
    "username",
    "last_login_at",
];

/// An enrolled user, as the hot paths need them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    pub username: String,
    pub pin: Pin,
    /// The latest login, shown as "previous login" at the next one.
    pub last_login_at: Option<DateTime>,
}

/// An enrolled user's second factor, as read from their record.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Pin {
    /// Registered before PINs existed: no second factor to ask for.
    #[default]
    None,
    /// The PIN's Argon2id PHC string (~100 bytes), opened from the sealed record.
    Hash(String),
    /// The record holds a PIN that cannot be trusted — stored plain by an older version (not yet
    /// migrated) or failing its binding to this user. The PIN step refuses it; a passkey works.
    Refused,
}

impl Gallery {
    /// Reads every user's templates, name and sealed PIN (only those fields) from the database and
    /// opens them. A key id missing from the key file, or no record opening at all, stops the
    /// start-up: the key file is wrong, and serving with users silently missing would look like
    /// "face not recognised" to them. A single record that does not open for its user (altered,
    /// or copied from another user) is refused and logged.
    pub async fn load(db: &Db, cipher: &TemplateCipher) -> Result<Self, GalleryError> {
        let gallery = Self::default();
        let users = stored::all(db, &STORED_FIELDS).await?;
        let total = users.len();
        let (mut opened, mut skipped, mut refused) = (0usize, 0usize, 0usize);
        let (mut unknown_key, mut first_refused) = (None, None);
        for user in users {
            let id = user.id;
            match gallery.add_stored(cipher, user) {
                Ok(true) => opened += 1,
                Ok(false) => skipped += 1,
                // A key id missing from the key file: the operator pointed at the wrong file.
                Err(cause @ TemplateError::UnknownKey { .. }) => {
                    unknown_key.get_or_insert((id, cause));
                }
                // A record that does not open while others do was altered or copied from another
                // user: refused and logged, never used.
                Err(cause) => {
                    refused += 1;
                    tracing::error!(user_id = %id, error = %cause, "refused a user's face templates: they do not open for this user, who cannot log in until registering again");
                    first_refused.get_or_insert((id, cause));
                }
            }
        }
        // Every record failing means the key file is wrong, not the records: stop.
        let wrong_key_file = first_refused.filter(|_| opened == 0);
        if let Some((user, cause)) = unknown_key.or(wrong_key_file) {
            return Err(GalleryError::Templates {
                failed: refused.max(1),
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
        let people = gallery.people();
        let without_pin = people.values().filter(|p| p.pin == Pin::None).count();
        if without_pin > 0 {
            tracing::warn!(
                users = without_pin,
                "users registered before PINs existed log in by face alone; ask them to register again"
            );
        }
        let pin_refused = people.values().filter(|p| p.pin == Pin::Refused).count();
        if pin_refused > 0 {
            tracing::error!(
                users = pin_refused,
                "users whose stored PIN is unsealed (older version) or does not open for them cannot confirm a login with their PIN (a passkey still works); seal plain records with `facegate keys migrate-plain`"
            );
        }
        drop(people);
        tracing::info!(users = gallery.len(), "face gallery loaded");
        Ok(gallery)
    }

    /// Enrols a user as read from the database (fields [`STORED_FIELDS`]); `Ok(false)` when the
    /// record holds no encoding. Plain `face_encodings` are never read: only sealed templates.
    pub(crate) fn add_stored(
        &self,
        cipher: &TemplateCipher,
        user: StoredUser,
    ) -> Result<bool, TemplateError> {
        let Some(templates) = &user.templates else {
            return Ok(false);
        };
        let encodings = cipher.open(&user.id, templates)?;
        if encodings.is_empty() {
            return Ok(false);
        }
        let pin = stored_pin(cipher, &user);
        let person = Person {
            username: user
                .also
                .get_str("username")
                .map(str::to_string)
                .unwrap_or_default(),
            pin,
            last_login_at: user.also.get_datetime("last_login_at").ok().copied(),
        };
        self.add(user.id, &encodings, person);
        Ok(true)
    }

    /// Enrols `id` with its encodings. Enrolling someone already there changes nothing (the
    /// change feed may bring an enrolment this instance already made or loaded).
    pub fn add(&self, id: ObjectId, encodings: &[Encoding], person: Person) {
        let mut index = self.write();
        if index.contains(&id) {
            return;
        }
        index.add(id, encodings);
        self.people_mut().insert(id, person);
    }

    /// Takes `id` out; `false` when they were not there.
    pub(crate) fn remove(&self, id: &ObjectId) -> bool {
        let removed = self.write().remove(id);
        self.people_mut().remove(id);
        removed
    }

    pub fn contains(&self, id: &ObjectId) -> bool {
        self.read().contains(id)
    }

    /// Every enrolled user's id (for the background reconciliation with the database).
    pub fn ids(&self) -> Vec<ObjectId> {
        self.people().keys().copied().collect()
    }

    pub(crate) fn username(&self, id: &ObjectId) -> Option<String> {
        self.people().get(id).map(|p| p.username.clone())
    }

    /// The second factor of an enrolled user; `None` when they are not enrolled (here).
    pub(crate) fn pin(&self, id: &ObjectId) -> Option<Pin> {
        self.people().get(id).map(|p| p.pin.clone())
    }

    /// Whether `id` was registered before PINs existed (and so has none).
    pub(crate) fn has_no_pin(&self, id: &ObjectId) -> bool {
        self.people().get(id).is_none_or(|p| p.pin == Pin::None)
    }

    pub fn last_login(&self, id: &ObjectId) -> Option<DateTime> {
        self.people().get(id).and_then(|p| p.last_login_at)
    }

    /// Records a login at `at` and returns the one before it. Logins arrive out of order from
    /// other instances: the latest wins.
    pub(crate) fn record_login(&self, id: &ObjectId, at: DateTime) -> Option<DateTime> {
        let mut people = self.people_mut();
        let person = people.get_mut(id)?;
        let previous = person.last_login_at;
        if previous.is_none_or(|previous| previous < at) {
            person.last_login_at = Some(at);
        }
        previous
    }

    fn people(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ObjectId, Person>> {
        self.people.read().unwrap_or_else(|p| p.into_inner())
    }

    fn people_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ObjectId, Person>> {
        self.people.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The closest enrolled user and the runner-up distance. The search is CPU work (about a
    /// millisecond at scale), so it runs on the blocking pool, not on the async workers.
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

/// The PIN of a stored record: the sealed hash opened for this user, or [`Pin::Refused`] (logged)
/// when it is plain or fails its binding.
fn stored_pin(cipher: &TemplateCipher, user: &StoredUser) -> Pin {
    if !user.also.contains_key(stored::PIN_FIELD) {
        // A plain PHC string of an older version (or planted) is never trusted.
        return if user.also.contains_key(stored::PLAIN_PIN_FIELD) {
            Pin::Refused
        } else {
            Pin::None
        };
    }
    let opened = stored::sealed_pin(user)
        .ok_or_else(|| TemplateError::Malformed("not a sealed PIN record".into()))
        .and_then(|sealed| cipher.open_pin(&user.id, &sealed));
    match opened {
        Ok(phc) => Pin::Hash(phc),
        Err(e) => {
            tracing::error!(user_id = %user.id, error = %e, "refused a user's stored PIN: it does not open for this user (altered, or copied from another user)");
            Pin::Refused
        }
    }
}
