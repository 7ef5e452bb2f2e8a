//! facegate as an OpenID Connect provider (docs/oidc.md): discovery, JWKS, the authorization
//! code flow with PKCE, tokens, userinfo and RP-initiated logout, for clients the operator
//! registered. The login behind it is facegate's own: live face check, then PIN or passkey.

pub mod authorize;
pub mod cli;
pub mod clients;
pub mod keys;
pub mod logout;
pub mod pkce;
pub mod store;
pub mod token;
mod watched;

use std::{path::PathBuf, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderMap, header, request::Parts},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{config::Config, state::AppState};

/// How long an authorization code may wait for its exchange.
pub const CODE_TTL: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug, Clone)]
pub struct OidcSettings {
    /// The OpenID Connect signing keys (RS256, mode 0600), created at the first start when
    /// missing; `facegate keys signing rotate` rotates them (docs/oidc.md).
    #[arg(long, env = "FACEGATE_OIDC_KEY_FILE", default_value = "data/oidc-keys")]
    pub oidc_key_file: PathBuf,

    /// The registered OpenID Connect clients (`[[clients]]`; `facegate clients add`). Missing:
    /// no clients.
    #[arg(
        long,
        env = "FACEGATE_OIDC_CLIENTS_FILE",
        default_value = "data/oidc-clients.toml"
    )]
    pub oidc_clients_file: PathBuf,

    /// Lifetime of access tokens (and ID tokens), in seconds.
    #[arg(long, env = "FACEGATE_OIDC_ACCESS_TOKEN_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(30..=3600))]
    pub oidc_access_token_secs: u64,

    /// Lifetime of a refresh token chain from its login, in days (for clients that have them).
    #[arg(long, env = "FACEGATE_OIDC_REFRESH_TOKEN_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=365))]
    pub oidc_refresh_token_days: u64,
}

impl OidcSettings {
    pub fn access_token_lifetime(&self) -> Duration {
        Duration::from_secs(self.oidc_access_token_secs)
    }

    pub fn refresh_token_lifetime(&self) -> Duration {
        Duration::from_secs(self.oidc_refresh_token_days * 24 * 3600)
    }
}

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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth2/jwks", get(jwks))
        .route(
            "/oauth2/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/oauth2/token", post(token::token))
        .route("/oauth2/userinfo", get(token::userinfo).post(token::userinfo))
        .route(
            "/oauth2/logout",
            get(logout::logout_get).post(logout::logout_post),
        )
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
pub fn issuer(config: &Config, parts: &Parts) -> String {
    if let Some(origin) = &config.http.public_origin {
        return origin.as_str().trim_end_matches('/').to_string();
    }
    let https = parts
        .extensions
        .get::<crate::http::ClientInfo>()
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

impl axum::extract::FromRequestParts<AppState> for Issuer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(issuer(&state.config, parts)))
    }
}

async fn discovery(Issuer(iss): Issuer) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth2/authorize"),
        "token_endpoint": format!("{iss}/oauth2/token"),
        "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
        "jwks_uri": format!("{iss}/oauth2/jwks"),
        "end_session_endpoint": format!("{iss}/oauth2/logout"),
        "scopes_supported": clients::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "sid", "email", "email_verified", "name", "preferred_username"],
        "acr_values_supported": [ACR_LIVE_FACE_PIN, ACR_LIVE_FACE_PASSKEY, ACR_LIVE_FACE, ACR_FACE_PIN, ACR_FACE_PASSKEY, ACR_FACE],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
}

async fn jwks(axum::extract::State(state): axum::extract::State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.oidc.keys().jwks())
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
