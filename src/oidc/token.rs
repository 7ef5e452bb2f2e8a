//! `POST /oauth2/token` (authorization code and refresh token grants, RFC 6749 §4.1.3 and §6)
//! and `GET|POST /oauth2/userinfo` (OIDC Core §5.3). Errors are RFC 6749 §5.2 JSON.

use std::collections::BTreeMap;

use axum::{
    Form, Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use mongodb::bson::{DateTime, doc, oid::ObjectId};
use serde::{Deserialize, Serialize};

use super::{
    Issuer, at_hash,
    clients::{self, Client},
    pkce, random_token,
    store::{self, Grant, RefreshDoc},
    subject, token_hash,
};
use crate::state::AppState;

/// An OAuth error response (RFC 6749 §5.2; RFC 6750 §3 for userinfo).
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// `WWW-Authenticate` to send (client authentication by Basic, bearer tokens).
    challenge: Option<String>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            challenge: None,
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    fn invalid_client(basic: bool) -> Self {
        Self {
            challenge: basic.then(|| "Basic realm=\"facegate\"".into()),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            )
        }
    }

    fn invalid_token(description: &str) -> Self {
        Self {
            challenge: Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{description}\""
            )),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
        }
    }

    fn server_error(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "OpenID Connect request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server failed; try again",
        )
    }
}

impl From<mongodb::error::Error> for OAuthError {
    fn from(e: mongodb::error::Error) -> Self {
        Self::server_error(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
            .headers_mut()
            .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Claims of an access token (a JWT, RFC 9068 `at+jwt`): what userinfo answers from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: String,
    pub(crate) client_id: String,
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) jti: String,
    /// The grant: revoking it ends this token.
    pub(crate) sid: String,
    pub(crate) scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// Claims of an ID token (OIDC Core §2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: String,
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    pub(crate) acr: String,
    pub(crate) amr: Vec<String>,
    pub(crate) at_hash: String,
    pub(crate) sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) preferred_username: Option<String>,
}

type Params = BTreeMap<String, String>;

pub async fn token(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    match exchange(&state, &iss, &headers, &params).await {
        Ok(body) => (StatusCode::OK, [(header::PRAGMA, "no-cache")], Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `client_secret_basic` (RFC 6749 §2.3.1: both parts form-encoded) or `client_secret_post`, or
/// a public client's bare `client_id`. Exactly one way.
async fn authenticate(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<Client, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .map(|b64| {
            let decoded = STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let (id, secret) = decoded
                .as_deref()
                .and_then(|d| d.split_once(':'))
                .ok_or_else(|| OAuthError::invalid_client(true))?;
            let unescape = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Ok::<_, OAuthError>((
                unescape(id).unwrap_or_default(),
                unescape(secret).unwrap_or_default(),
            ))
        })
        .transpose()?;
    let posted_secret = params.get("client_secret").cloned();
    let (client_id, secret, by_basic) = match (basic, posted_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|posted| *posted != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(secret), true)
        }
        (None, secret) => {
            let id = params
                .get("client_id")
                .cloned()
                .ok_or_else(|| OAuthError::invalid_client(false))?;
            (id, secret, false)
        }
    };
    let client = state
        .oidc
        .clients
        .get(&client_id)
        .ok_or_else(|| OAuthError::invalid_client(by_basic))?;
    match (&client.secret_hash, secret) {
        (None, None) => Ok(client),
        (Some(hash), Some(secret)) => {
            let hash = hash.clone();
            let matches = tokio::task::spawn_blocking(move || clients::secret_matches(&hash, &secret))
                .await
                .unwrap_or(false);
            if matches {
                Ok(client)
            } else {
                tracing::info!(client = %client.id, "token request with a wrong client secret");
                Err(OAuthError::invalid_client(by_basic))
            }
        }
        _ => Err(OAuthError::invalid_client(by_basic)),
    }
}

async fn exchange(
    state: &AppState,
    iss: &str,
    headers: &HeaderMap,
    params: &Params,
) -> Result<serde_json::Value, OAuthError> {
    let client = authenticate(state, headers, params).await?;
    match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => redeem_code(state, &client, iss, params).await,
        Some("refresh_token") => refresh(state, &client, iss, params).await,
        Some(_) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

async fn redeem_code(
    state: &AppState,
    client: &Client,
    iss: &str,
    params: &Params,
) -> Result<serde_json::Value, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let hash = token_hash(code);
    let doc = state
        .db
        .oidc_codes()
        .find_one(doc! { "_id": &hash })
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the code is unknown or expired"))?;
    // Bound to its client, redirect URI and PKCE verifier; checked before it is used up, so a
    // stranger holding a stolen code cannot spend it.
    if doc.grant.client_id != client.id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if params.get("redirect_uri") != Some(&doc.redirect_uri) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (&doc.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verify(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("the PKCE code_verifier is wrong")),
        (Some(_), None) => return Err(OAuthError::invalid_grant("the PKCE code_verifier is missing")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "a code_verifier for a request without code_challenge",
            ));
        }
        (None, None) => {}
    }
    if doc.expires_at < DateTime::now() {
        return Err(OAuthError::invalid_grant("the code is unknown or expired"));
    }
    let lifetime = state.config.oidc.refresh_token_lifetime();
    if !store::redeem(&state.db, &hash, &doc.grant.grant_id, store::after(lifetime)).await? {
        // RFC 6749 §4.1.2: a code used twice revokes what it gave.
        store::revoke(
            &state.db,
            &doc.grant.grant_id,
            "authorization code reused",
            store::after(lifetime),
        )
        .await?;
        tracing::warn!(client = %client.id, "an authorization code was used twice: its tokens are revoked");
        return Err(OAuthError::invalid_grant(
            "the code was used already; the tokens it gave are revoked",
        ));
    }
    let expires_at = store::after(lifetime);
    issue(
        state,
        client,
        iss,
        &doc.grant,
        doc.nonce.as_deref(),
        Some(expires_at),
    )
    .await
}

async fn refresh(
    state: &AppState,
    client: &Client,
    iss: &str,
    params: &Params,
) -> Result<serde_json::Value, OAuthError> {
    let token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let hash = token_hash(token);
    let doc = state
        .db
        .oidc_refresh_tokens()
        .find_one(doc! { "_id": &hash })
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is unknown or expired"))?;
    if doc.grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if doc.expires_at < DateTime::now() || !client.refresh_tokens {
        return Err(OAuthError::invalid_grant(
            "the refresh token is unknown or expired",
        ));
    }
    if params.get("scope").is_some_and(|scope| {
        scope
            .split_whitespace()
            .any(|s| !doc.grant.scopes.iter().any(|g| g == s))
    }) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "a refresh cannot widen the scopes",
        ));
    }
    let keep = store::after(state.config.oidc.refresh_token_lifetime());
    if !store::redeem(&state.db, &hash, &doc.grant.grant_id, keep).await? {
        // Rotated tokens are single use: a second use means two holders, one of them a thief.
        store::revoke(&state.db, &doc.grant.grant_id, "refresh token reused", keep).await?;
        tracing::warn!(client = %client.id, "a refresh token was used twice: its grant is revoked");
        return Err(OAuthError::invalid_grant(
            "the refresh token was used already; this sign-in is revoked",
        ));
    }
    if store::is_revoked(&state.db, &doc.grant.grant_id).await? {
        return Err(OAuthError::invalid_grant("this sign-in was revoked"));
    }
    let consent = store::consent(&state.db, &doc.grant.user_id, &client.id).await?;
    if !consent.is_some_and(|c| doc.grant.scopes.iter().all(|s| c.scopes.contains(s))) {
        return Err(OAuthError::invalid_grant(
            "the person withdrew their consent for this application",
        ));
    }
    issue(state, client, iss, &doc.grant, None, Some(doc.expires_at)).await
}

/// Access token, ID token and (for clients that have them) a refresh token ending at
/// `refresh_until`.
async fn issue(
    state: &AppState,
    client: &Client,
    iss: &str,
    grant: &Grant,
    nonce: Option<&str>,
    refresh_until: Option<DateTime>,
) -> Result<serde_json::Value, OAuthError> {
    let username = state
        .gallery
        .username(&grant.user_id)
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    let email = if has("email") {
        Some(email_of(state, grant.user_id).await?)
    } else {
        None
    };
    let name = has("profile").then(|| username.clone());
    let keys = state.oidc.keys();
    let sub = subject(&keys, client, &grant.user_id);
    let now = DateTime::now().timestamp_millis() / 1000;
    let lifetime = state.config.oidc.oidc_access_token_secs as i64;
    let access = AccessClaims {
        iss: iss.to_string(),
        sub: sub.clone(),
        aud: client.id.clone(),
        client_id: client.id.clone(),
        exp: now + lifetime,
        iat: now,
        jti: random_token(),
        sid: grant.grant_id.clone(),
        scope: grant.scopes.join(" "),
        email: email.clone(),
        name: name.clone(),
    };
    let access_token = keys.sign("at+jwt", &access).map_err(OAuthError::server_error)?;
    let id = IdClaims {
        iss: iss.to_string(),
        sub,
        aud: client.id.clone(),
        exp: now + lifetime,
        iat: now,
        auth_time: grant.auth_time.timestamp_millis() / 1000,
        nonce: nonce.map(str::to_string),
        acr: grant.acr.clone(),
        amr: grant.amr.clone(),
        at_hash: at_hash(&access_token),
        sid: grant.grant_id.clone(),
        email_verified: email.as_ref().map(|_| false),
        email,
        preferred_username: name.clone(),
        name,
    };
    let id_token = keys.sign("JWT", &id).map_err(OAuthError::server_error)?;
    let mut body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id_token": id_token,
        "scope": grant.scopes.join(" "),
    });
    if let (true, Some(expires_at)) = (client.refresh_tokens, refresh_until) {
        let refresh_token = random_token();
        let doc = RefreshDoc {
            hash: token_hash(&refresh_token),
            grant: grant.clone(),
            expires_at,
        };
        state.db.oidc_refresh_tokens().insert_one(&doc).await?;
        body["refresh_token"] = refresh_token.into();
    }
    Ok(body)
}

/// The account's email: one read of the users collection per token exchange (by `_id`).
async fn email_of(state: &AppState, user_id: ObjectId) -> Result<String, OAuthError> {
    let user = state
        .db
        .database()
        .collection::<mongodb::bson::Document>(crate::db::users::COLLECTION)
        .find_one(doc! { "_id": user_id })
        .projection(doc! { "email": 1 })
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    Ok(user.get_str("email").unwrap_or_default().to_string())
}

/// `GET|POST /oauth2/userinfo` with `Authorization: Bearer <access token>`.
pub async fn userinfo(State(state): State<AppState>, Issuer(iss): Issuer, headers: HeaderMap) -> Response {
    match userinfo_claims(&state, &iss, &headers).await {
        Ok(claims) => Json(claims).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn userinfo_claims(
    state: &AppState,
    iss: &str,
    headers: &HeaderMap,
) -> Result<serde_json::Value, OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| OAuthError {
            challenge: Some("Bearer".into()),
            ..OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "send the access token as Authorization: Bearer",
            )
        })?;
    let claims = verify_access_token(state, iss, token.trim()).await?;
    let has = |scope: &str| claims.scope.split_whitespace().any(|s| s == scope);
    let mut body = serde_json::json!({ "sub": claims.sub });
    if has("email") {
        body["email"] = claims.email.into();
        body["email_verified"] = false.into();
    }
    if has("profile") {
        body["name"] = claims.name.clone().into();
        body["preferred_username"] = claims.name.into();
    }
    Ok(body)
}

/// A valid, unexpired, unrevoked access token of this issuer.
pub async fn verify_access_token(
    state: &AppState,
    iss: &str,
    token: &str,
) -> Result<AccessClaims, OAuthError> {
    let claims: AccessClaims = state
        .oidc
        .keys()
        .verify("at+jwt", token)
        .map_err(|e| OAuthError::invalid_token(&e.to_string()))?;
    if claims.iss != iss {
        return Err(OAuthError::invalid_token("the token is from another issuer"));
    }
    if claims.exp <= DateTime::now().timestamp_millis() / 1000 {
        return Err(OAuthError::invalid_token("the token has expired"));
    }
    if store::is_revoked(&state.db, &claims.sid).await? {
        return Err(OAuthError::invalid_token("the token was revoked"));
    }
    Ok(claims)
}
