//! Who is signed in, and the session cookie: the extractors handlers take ([`SignedIn`],
//! [`ClientMeta`], [`LoginContext`], [`SessionCookie`]) and the cookie as a response part
//! ([`CookieUpdate`]). The cookie is built and read here and nowhere else.
//!
//! Over HTTPS it is `__Host-facegate_session`: the browser then insists on `Secure`, `Path=/` and
//! no `Domain`, so a sibling subdomain cannot plant or overwrite it. Over plain HTTP (local use)
//! it is `facegate_session`. Always `HttpOnly` (no script reads it) and `SameSite=Lax`.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts, OptionalFromRequestParts},
    http::{
        HeaderMap, HeaderValue,
        header::{SET_COOKIE, USER_AGENT},
        request::Parts,
    },
    response::{IntoResponseParts, Response, ResponseParts},
};

use super::ClientInfo;
use crate::{
    accounts::ssr::{Accounts, ClientMeta, LoginContext, SessionToken, SignedIn, session, signed_in_user},
    config::Config,
    error::AppError,
};

pub(crate) const SESSION_COOKIE: &str = "facegate_session";
pub(crate) const SECURE_SESSION_COOKIE: &str = "__Host-facegate_session";

/// The cookie's shape for one request: its name and attributes follow whether the app is served
/// over HTTPS. An extractor; its [`Self::set`] and [`Self::clear`] are response parts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionCookie {
    secure: bool,
    lifetime: Duration,
}

impl SessionCookie {
    pub(crate) fn new(secure: bool, lifetime: Duration) -> Self {
        Self { secure, lifetime }
    }

    /// For a request: HTTPS as the front door resolved it (a trusted proxy's word counted), else
    /// as configured or forwarded.
    pub(crate) fn for_request(config: &Config, parts: &Parts) -> Self {
        let secure = parts
            .extensions
            .get::<ClientInfo>()
            .map_or_else(|| cookies_secure(config, &parts.headers), |client| client.https);
        Self::new(secure, config.accounts.session_lifetime())
    }

    fn name(&self) -> &'static str {
        if self.secure {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// The cookie of a new session, kept by the browser for the session's lifetime.
    pub(crate) fn set(&self, token: &SessionToken) -> CookieUpdate {
        CookieUpdate(format!(
            "{}={}; Max-Age={}; {}",
            self.name(),
            token.expose(),
            self.lifetime.as_secs(),
            self.attributes()
        ))
    }

    /// Deletes the session cookie.
    pub(crate) fn clear(&self) -> CookieUpdate {
        CookieUpdate(format!("{}=; Max-Age=0; {}", self.name(), self.attributes()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie
where
    Arc<Config>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::for_request(&Arc::<Config>::from_ref(state), parts))
    }
}

/// A `Set-Cookie` for the session cookie: a response part (`(cookie.set(&token), Json(body))`),
/// or added to a response built otherwise ([`Self::add_to`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CookieUpdate(String);

impl CookieUpdate {
    pub fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&self.0)
            .inspect_err(|e| tracing::error!("unusable Set-Cookie value: {e}"))
            .ok()
    }

    pub fn add_to(&self, response: &mut Response) {
        if let Some(value) = self.header_value() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }

    #[cfg(test)]
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl IntoResponseParts for CookieUpdate {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(value) = self.header_value() {
            parts.headers_mut().append(SET_COOKIE, value);
        }
        Ok(parts)
    }
}

/// The session token from a request's `Cookie` headers. Over HTTPS only
/// `__Host-facegate_session` counts: a plain `facegate_session` can be planted by a sibling
/// subdomain or an attacker on plain HTTP (session fixation), which the `__Host-` prefix rules
/// out. Over plain HTTP the `__Host-` one (set on `localhost`, which browsers treat as secure)
/// wins, then the plain one.
pub(crate) fn token_from_headers(headers: &HeaderMap, https: bool) -> Option<SessionToken> {
    let pairs: Vec<(&str, &str)> = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let names: &[&str] = if https {
        &[SECURE_SESSION_COOKIE]
    } else {
        &[SECURE_SESSION_COOKIE, SESSION_COOKIE]
    };
    names
        .iter()
        .find_map(|wanted| pairs.iter().find(|(name, _)| name == wanted))
        .map(|(_, value)| SessionToken::from_cookie(value))
}

/// Should cookies carry `Secure`? When configured so (or the public origin is https), or when a
/// trusted TLS proxy says it served HTTPS (decided by `crate::http`, which ignores an untrusted
/// client's `X-Forwarded-Proto`).
pub(crate) fn cookies_secure(config: &Config, headers: &HeaderMap) -> bool {
    super::cookie_secure_from_headers(config, headers)
}

fn not_signed_in() -> AppError {
    AppError::Unauthorized("Log in first.".into())
}

/// The signed-in user of the request's session cookie, from memory (`session::find`).
async fn signed_in(parts: &Parts, accounts: &Accounts) -> Result<Option<SignedIn>, AppError> {
    let https = SessionCookie::for_request(&accounts.config, parts).secure;
    let Some(token) = token_from_headers(&parts.headers, https) else {
        return Ok(None);
    };
    let Some(session) = session::find(accounts, &token).await? else {
        return Ok(None);
    };
    // The name comes from the gallery: no read of the users collection per page view. A
    // session whose account was deleted (here or on another instance) finds nobody.
    let Some(username) = accounts.gallery.username(&session.user_id) else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        user: signed_in_user(session.user_id, username, &session),
        user_id: session.user_id,
        session,
        token,
    }))
}

/// Refuses with 401 when nobody is signed in; `Option<SignedIn>` to allow that.
impl<S: Send + Sync> FromRequestParts<S> for SignedIn
where
    Accounts: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        signed_in(parts, &Accounts::from_ref(state))
            .await?
            .ok_or_else(not_signed_in)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedIn
where
    Accounts: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, AppError> {
        signed_in(parts, &Accounts::from_ref(state)).await
    }
}

/// User agents are free text chosen by the client: keep what a person needs to recognise a device.
const USER_AGENT_MAX: usize = 200;

/// Who sent a request, for the account's history: the address the front door resolved (a
/// trusted proxy's X-Forwarded-For counted), else the peer's, and the browser.
pub(crate) fn client_meta(parts: &Parts) -> ClientMeta {
    let address = parts
        .extensions
        .get::<ClientInfo>()
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
    ClientMeta { address, user_agent }
}

impl<S: Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(client_meta(parts))
    }
}

/// The client and the session the browser already had, for a login (which ends that session).
pub(crate) fn login_context(parts: &Parts) -> LoginContext {
    LoginContext {
        client: client_meta(parts),
        // Either cookie name: the old session is only ended, never used.
        previous: token_from_headers(&parts.headers, false),
    }
}

impl<S: Sync> FromRequestParts<S> for LoginContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(login_context(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_read_back_from_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "theme=dark; facegate_session=abc123".parse().expect("header"),
        );
        assert_eq!(
            token_from_headers(&headers, false).map(|t| t.expose().to_string()),
            Some("abc123".into())
        );
        assert!(
            token_from_headers(&headers, true).is_none(),
            "over HTTPS only the __Host- cookie counts"
        );
    }

    #[test]
    fn over_https_the_cookie_is_host_only_and_secure() {
        let token = SessionToken::from_cookie("abc123");
        assert_eq!(
            SessionCookie::new(true, Duration::from_secs(60))
                .set(&token)
                .as_str(),
            "__Host-facegate_session=abc123; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            SessionCookie::new(false, Duration::from_secs(60))
                .clear()
                .as_str(),
            "facegate_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "facegate_session=old; __Host-facegate_session=new"
                .parse()
                .expect("header"),
        );
        for https in [false, true] {
            assert_eq!(
                token_from_headers(&headers, https).map(|t| t.expose().to_string()),
                Some("new".into())
            );
        }
    }
}
