//! Face templates at rest: each user's encodings are stored encrypted with AES-256-GCM
//! (docs/security.md, "Face templates at rest"). Server-only.
//!
//! Stored shape, the `face_templates` field of a user document:
//! `{ key_id: "<id of the key in the key file>", nonce: <binary, 12 random bytes>,
//!    ciphertext: <binary: the encodings, 128 little-endian f32 each, encrypted, + 16-byte tag> }`.
//! The associated data is [`associated_data`] of the user's id, so a ciphertext copied into
//! another user's document does not open.

pub(crate) mod cli;
pub mod keyring;
pub(crate) mod pin;
pub(crate) mod stored;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use aes_gcm::{
    Nonce,
    aead::{Aead, Payload},
};
use mongodb::bson::{Binary, oid::ObjectId, spec::BinarySubtype};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use keyring::{KeyFileError, KeyRing, TemplateKey};
pub use pin::SealedPin;

use crate::face::{ENCODING_LEN, Encoding};

/// AES-GCM's standard 96-bit nonce, random per record. A key seals at most a few records per
/// user and registration, far below the 2^32 messages NIST allows per key with random nonces.
pub const NONCE_LEN: usize = 12;
const ENCODING_BYTES: usize = ENCODING_LEN * 4;

/// A user's encodings as stored: encrypted, with the id of the key that sealed them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTemplates {
    pub(crate) key_id: String,
    pub(crate) nonce: Binary,
    pub ciphertext: Binary,
}

/// Why stored templates did not open.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("they were sealed with key `{key_id}`, which is not in the key file (it holds: {known})")]
    UnknownKey { key_id: String, known: String },
    #[error(
        "key `{key_id}` of the key file did not open them: that key is not the one they were sealed with, or the record was altered or copied from another user"
    )]
    DoesNotOpen { key_id: String },
    #[error("the stored record is malformed: {0}")]
    Malformed(String),
    #[error("encryption failed")]
    Seal,
}

/// Seals and opens face templates with the keys of the key file; re-reads that file when it
/// changes (see [`TemplateCipher::watch`]), so a rotation reaches a running server. Cheap to clone.
#[derive(Clone)]
pub struct TemplateCipher {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    ring: RwLock<Arc<KeyRing>>,
    stamp: Mutex<Option<keyring::FileStamp>>,
}

impl std::fmt::Debug for TemplateCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateCipher")
            .field("path", &self.inner.path)
            .field("ring", &*self.ring())
            .finish()
    }
}

/// The associated data of a user's record: binds the ciphertext to that user (and this format).
pub(crate) fn associated_data(user_id: &ObjectId) -> Vec<u8> {
    format!("facegate face templates v1 user {}", user_id.to_hex()).into_bytes()
}

impl TemplateCipher {
    /// Reads the key file; see [`keyring::load`] for what is refused.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let (ring, stamp) = keyring::load(path)?;
        Ok(Self::with_ring(path, ring, Some(stamp)))
    }

    /// A cipher over `ring` that was not read from a file (tests, tools).
    pub fn from_ring(ring: KeyRing) -> Self {
        Self::with_ring(Path::new(""), ring, None)
    }

    fn with_ring(path: &Path, ring: KeyRing, stamp: Option<keyring::FileStamp>) -> Self {
        Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                ring: RwLock::new(Arc::new(ring)),
                stamp: Mutex::new(stamp),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The keyring in use now.
    pub(crate) fn ring(&self) -> Arc<KeyRing> {
        // A poisoned lock only means a panic elsewhere while swapping an Arc: keep the ring.
        self.inner.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The id of the key that seals new templates.
    pub fn active_key_id(&self) -> String {
        self.ring().active().id().to_string()
    }

    /// Encrypts `encodings` for `user_id` with the active key and a fresh random nonce.
    pub fn seal(&self, user_id: &ObjectId, encodings: &[Encoding]) -> Result<StoredTemplates, TemplateError> {
        seal_with(self.ring().active(), user_id, encodings)
    }

    /// Decrypts a user's templates with the key named in the record.
    pub fn open(&self, user_id: &ObjectId, stored: &StoredTemplates) -> Result<Vec<Encoding>, TemplateError> {
        open_with(&self.ring(), user_id, stored)
    }

    /// Re-reads the key file when it changed since the last read. `Ok(true)` when a new keyring
    /// is now in use; on an error the keyring in use stays as it was.
    pub fn reload_if_changed(&self) -> Result<bool, KeyFileError> {
        let path = &self.inner.path;
        let now = keyring::stamp(path).ok();
        let mut last = self.inner.stamp.lock().unwrap_or_else(|p| p.into_inner());
        if now.is_some() && now == *last {
            return Ok(false);
        }
        let (ring, stamp) = keyring::load(path)?;
        *last = Some(stamp);
        let changed = ring.ids() != self.ring().ids();
        *self.inner.ring.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
        Ok(changed)
    }

    /// Checks the key file every `every` until shutdown, so that `facegate keys rotate`
    /// reaches a running server: it then seals with the new key.
    pub fn watch(&self, every: Duration, background: &crate::background::Background) {
        let cipher = self.clone();
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        background.every("template key file watch", every, move || {
            use std::sync::atomic::Ordering;
            match cipher.reload_if_changed() {
                Ok(changed) => {
                    if changed || failing.swap(false, Ordering::Relaxed) {
                        tracing::info!(
                            active_key = %cipher.active_key_id(),
                            keys = ?cipher.ring().ids(),
                            "face template key file reloaded"
                        );
                    }
                }
                // Keep serving with the keys already loaded; say so once, not every tick.
                Err(error) => {
                    if !failing.swap(true, Ordering::Relaxed) {
                        tracing::error!(
                            "{error}; still using the keys read before (setting {})",
                            keyring::SETTING
                        );
                    }
                }
            }
            std::future::ready(())
        });
    }
}

/// Packs an encoding as 128 little-endian f32. dlib computes the descriptor in f32, so the
/// narrowing from the f64 the binding hands out loses nothing.
pub(crate) fn encoding_to_binary(encoding: &[f32]) -> Binary {
    let bytes = encoding.iter().flat_map(|v| v.to_le_bytes()).collect();
    Binary {
        subtype: BinarySubtype::Generic,
        bytes,
    }
}

/// The inverse of [`encoding_to_binary`]; `None` when the length is not a whole number of f32.
pub(crate) fn binary_to_encoding(binary: &Binary) -> Option<Vec<f32>> {
    if !binary.bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        binary
            .bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// Seals with one particular key (rotation seals with the new key whatever the file says).
pub(crate) fn seal_with(
    key: &TemplateKey,
    user_id: &ObjectId,
    encodings: &[Encoding],
) -> Result<StoredTemplates, TemplateError> {
    let plaintext = Zeroizing::new(
        encodings
            .iter()
            .flat_map(|e| encoding_to_binary(e.as_slice()).bytes)
            .collect::<Vec<u8>>(),
    );
    let (nonce, ciphertext) = seal_bytes(key, &associated_data(user_id), &plaintext)?;
    Ok(StoredTemplates {
        key_id: key.id().to_string(),
        nonce,
        ciphertext,
    })
}

/// AES-256-GCM with a fresh random nonce: (nonce, ciphertext + tag).
fn seal_bytes(key: &TemplateKey, aad: &[u8], plaintext: &[u8]) -> Result<(Binary, Binary), TemplateError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ciphertext = key
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| TemplateError::Seal)?;
    Ok((generic(nonce.to_vec()), generic(ciphertext)))
}

/// Opens what [`seal_bytes`] sealed with the key named `key_id` of `ring`.
fn open_bytes(
    ring: &KeyRing,
    key_id: &str,
    nonce: &Binary,
    ciphertext: &Binary,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let key = ring.get(key_id).ok_or_else(|| TemplateError::UnknownKey {
        key_id: key_id.to_string(),
        known: ring.ids().join(", "),
    })?;
    if nonce.bytes.len() != NONCE_LEN {
        return Err(TemplateError::Malformed(format!(
            "the nonce is {} bytes, not {NONCE_LEN}",
            nonce.bytes.len()
        )));
    }
    key.cipher()
        .decrypt(
            Nonce::from_slice(&nonce.bytes),
            Payload {
                msg: &ciphertext.bytes,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| TemplateError::DoesNotOpen {
            key_id: key_id.to_string(),
        })
}

fn open_with(
    ring: &KeyRing,
    user_id: &ObjectId,
    stored: &StoredTemplates,
) -> Result<Vec<Encoding>, TemplateError> {
    let plaintext = open_bytes(
        ring,
        &stored.key_id,
        &stored.nonce,
        &stored.ciphertext,
        &associated_data(user_id),
    )?;
    if !plaintext.len().is_multiple_of(ENCODING_BYTES) {
        return Err(TemplateError::Malformed(format!(
            "{} bytes is not a whole number of encodings",
            plaintext.len()
        )));
    }
    plaintext
        .chunks_exact(ENCODING_BYTES)
        .map(|chunk| {
            binary_to_encoding(&generic(chunk.to_vec()))
                .and_then(|values| Encoding::from_slice(&values))
                .ok_or_else(|| TemplateError::Malformed("an encoding that is not 128 finite numbers".into()))
        })
        .collect()
}

fn generic(bytes: Vec<u8>) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(ids: &[&str]) -> TemplateCipher {
        let keys = ids
            .iter()
            .map(|id| TemplateKey::generate(id).expect("id"))
            .collect();
        TemplateCipher::from_ring(KeyRing::new(keys).expect("ring"))
    }

    fn encodings() -> Vec<Encoding> {
        (0..3)
            .map(|n| Encoding(std::array::from_fn(|i| (i as f32 - 64.0) / (100.0 + n as f32))))
            .collect()
    }

    #[test]
    fn sealed_templates_open_for_their_user_only() {
        let cipher = cipher(&["k1"]);
        let (ada, bob) = (ObjectId::new(), ObjectId::new());
        let stored = cipher.seal(&ada, &encodings()).expect("seal");
        assert_eq!(stored.key_id, "k1");
        assert_eq!(stored.nonce.bytes.len(), NONCE_LEN);
        assert_eq!(stored.ciphertext.bytes.len(), 3 * ENCODING_BYTES + 16);
        assert_eq!(cipher.open(&ada, &stored).expect("opens"), encodings());
        assert_eq!(
            cipher.open(&bob, &stored),
            Err(TemplateError::DoesNotOpen { key_id: "k1".into() })
        );
    }

    #[test]
    fn each_seal_has_its_own_nonce_and_hides_the_numbers() {
        let cipher = cipher(&["k1"]);
        let ada = ObjectId::new();
        let (a, b) = (
            cipher.seal(&ada, &encodings()).expect("seal"),
            cipher.seal(&ada, &encodings()).expect("seal"),
        );
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        let plain = encoding_to_binary(encodings()[0].as_slice()).bytes;
        assert!(
            !a.ciphertext
                .bytes
                .windows(8)
                .any(|w| plain.windows(8).any(|p| p == w))
        );
    }

    #[test]
    fn an_altered_record_or_an_unknown_key_does_not_open() {
        let cipher = cipher(&["k2", "k1"]);
        let ada = ObjectId::new();
        let stored = cipher.seal(&ada, &encodings()).expect("seal");
        assert_eq!(stored.key_id, "k2", "the first key seals");

        let mut flipped = stored.clone();
        flipped.ciphertext.bytes[5] ^= 1;
        assert!(matches!(
            cipher.open(&ada, &flipped),
            Err(TemplateError::DoesNotOpen { .. })
        ));

        let mut relabelled = stored.clone();
        relabelled.key_id = "k1".into();
        assert!(matches!(
            cipher.open(&ada, &relabelled),
            Err(TemplateError::DoesNotOpen { .. })
        ));

        let other = self::cipher(&["k3"]);
        let error = other.open(&ada, &stored).expect_err("unknown key");
        assert_eq!(
            error.to_string(),
            "they were sealed with key `k2`, which is not in the key file (it holds: k3)"
        );

        let mut short_nonce = stored;
        short_nonce.nonce.bytes.pop();
        assert!(matches!(
            cipher.open(&ada, &short_nonce),
            Err(TemplateError::Malformed(_))
        ));
    }

    #[test]
    fn an_older_key_still_opens_after_a_new_one_is_added() {
        let old = TemplateKey::generate("old").expect("id");
        let ada = ObjectId::new();
        let stored = seal_with(&old, &ada, &encodings()).expect("seal");
        let ring = KeyRing::new(vec![old])
            .expect("ring")
            .with_active(TemplateKey::generate("new").expect("id"))
            .expect("ring");
        let cipher = TemplateCipher::from_ring(ring);
        assert_eq!(cipher.open(&ada, &stored).expect("opens"), encodings());
        assert_eq!(cipher.seal(&ada, &encodings()).expect("seal").key_id, "new");
        assert_eq!(
            format!("{cipher:?}"),
            r#"TemplateCipher { path: "", ring: KeyRing { key_ids: ["new", "old"] } }"#
        );
    }

    #[test]
    fn the_key_file_is_reloaded_when_it_changes() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys");
        let ring = KeyRing::new(vec![TemplateKey::generate("k1").expect("id")]).expect("ring");
        keyring::create(&path, &ring).expect("create");
        let cipher = TemplateCipher::load(&path).expect("load");
        assert!(!cipher.reload_if_changed().expect("unchanged"));
        let ring = ring
            .with_active(TemplateKey::generate("k2").expect("id"))
            .expect("ring");
        keyring::replace(&path, &ring).expect("replace");
        assert!(cipher.reload_if_changed().expect("reloaded"));
        assert_eq!(cipher.active_key_id(), "k2");
        std::fs::write(&path, "garbage\n").expect("write");
        assert!(cipher.reload_if_changed().is_err());
        assert_eq!(
            cipher.active_key_id(),
            "k2",
            "a broken file leaves the keys in use"
        );
    }
}
