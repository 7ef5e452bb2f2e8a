//! The HTTP front door, around every route: who the client is ([`ClientInfo`]), cross-site
//! requests refused ([`origin`]), security headers with a per-response CSP nonce ([`headers`]),
//! throttling per client address ([`throttle`]), and admission for the face routes
//! ([`admission`]: how many logins and registrations at once). docs/security.md describes the behaviour.

pub mod admission;
pub mod client;
pub mod headers;
pub mod origin;
pub mod settings;
pub mod throttle;

use std::sync::Arc;

use axum::{Router, middleware::from_fn_with_state};

pub use client::{ClientInfo, configured_https, cookie_secure, cookie_secure_from_headers};
pub use headers::{CspSettings, provide_csp_nonce};
pub use settings::HttpSettings;
pub use throttle::{THROTTLED_ROUTES, Throttle, ThrottleClass};

use crate::state::AppState;

/// Wraps `router` in the front door. From the outside in: security headers (so that every
/// refusal below carries them too), client info, the cross-site check, the throttle, admission.
pub fn protect(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let config = Arc::clone(&state.config);
    let throttle = Throttle::from_settings(&config.http);
    if let Some(throttle) = &throttle {
        Throttle::sweep_in_background(throttle);
    }
    let admission = admission::Admission::new(&config.http, state.faces.workers());
    router
        .layer(from_fn_with_state(admission, admission::enforce))
        .layer(from_fn_with_state(throttle, throttle::enforce))
        .layer(from_fn_with_state(Arc::clone(&config), origin::refuse_cross_site))
        .layer(from_fn_with_state(config, client::attach_client_info))
        .layer(from_fn_with_state(
            Arc::new(CspSettings::from_env()),
            headers::add_security_headers,
        ))
}
