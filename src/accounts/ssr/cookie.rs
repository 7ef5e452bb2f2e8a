//! The session cookie, built and read here and nowhere else.
//!
//! Over HTTPS it is `__Host-facegate_session`: the browser then insists on `Secure`, `Path=/` and
//! no `Domain`, so a sibling subdomain cannot plant or overwrite it. Over plain HTTP (local use)
//! it is `facegate_session`. Always `HttpOnly` (no script reads it) and `SameSite=Lax`.

use std::time::Duration;

use axum::http::HeaderMap;

use super::SessionToken;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "facegate_session";
pub const SECURE_SESSION_COOKIE: &str = "__Host-facegate_session";

/// The cookie's shape for one request: its name and attributes follow whether the app is served
/// over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct SessionCookie {
    secure: bool,
}

impl SessionCookie {
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    /// For a request: HTTPS as configured, or as a trusted proxy reports it.
    pub fn for_request(state: &AppState, headers: &HeaderMap) -> Self {
        Self::new(cookies_secure(state, headers))
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

    /// `Set-Cookie` for a new session that the browser keeps for `lifetime`.
    pub fn set(&self, token: &SessionToken, lifetime: Duration) -> String {
        format!(
            "{}={}; Max-Age={}; {}",
            self.name(),
            token.expose(),
            lifetime.as_secs(),
            self.attributes()
        )
    }

    /// `Set-Cookie` that deletes the session cookie.
    pub fn clear(&self) -> String {
        format!("{}=; Max-Age=0; {}", self.name(), self.attributes())
    }
}

/// The session token from a request's `Cookie` headers. Over HTTPS only
/// `__Host-facegate_session` counts: a plain `facegate_session` can be planted by a sibling
/// subdomain or an attacker on plain HTTP (session fixation), which the `__Host-` prefix rules
/// out. Over plain HTTP the `__Host-` one (set on `localhost`, which browsers treat as secure)
/// wins, then the plain one.
pub fn token_from_headers(headers: &HeaderMap, https: bool) -> Option<SessionToken> {
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
pub fn cookies_secure(state: &AppState, headers: &HeaderMap) -> bool {
    crate::http::cookie_secure_from_headers(&state.config, headers)
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
            SessionCookie::new(true).set(&token, Duration::from_secs(60)),
            "__Host-facegate_session=abc123; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            SessionCookie::new(false).clear(),
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
