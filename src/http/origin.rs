//! Cross-site requests refused: a state-changing request (any method but GET, HEAD, OPTIONS) and
//! a WebSocket upgrade (a cross-site page could open the live socket) must come from the app's
//! own origin. Browsers mark every such request with `Sec-Fetch-Site` or `Origin`; a request with
//! neither comes from a non-browser client (curl, an API client), which carries no victim's
//! cookies, and is let through.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{ClientInfo, settings::PublicOrigin};
use crate::{config::Config, error::AppError};

const SEC_FETCH_SITE: &str = "sec-fetch-site";

pub const CROSS_SITE_MESSAGE: &str =
    "This request came from another website and was refused. Open facegate itself and try again.";

/// Middleware: 403 `forbidden` for a cross-site state-changing request or WebSocket upgrade.
pub async fn refuse_cross_site(State(config): State<Arc<Config>>, request: Request, next: Next) -> Response {
    // A reverse proxy asking about a guarded application's request passes on that request's
    // method and browser headers (another site's, by design); the answer changes nothing.
    let forward_auth = request.uri().path() == crate::forward_auth::CHECK_PATH;
    if !forward_auth && needs_origin_check(request.method(), request.uri().path(), request.headers()) {
        let https = request
            .extensions()
            .get::<ClientInfo>()
            .map_or_else(|| super::client::configured_https(&config), |client| client.https);
        if let Err(reason) = check_same_origin(&config, https, &request) {
            tracing::info!(
                method = %request.method(),
                path = request.uri().path(),
                reason,
                "cross-site request refused"
            );
            return AppError::Forbidden {
                code: "forbidden",
                message: CROSS_SITE_MESSAGE.into(),
            }
            .into_response();
        }
    }
    next.run(request).await
}

/// `GET` routes that act as well as read, checked like state-changing requests: the export
/// writes an entry in the history and hands a file to the browser, and a link on another site
/// (a top-level navigation, which carries the `SameSite=Lax` cookie) must not trigger it.
pub const GUARDED_READS: &[&str] = &["/api/account/export"];

fn needs_origin_check(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    // A relying party's form may post its OpenID Connect requests from its own site.
    let safe = (matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !GUARDED_READS.contains(&path))
        || crate::oidc::accepts_cross_site(path);
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    !safe || upgrade
}

fn check_same_origin(config: &Config, https: bool, request: &Request) -> Result<(), &'static str> {
    let headers = request.headers();
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        // `none`: typed into the address bar or a bookmark; `same-site` is a sibling subdomain,
        // which is another origin all the same.
        let site = site.to_str().unwrap_or_default();
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Err("Sec-Fetch-Site is not same-origin");
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(PublicOrigin::normalise)
        .ok_or("Origin is not an http(s) origin")?;
    let expected = match &config.http.public_origin {
        // Behind a proxy the Host header may be internal: the configured origin is the truth,
        // and it also defeats DNS rebinding (a page whose own name points at this server).
        Some(public) => Some(public.as_str().to_string()),
        None => own_origin(request, https),
    };
    match expected {
        Some(expected) if expected == origin => Ok(()),
        _ => Err("Origin is not this site"),
    }
}

/// `scheme://host` of the request itself: its scheme as the client saw it and its Host.
fn own_origin(request: &Request, https: bool) -> Option<String> {
    let host = request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_string())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })?;
    let scheme = if https { "https" } else { "http" };
    PublicOrigin::normalise(&format!("{scheme}://{host}"))
}
