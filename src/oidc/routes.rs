//! The provider's routes: discovery and keys here, the flows in their own files.

use axum::{
    Router,
    extract::State,
    routing::{get, post},
};

use super::{
    ACR_FACE, ACR_FACE_PASSKEY, ACR_FACE_PIN, ACR_LIVE_FACE, ACR_LIVE_FACE_PASSKEY, ACR_LIVE_FACE_PIN,
    Issuer, Provider, authorize, clients, logout, token,
};
use crate::state::AppState;

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

async fn jwks(State(provider): State<Provider>) -> axum::Json<serde_json::Value> {
    axum::Json(provider.keys().jwks())
}
