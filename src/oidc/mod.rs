//! facegate as an OpenID Connect provider (docs/oidc.md): discovery, JWKS, the authorization
//! code flow with PKCE, tokens, userinfo and RP-initiated logout, for clients the operator
//! registered. The login behind it is facegate's own: live face check, then PIN or passkey.

pub(crate) mod authorize;
pub mod cli;
pub mod clients;
pub(crate) mod keys;
pub(crate) mod logout;
pub(crate) mod pkce;
pub(crate) mod routes;
pub(crate) mod settings;
pub(crate) mod store;
pub(crate) mod token;
mod watched;

pub(crate) use settings::OidcSettings;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Config;

/// How long an authorization code may wait for its exchange.
pub const CODE_TTL: Duration = Duration::from_secs(60);

/// The provider's keys and clients, both re-read from their files when they change.
#[derive(Clone)]
pub struct Provider {
    keys: Arc<watched::Watched<keys::KeySet>>,
    pub clients: clients::Clients,
}

impl Provider {
    pub fn start(settings: &OidcSettings) -> Result<Self, String> {
        let keys = keys::load_or_create(&settings.oidc_key_file)?;
        let clients = clients::Clients::load(&settings.oidc_clients_file)?;
        let count = clients.file().clients.len();
        if count > 0 {
            tracing::info!(
                clients = count,
                key_id = keys.active().id(),
                "OpenID Connect provider ready"
            );
        }
        Ok(Self {
            keys: Arc::new(watched::Watched::new(&settings.oidc_key_file, keys, keys::load)),
            clients,
        })
    }

    pub fn keys(&self) -> Arc<keys::KeySet> {
        self.keys.get()
    }
}

/// Paths a browser may POST to from another site (a relying party's form): they take no
/// action on the strength of facegate's cookie that a GET could not take too, or use no cookie.
pub fn accepts_cross_site(path: &str) -> bool {
    matches!(
        path,
        "/oauth2/authorize" | "/oauth2/token" | "/oauth2/userinfo" | "/oauth2/logout"
    )
}

/// The issuer: the configured public origin, else the request's own origin (scheme from the
/// front door: https when a trusted proxy or the settings say so).
pub(crate) fn issuer(config: &Config, parts: &Parts) -> String {
    if let Some(origin) = &config.http.public_origin {
        return origin.as_str().trim_end_matches('/').to_string();
    }
    let https = parts
        .extensions
        .get::<crate::http::client::ClientInfo>()
        .map_or(config.secure_cookies, |client| client.https);
    let host = host_of(&parts.headers).unwrap_or("localhost");
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn host_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
}

/// The issuer of this request, as an extractor.
pub struct Issuer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Issuer
where
    Arc<Config>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(issuer(&Arc::<Config>::from_ref(state), parts)))
    }
}

pub const ACR_LIVE_FACE_PIN: &str = "urn:facegate:live-face+pin";
pub const ACR_LIVE_FACE_PASSKEY: &str = "urn:facegate:live-face+passkey";
pub const ACR_LIVE_FACE: &str = "urn:facegate:live-face";
pub const ACR_FACE_PIN: &str = "urn:facegate:face+pin";
pub const ACR_FACE_PASSKEY: &str = "urn:facegate:face+passkey";
pub const ACR_FACE: &str = "urn:facegate:face";

/// `amr` (RFC 8176) and `acr` for a session made by `methods` (what the session records:
/// `face`, then `pin`, or `hwk` and `user` for a passkey with user verification). The face is
/// called live unless this server accepts the single-picture login (`allow-single-image`).
pub fn amr_and_acr(methods: &[String], live_only: bool) -> (Vec<String>, String) {
    let has = |m: &str| methods.iter().any(|x| x == m);
    let mut amr: Vec<String> = methods.to_vec();
    if amr.is_empty() {
        // Sessions from before facegate recorded how they were made: the face always was.
        amr.push("face".into());
    }
    if amr.len() > 1 {
        amr.push("mfa".into());
    }
    let acr = match (live_only, has("pin"), has("hwk")) {
        (true, true, _) => ACR_LIVE_FACE_PIN,
        (true, false, true) => ACR_LIVE_FACE_PASSKEY,
        (true, false, false) => ACR_LIVE_FACE,
        (false, true, _) => ACR_FACE_PIN,
        (false, false, true) => ACR_FACE_PASSKEY,
        (false, false, false) => ACR_FACE,
    };
    (amr, acr.to_string())
}

/// 256 random bits, URL-safe base64: codes, refresh tokens, grant ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a code or token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// `sub`: the user id, or per client a salted hash of it (pairwise).
pub fn subject(
    keys: &keys::KeySet,
    client: &clients::Client,
    user_id: &mongodb::bson::oid::ObjectId,
) -> String {
    if !client.pairwise_subject {
        return user_id.to_hex();
    }
    let mut hasher = Sha256::new();
    hasher.update(keys.salt());
    hasher.update(client.id.as_bytes());
    hasher.update([0]);
    hasher.update(user_id.bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// `at_hash`: the left half of the SHA-256 of the access token, base64url (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_says_what_was_done_and_acr_names_the_live_check() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            amr_and_acr(&v(&["face", "pin"]), true),
            (v(&["face", "pin", "mfa"]), ACR_LIVE_FACE_PIN.into())
        );
        assert_eq!(
            amr_and_acr(&v(&["face", "hwk", "user"]), true),
            (v(&["face", "hwk", "user", "mfa"]), ACR_LIVE_FACE_PASSKEY.into())
        );
        assert_eq!(amr_and_acr(&v(&["face"]), false), (v(&["face"]), ACR_FACE.into()));
        assert_eq!(amr_and_acr(&[], true), (v(&["face"]), ACR_LIVE_FACE.into()));
    }
}
