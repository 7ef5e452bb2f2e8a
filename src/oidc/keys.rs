//! The provider's signing keys: RS256 keys in a private key file beside the template key file,
//! JWS compact signing and verification, the published JWKS and the pairwise-subject salt.
//!
//! The file (`oidc-key-file`, mode 0600) holds one line per key, the active key first, the
//! previous one after it, and one salt line:
//!
//! ```text
//! rs256 <key id> <base64 of the PKCS#8 DER private key>
//! pairwise-salt <base64 of 32 random bytes>
//! ```

use std::path::Path;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use crypto_glue::{
    rsa::{RS256PrivateKey, RS256PublicKey, RS256Signature, RS256SigningKey, RS256VerifyingKey},
    traits::{
        Pkcs8DecodePrivateKey, Pkcs8EncodePrivateKey, PublicKeyParts, SignatureEncoding, Signer, Verifier,
    },
};
use rand::RngCore;
use serde::{Serialize, de::DeserializeOwned};
use zeroize::Zeroizing;

/// The setting that names the file, for messages.
pub const SETTING: &str = "oidc-key-file / FACEGATE_OIDC_KEY_FILE";
const RSA_BITS: usize = 2048;
const SALT_LEN: usize = 32;
const HEADER: &str = "# facegate OpenID Connect signing keys (docs/oidc.md). Keep this file secret (mode 0600).\n# The first key signs; the others are still published in the JWKS and accepted.\n";

/// One RS256 key pair.
pub struct SigningKey {
    id: String,
    private: RS256PrivateKey,
    signer: RS256SigningKey,
    verifier: RS256VerifyingKey,
}

impl SigningKey {
    /// A new random RSA-2048 key (slow: ~0.1-1 s).
    pub fn generate(id: &str) -> Result<Self, String> {
        let private =
            crypto_glue::rsa::new_key(RSA_BITS).map_err(|e| format!("generating an RSA key: {e}"))?;
        Ok(Self::from_private(id.to_string(), private))
    }

    fn from_private(id: String, private: RS256PrivateKey) -> Self {
        let signer = RS256SigningKey::new(private.clone());
        let verifier = RS256VerifyingKey::new(private.to_public_key());
        Self {
            id,
            private,
            signer,
            verifier,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn public(&self) -> RS256PublicKey {
        self.private.to_public_key()
    }

    fn jwk(&self) -> serde_json::Value {
        let public = self.public();
        serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.id,
            "n": URL_SAFE_NO_PAD.encode(public.n_bytes()),
            "e": URL_SAFE_NO_PAD.encode(public.e_bytes()),
        })
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

/// Every key of the file, the first one active, and the pairwise-subject salt.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<SigningKey>,
    salt: Zeroizing<[u8; SALT_LEN]>,
}

/// Why a signed token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token was signed by a key this provider does not hold")]
    UnknownKey,
    #[error("the token's signature is wrong")]
    BadSignature,
    #[error("the token is of another kind")]
    WrongType,
}

impl KeySet {
    /// A new set with one fresh key and a fresh salt.
    pub fn generate() -> Result<Self, String> {
        let mut salt = Zeroizing::new([0u8; SALT_LEN]);
        rand::rngs::OsRng.fill_bytes(&mut salt[..]);
        Ok(Self {
            keys: vec![SigningKey::generate(&crate::at_rest::keyring::new_key_id(&[]))?],
            salt,
        })
    }

    pub fn active(&self) -> &SigningKey {
        &self.keys[0]
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// A new active key in front; only the one before it is kept (the JWKS publishes the current
    /// and the previous key).
    pub fn rotated(mut self) -> Result<Self, String> {
        let key = SigningKey::generate(&crate::at_rest::keyring::new_key_id(&self.ids()))?;
        self.keys.truncate(1);
        self.keys.insert(0, key);
        Ok(self)
    }

    /// Only the active key: tokens signed by the others stop being accepted at once.
    pub fn without_previous(mut self) -> Self {
        self.keys.truncate(1);
        self
    }

    pub fn salt(&self) -> &[u8] {
        &self.salt[..]
    }

    /// The JSON Web Key Set: every key of the file, public parts only.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.iter().map(SigningKey::jwk).collect::<Vec<_>>() })
    }

    /// `claims` as a JWS compact token signed by the active key; `typ` is the header's type
    /// (`JWT` for ID tokens, `at+jwt` for access tokens, RFC 9068).
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, String> {
        let key = self.active();
        let header = serde_json::json!({ "alg": "RS256", "typ": typ, "kid": key.id });
        let payload = serde_json::to_vec(claims).map_err(|e| format!("encoding claims: {e}"))?;
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature: RS256Signature = key
            .signer
            .try_sign(input.as_bytes())
            .map_err(|e| format!("signing: {e}"))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }

    /// The claims of a token signed by one of these keys with header type `typ`. Expiry and
    /// audience are the caller's to check.
    pub fn verify<T: DeserializeOwned>(&self, typ: &str, token: &str) -> Result<T, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed);
        let header: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
        if header["alg"] != "RS256" {
            return Err(TokenError::Malformed);
        }
        let key = header["kid"]
            .as_str()
            .and_then(|kid| self.keys.iter().find(|k| k.id == kid))
            .ok_or(TokenError::UnknownKey)?;
        let signature =
            RS256Signature::try_from(decode(signature)?.as_slice()).map_err(|_| TokenError::Malformed)?;
        let input_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
        key.verifier
            .verify(&token.as_bytes()[..input_len], &signature)
            .map_err(|_| TokenError::BadSignature)?;
        // Checked only after the signature: the header is the signer's word.
        if header["typ"] != typ {
            return Err(TokenError::WrongType);
        }
        serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        let mut salt = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let bad = |what: &str| format!("line {}: {what}", n + 1);
            match fields.as_slice() {
                ["rs256", id, der] => {
                    let der = Zeroizing::new(STANDARD.decode(der).map_err(|_| bad("the key is not base64"))?);
                    let private = RS256PrivateKey::from_pkcs8_der(&der)
                        .map_err(|_| bad("not a PKCS#8 RSA private key"))?;
                    if keys.iter().any(|k: &SigningKey| k.id == *id) {
                        return Err(bad("a key id appears twice"));
                    }
                    keys.push(SigningKey::from_private(id.to_string(), private));
                }
                ["pairwise-salt", value] => {
                    let bytes = Zeroizing::new(
                        STANDARD
                            .decode(value)
                            .map_err(|_| bad("the salt is not base64"))?,
                    );
                    let bytes: [u8; SALT_LEN] = bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| bad("the salt is not 32 bytes"))?;
                    salt = Some(Zeroizing::new(bytes));
                }
                _ => return Err(bad("expected `rs256 <id> <base64>` or `pairwise-salt <base64>`")),
            }
        }
        if keys.is_empty() {
            return Err("it holds no key".into());
        }
        let salt = salt.ok_or("it has no pairwise-salt line")?;
        Ok(Self { keys, salt })
    }

    fn to_file_text(&self) -> Result<Zeroizing<String>, String> {
        let mut text = Zeroizing::new(HEADER.to_string());
        for key in &self.keys {
            let der = key
                .private
                .to_pkcs8_der()
                .map_err(|e| format!("encoding a key: {e}"))?;
            text.push_str(&format!("rs256 {} {}\n", key.id, STANDARD.encode(der.as_bytes())));
        }
        text.push_str(&format!("pairwise-salt {}\n", STANDARD.encode(&self.salt[..])));
        Ok(text)
    }
}

/// Reads the key file; refuses one that group or others may read or write (like the template
/// key file, and ssh's private keys).
pub fn load(path: &Path) -> Result<KeySet, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the key file {}: {e} ({SETTING})", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "the key file {path} is open to group or others (mode {mode:04o}); make it private: chmod 600 {path}",
            path = path.display()
        ));
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?,
    );
    KeySet::parse(&text).map_err(|reason| {
        format!(
            "the key file {} is malformed: {reason} ({SETTING})",
            path.display()
        )
    })
}

/// Reads the key file, creating it with a new key when it does not exist (the first start).
pub fn load_or_create(path: &Path) -> Result<KeySet, String> {
    if !path.exists() {
        let keys = KeySet::generate()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        match create(path, &keys) {
            Ok(()) => {
                tracing::info!(file = %path.display(), key_id = keys.active().id(), "created the OpenID Connect signing key file");
                return Ok(keys);
            }
            // Another process made it meanwhile: use theirs.
            Err(e) if path.exists() => tracing::debug!(error = %e, "the key file appeared meanwhile"),
            Err(e) => return Err(e),
        }
    }
    load(path)
}

/// Creates the key file (mode 0600); never overwrites one.
pub fn create(path: &Path, keys: &KeySet) -> Result<(), String> {
    crate::secret_file::create(path, &keys.to_file_text()?)
        .map_err(|e| format!("cannot write the key file {}: {e}", path.display()))
}

/// Replaces the key file atomically (a private temporary file renamed over it).
pub fn replace(path: &Path, keys: &KeySet) -> Result<(), String> {
    crate::secret_file::replace(path, &keys.to_file_text()?)
        .map_err(|e| format!("cannot replace the key file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_key_and_not_after_it_is_removed() {
        let keys = KeySet::generate().expect("keys");
        let token = keys
            .sign("JWT", &serde_json::json!({ "sub": "a" }))
            .expect("sign");
        let claims: serde_json::Value = keys.verify("JWT", &token).expect("verify");
        assert_eq!(claims["sub"], "a");
        assert_eq!(
            keys.verify::<serde_json::Value>("at+jwt", &token),
            Err(TokenError::WrongType)
        );

        let mut tampered = token.clone();
        tampered.replace_range(tampered.len() - 5.., "AAAAA");
        assert!(keys.verify::<serde_json::Value>("JWT", &tampered).is_err());

        let rotated = keys.rotated().expect("rotate");
        assert_eq!(rotated.ids().len(), 2);
        assert!(
            rotated.verify::<serde_json::Value>("JWT", &token).is_ok(),
            "the previous key still verifies"
        );
        let retired = rotated.without_previous();
        assert_eq!(
            retired.verify::<serde_json::Value>("JWT", &token),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn the_file_text_parses_back_and_bad_files_are_refused() {
        let keys = KeySet::generate().expect("keys");
        let text = keys.to_file_text().expect("text");
        let parsed = KeySet::parse(&text).expect("parse");
        assert_eq!(parsed.ids(), keys.ids());
        assert_eq!(parsed.salt(), keys.salt());
        assert_eq!(parsed.jwks(), keys.jwks());
        assert!(KeySet::parse("pairwise-salt AAAA\n").is_err());
        assert!(KeySet::parse("rs256 k notbase64!\n").is_err());
    }

    #[test]
    fn open_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("oidc-keys");
        let made = load_or_create(&path).expect("created");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path).expect("load").ids(), made.ids());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(load(&path).expect_err("open file").contains("chmod 600"));
    }
}
