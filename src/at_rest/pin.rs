//! The PIN's Argon2id hash at rest, peppered: the PHC string is sealed with AES-256-GCM under the
//! keys of the template key file, bound to the user's id (docs/security.md, "The PIN at rest").
//!
//! Why encryption rather than a keyed hash (HMAC(pepper, PHC)): both make a dump alone useless
//! for offline guessing, but only encryption can be rotated without the PIN — rotation opens the
//! PHC string with the old key and seals it with the new one, as for the face templates. The
//! Argon2id hash inside still makes the key alone (without the database) worth little.
//!
//! Stored shape, the `pin_sealed` field of a user document:
//! `{ key_id, nonce: <12 random bytes>, ciphertext: <the PHC string + 16-byte tag> }`, associated
//! data [`pin_associated_data`] of the user's id.

use mongodb::bson::{Binary, oid::ObjectId};
use serde::{Deserialize, Serialize};

use super::{KeyRing, TemplateCipher, TemplateError, TemplateKey, open_bytes, seal_bytes};

/// A user's PIN hash as stored: encrypted, with the id of the key that sealed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealedPin {
    pub(crate) key_id: String,
    pub(crate) nonce: Binary,
    pub(crate) ciphertext: Binary,
}

/// Binds a sealed PIN hash to its user (and keeps it apart from the face templates' records).
pub(crate) fn pin_associated_data(user_id: &ObjectId) -> Vec<u8> {
    format!("facegate pin hash v1 user {}", user_id.to_hex()).into_bytes()
}

/// Seals `phc` (an Argon2id PHC string) for `user_id` with `key`.
pub(crate) fn seal_pin_with(
    key: &TemplateKey,
    user_id: &ObjectId,
    phc: &str,
) -> Result<SealedPin, TemplateError> {
    let (nonce, ciphertext) = seal_bytes(key, &pin_associated_data(user_id), phc.as_bytes())?;
    Ok(SealedPin {
        key_id: key.id().to_string(),
        nonce,
        ciphertext,
    })
}

fn open_pin_with(ring: &KeyRing, user_id: &ObjectId, sealed: &SealedPin) -> Result<String, TemplateError> {
    let plaintext = open_bytes(
        ring,
        &sealed.key_id,
        &sealed.nonce,
        &sealed.ciphertext,
        &pin_associated_data(user_id),
    )?;
    String::from_utf8(plaintext.to_vec())
        .ok()
        .filter(|phc| phc.starts_with("$argon2"))
        .ok_or_else(|| TemplateError::Malformed("the sealed PIN hash is not an Argon2 PHC string".into()))
}

impl TemplateCipher {
    /// Seals a PIN hash for `user_id` with the active key.
    pub fn seal_pin(&self, user_id: &ObjectId, phc: &str) -> Result<SealedPin, TemplateError> {
        seal_pin_with(self.ring().active(), user_id, phc)
    }

    /// The PHC string of a sealed PIN hash; fails for another user's record (the binding).
    pub fn open_pin(&self, user_id: &ObjectId, sealed: &SealedPin) -> Result<String, TemplateError> {
        open_pin_with(&self.ring(), user_id, sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

    #[test]
    fn a_sealed_pin_opens_for_its_user_only_and_hides_the_hash() {
        let ring = KeyRing::new(vec![TemplateKey::generate("k1").expect("id")]).expect("ring");
        let cipher = TemplateCipher::from_ring(ring);
        let (ada, bob) = (ObjectId::new(), ObjectId::new());
        let sealed = cipher.seal_pin(&ada, PHC).expect("seal");
        assert_eq!(cipher.open_pin(&ada, &sealed).expect("opens"), PHC);
        assert!(matches!(
            cipher.open_pin(&bob, &sealed),
            Err(TemplateError::DoesNotOpen { .. })
        ));
        assert!(
            !sealed
                .ciphertext
                .bytes
                .windows(8)
                .any(|w| PHC.as_bytes().windows(8).any(|p| p == w)),
            "no piece of the PHC string in the clear"
        );
        // A face-template record of the same user does not open as a PIN (different binding).
        let templates = cipher.seal(&ada, &[]).expect("seal");
        let disguised = SealedPin {
            key_id: templates.key_id,
            nonce: templates.nonce,
            ciphertext: templates.ciphertext,
        };
        assert!(cipher.open_pin(&ada, &disguised).is_err());
    }
}
