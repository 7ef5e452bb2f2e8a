//! How handlers learn who is asking: axum extractors, used by the REST handlers directly and by
//! the server functions through `server_fns::ssr::extract`.

use axum::{
    extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts},
    http::{header::USER_AGENT, request::Parts},
};
use mongodb::bson::oid::ObjectId;

use super::{SessionToken, session, token_from_headers};
use crate::{accounts::SignedInUser, db::sessions::SessionDoc, error::AppError, state::AppState};

/// The signed-in user of the request's session cookie; refuses with 401 when there is none.
pub struct SignedIn {
    pub user: SignedInUser,
    pub user_id: ObjectId,
    pub session: SessionDoc,
    pub token: SessionToken,
}

fn not_signed_in() -> AppError {
    AppError::Unauthorized("Log in first.".into())
}

impl SignedIn {
    async fn from_parts(parts: &Parts, state: &AppState) -> Result<Option<Self>, AppError> {
        let https = parts.extensions.get::<crate::http::ClientInfo>().map_or_else(
            || super::cookies_secure(state, &parts.headers),
            |client| client.https,
        );
        let Some(token) = token_from_headers(&parts.headers, https) else {
            return Ok(None);
        };
        let Some(session) = session::find(state, &token).await? else {
            return Ok(None);
        };
        // The name comes from the gallery: no read of the users collection per page view. A
        // session whose account was deleted (here or on another instance) finds nobody.
        let Some(username) = state.gallery.username(&session.user_id) else {
            return Ok(None);
        };
        Ok(Some(Self {
            user: super::signed_in_user(session.user_id, username, &session),
            user_id: session.user_id,
            session,
            token,
        }))
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Self::from_parts(parts, state).await?.ok_or_else(not_signed_in)
    }
}

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, AppError> {
        Self::from_parts(parts, state).await
    }
}

/// Who sent a request, as recorded in the account history: the client address and browser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientMeta {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// User agents are free text chosen by the client: keep what a person needs to recognise a device.
const USER_AGENT_MAX: usize = 200;

impl ClientMeta {
    pub fn from_parts(parts: &Parts) -> Self {
        // The address the front door resolved (a trusted proxy's X-Forwarded-For counted), else
        // the peer's.
        let address = parts
            .extensions
            .get::<crate::http::ClientInfo>()
            .map(|client| client.ip.to_string())
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<std::net::SocketAddr>>()
                    .map(|ConnectInfo(addr)| addr.ip().to_string())
            });
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(USER_AGENT_MAX).collect());
        Self { address, user_agent }
    }
}

impl<S: Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}
