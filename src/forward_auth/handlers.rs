//! The forward-auth routes and the login page's shortcut for people already signed in.

use std::net::SocketAddr;

use axum::{
    Router,
    extract::{ConnectInfo, OptionalFromRequestParts, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{any, get},
};
use axum_extra::extract::cookie::CookieJar;
use mongodb::bson::{DateTime, Document, doc};
use url::Url;

use super::{
    CHECK_PATH, ENTER_PATH, FORWARD_COOKIE,
    grants::Grant,
    return_to::{ReturnTo, encode},
};
use crate::{
    accounts::ssr::{SessionToken, SignedIn, session},
    error::AppError,
    state::AppState,
};

const X_ORIGINAL_URL: HeaderName = HeaderName::from_static("x-original-url");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");

/// The proxy's question and the hand-out of the forward-auth cookie.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(CHECK_PATH, any(check))
        .route(ENTER_PATH, get(enter))
}

/// `ANY /api/forward-auth[?status=401]`, asked by the reverse proxy. Signed in (a live
/// forward-auth grant) → 200 with the user's headers. Otherwise 302 to the login page, coming
/// back to the original URL — or, with `status=401` (nginx's `auth_request` takes only 2xx,
/// 401 and 403), 401 with that same `Location` for nginx to redirect to.
pub(super) async fn check(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers();
    match signed_in_user(&state, headers).await {
        Ok(Some(user)) => return user,
        Ok(None) => {}
        Err(error) => return error.into_response(),
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical());
    let trusted = peer.is_some_and(|ip| state.config.http.trusted_proxies.contains(ip));
    let settings = &state.config.forward_auth;
    let back_to = if trusted {
        original_url(headers).and_then(|url| {
            let checked = ReturnTo::check(&url, &settings.forward_auth_domains);
            if checked.is_none() {
                tracing::warn!(
                    %url,
                    "forward auth: the original URL is not an https page of forward-auth-domains; the login will not return to it"
                );
            }
            checked
        })
    } else {
        tracing::warn!(
            ?peer,
            "forward auth asked by a peer that is not in trusted-proxies: its X-Forwarded-*/X-Original-URL are ignored"
        );
        None
    };
    let origin = state
        .config
        .http
        .public_origin
        .as_ref()
        .map_or("", |origin| origin.as_str());
    let login = match back_to {
        Some(ReturnTo::Forward(url)) => format!("{origin}/login?return_to={}", encode(url.as_str())),
        _ => format!("{origin}/login"),
    };
    let wants_401 = request
        .uri()
        .query()
        .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "status" && v == "401"));
    let status = if wants_401 {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::FOUND
    };
    redirect(status, &login)
}

/// The user behind the request's forward-auth cookie, as the 200 answer to the proxy. Memory
/// only: the grant, the session, the name in the gallery.
async fn signed_in_user(state: &AppState, headers: &HeaderMap) -> Result<Option<Response>, AppError> {
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(FORWARD_COOKIE) else {
        return Ok(None);
    };
    let token = SessionToken::from_cookie(cookie.value());
    let Some(grant) = state.forward_grants.get(&token) else {
        return Ok(None);
    };
    let live = session::find_by_hash(&state.accounts, grant.session_hash.clone()).await?;
    let username = live.and_then(|_| state.gallery.username(&grant.user_id));
    let Some(username) = username else {
        // Logged out, expired, or the account is gone: so is the grant.
        state.forward_grants.remove(&token);
        return Ok(None);
    };
    let settings = &state.config.forward_auth;
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    // Names may hold any letter (UTF-8, sent as raw bytes as other gateways do); neither they
    // nor emails can hold control characters, so these never fail.
    for (name, value) in [
        (&settings.forward_auth_user_header, username.as_str()),
        (&settings.forward_auth_email_header, grant.email.as_str()),
        (&settings.forward_auth_name_header, username.as_str()),
    ] {
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            out.insert(name.clone(), value);
        }
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(Some(response))
}

/// The URL the browser asked the proxy for: nginx's `X-Original-URL`, else Caddy's and
/// Traefik's `X-Forwarded-Proto` + `-Host` + `-Uri`. Only called for a trusted proxy.
fn original_url(headers: &HeaderMap) -> Option<String> {
    let last = |name: &HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .next_back()
            .filter(|v| !v.is_empty())
    };
    if let Some(url) = headers.get(X_ORIGINAL_URL).and_then(|v| v.to_str().ok()) {
        return Some(url.trim().to_string());
    }
    let proto = last(&X_FORWARDED_PROTO)?;
    let host = last(&X_FORWARDED_HOST)?;
    let uri = headers
        .get(X_FORWARDED_URI)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/");
    if !uri.starts_with('/') {
        return None;
    }
    Some(format!("{proto}://{host}{uri}"))
}

#[derive(serde::Deserialize)]
pub(super) struct EnterQuery {
    return_to: Option<String>,
}

/// `GET /api/forward-auth/enter?return_to=URL`, on facegate's own host. Signed in → hands out
/// the forward-auth cookie for the URL's domain and sends the browser back to the URL; not
/// signed in → the login page, which comes back here. A URL outside the forward-auth domains
/// ends on the welcome page.
pub(super) async fn enter(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<EnterQuery>,
    signed_in: Option<SignedIn>,
) -> Response {
    let domains = &state.config.forward_auth.forward_auth_domains;
    let url = match query.return_to.and_then(|raw| ReturnTo::check(&raw, domains)) {
        Some(ReturnTo::Forward(url)) => url,
        Some(ReturnTo::Local(path)) => return redirect(StatusCode::SEE_OTHER, &path),
        None => return redirect(StatusCode::SEE_OTHER, "/welcome"),
    };
    let Some(signed_in) = signed_in else {
        let login = format!("/login?return_to={}", encode(url.as_str()));
        return redirect(StatusCode::SEE_OTHER, &login);
    };
    match mint(&state, &signed_in, &url).await {
        Ok(cookie) => {
            let mut response = redirect(StatusCode::SEE_OTHER, url.as_str());
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

/// A grant for `signed_in`'s session and `url`'s domain; returns its `Set-Cookie`.
async fn mint(state: &AppState, signed_in: &SignedIn, url: &Url) -> Result<String, AppError> {
    let domain = url
        .host_str()
        .and_then(|host| state.config.forward_auth.forward_auth_domains.covering(host))
        .ok_or_else(|| AppError::Internal("a checked forward-auth URL without its domain".into()))?
        .to_string();
    // One read by `_id` per login and domain, not per request.
    let user = state
        .db
        .users()
        .clone_with_type::<Document>()
        .find_one(doc! { "_id": signed_in.user_id })
        .projection(doc! { "email": 1 })
        .await?;
    let email = user
        .as_ref()
        .and_then(|user| user.get_str("email").ok())
        .unwrap_or_default()
        .to_string();
    let lifetime_ms = signed_in.session.expires_at.timestamp_millis() - DateTime::now().timestamp_millis();
    let token = state.forward_grants.mint(Grant {
        session_hash: signed_in.session.token_hash.clone(),
        user_id: signed_in.user_id,
        email,
        domain: domain.clone(),
    });
    Ok(format!(
        "{FORWARD_COOKIE}={}; Domain={domain}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        token.expose(),
        (lifetime_ms / 1000).max(0)
    ))
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Middleware for `GET /login?return_to=…`: someone already signed in goes straight on (an OIDC
/// authorization, or an application behind forward auth whose cookie is missing), with no face
/// check to sit through.
pub async fn login_shortcut(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || request.uri().path() != "/login" {
        return next.run(request).await;
    }
    let domains = &state.config.forward_auth.forward_auth_domains;
    let target = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "return_to")
            .and_then(|(_, value)| ReturnTo::check(&value, domains))
    });
    let Some(target) = target else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let signed_in = <SignedIn as OptionalFromRequestParts<AppState>>::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .flatten();
    if signed_in.is_some() {
        return redirect(StatusCode::SEE_OTHER, &target.destination());
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_original_url_comes_from_either_proxy_convention() {
        let caddy = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "app.example.test"),
            ("x-forwarded-uri", "/private?x=1"),
        ]);
        assert_eq!(
            original_url(&caddy).as_deref(),
            Some("https://app.example.test/private?x=1")
        );
        let nginx = headers(&[("x-original-url", "https://app.example.test/p")]);
        assert_eq!(
            original_url(&nginx).as_deref(),
            Some("https://app.example.test/p")
        );
        // A URI that is not a path would glue onto the host: `@evil.example/` as user info.
        let glued = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "app.example.test"),
            ("x-forwarded-uri", "@evil.example/"),
        ]);
        assert_eq!(original_url(&glued), None);
        assert_eq!(original_url(&HeaderMap::new()), None);
    }
}
