//! Security headers on every response (pages, API, errors, static files), and the per-response
//! nonce that lets Leptos' own inline scripts run under a CSP without `'unsafe-inline'`.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

/// This response's CSP nonce, in the request's extensions for the page shell.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

impl CspNonce {
    fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes).into())
    }
}

/// What the CSP allows besides the nonce; fixed at start-up.
#[derive(Clone, Debug, Default)]
pub struct CspSettings {
    /// `cargo leptos watch` reloads the page over a WebSocket on its own port.
    pub allow_dev_reload_socket: bool,
}

impl CspSettings {
    pub fn from_env() -> Self {
        Self {
            allow_dev_reload_socket: std::env::var_os("LEPTOS_WATCH").is_some(),
        }
    }

    /// The policy for one response:
    /// - scripts: our own files, inline scripts carrying this nonce (Leptos' hydration and
    ///   streaming scripts), and compiling the app's wasm (`'wasm-unsafe-eval'`, not `eval`);
    /// - connections: same origin only; CSP 3 lets `'self'` cover the same host's `ws:`/`wss:`,
    ///   which the live check's socket uses;
    /// - styles: our stylesheet; inline `style=""` attributes for the face box and progress bar
    ///   (positions in percent), but no `<style>` elements;
    /// - the camera reaches `<video>` through `srcObject` and frames go through a canvas: neither
    ///   is a fetch, so media and images stay `'self'` (`data:` for small inline images).
    pub fn policy(&self, nonce: &CspNonce) -> String {
        let reload = if self.allow_dev_reload_socket {
            " ws: wss:"
        } else {
            ""
        };
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; \
             style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
             media-src 'self'; connect-src 'self'{reload}; font-src 'self'; worker-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            nonce.0
        )
    }
}

/// Everything the app uses is the camera; every other powerful feature is off.
const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), \
     serial=(), hid=(), bluetooth=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=(), \
     display-capture=(), screen-wake-lock=(), browsing-topics=()";

const PERMISSIONS_POLICY_HEADER: HeaderName = HeaderName::from_static("permissions-policy");
const COOP_HEADER: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const CORP_HEADER: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

/// Middleware: a fresh nonce into the request, the security headers onto the response.
pub async fn add_security_headers(
    State(csp): State<Arc<CspSettings>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = CspNonce::generate();
    let cacheable = is_static_asset(request.uri().path());
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&csp.policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    set_fixed_headers(headers);
    if !cacheable {
        // Pages show the signed-in name and API answers are personal: never stored.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn set_fixed_headers(headers: &mut HeaderMap) {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (PERMISSIONS_POLICY_HEADER, PERMISSIONS_POLICY),
        (COOP_HEADER, "same-origin"),
        (CORP_HEADER, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// HSTS lifetime when `hsts` is on: a year, the usual value (and what preload lists ask for).
/// No `includeSubDomains`: facegate does not speak for its sibling hosts.
pub const HSTS: &str = "max-age=31536000";

/// Middleware (inside [`super::client::attach_client_info`]): `Strict-Transport-Security` on
/// every response to a client served over HTTPS, when the `hsts` setting is on. Browsers ignore
/// it over plain HTTP, so it is not sent there.
pub async fn add_hsts(State(on): State<bool>, request: Request, next: Next) -> Response {
    let https = request
        .extensions()
        .get::<super::ClientInfo>()
        .is_some_and(|client| client.https);
    let mut response = next.run(request).await;
    if on && https {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}

/// The built JS/wasm/CSS under `/pkg/` and the favicon may be cached (revalidated by their ETag
/// and Last-Modified: their names do not change between builds).
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.ico"
}

/// For the page shell: hands Leptos this response's nonce, so the hydration script and the
/// streamed `<script>` chunks carry the one the CSP header names.
pub fn provide_csp_nonce() {
    let nonce = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(value)) = nonce {
        leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_forbids_inline_script_without_the_nonce() {
        let nonce = CspNonce::generate();
        let policy = CspSettings::default().policy(&nonce);
        assert!(policy.contains(&format!(
            "script-src 'self' 'nonce-{}' 'wasm-unsafe-eval';",
            nonce.0
        )));
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .expect("script-src");
        assert!(!script_src.contains("unsafe-inline"), "{script_src}");
        for directive in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(directive), "{directive} missing from {policy}");
        }
        assert_ne!(nonce.0, CspNonce::generate().0);
        assert_eq!(nonce.0.len(), 22); // 128 bits
    }
}
