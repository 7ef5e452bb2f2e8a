//! The HTTP front door, around every route: who the client is ([`ClientInfo`]), cross-site
//! requests refused ([`origin`]), security headers with a per-response CSP nonce ([`headers`]),
//! throttling per client address ([`throttle`]), and admission for the face routes
//! ([`admission`]: how many logins and registrations at once). docs/security.md describes the behaviour.

pub(crate) mod admission;
pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod client_key;
pub(crate) mod drain;
pub(crate) mod front_door;
pub(crate) mod headers;
pub(crate) mod listener;
pub(crate) mod origin;
pub(crate) mod settings;
pub(crate) mod shares;
pub(crate) mod throttle;
pub(crate) mod upload;

use std::sync::Arc;

use axum::{Extension, Router, middleware::from_fn_with_state};

pub use client::{ClientInfo, cookie_secure_from_headers};
pub use client_key::ClientKey;
pub use front_door::FrontDoorSettings;
pub use headers::{CspSettings, provide_csp_nonce};
pub use settings::HttpSettings;
pub use throttle::{Throttle, ThrottleClass};

use crate::{background::Background, config::Config};

/// What the front door is sized by: the face workers (admission's places) and the live
/// sockets the live check allows at once (each client's share of them).
pub struct Capacity {
    pub face_workers: usize,
    pub live_sockets: usize,
}

/// Wraps `router` in the front door. From the outside in: security headers (so that every
/// refusal below carries them too), client info, the cross-site check, the throttle, admission.
pub fn protect<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    config: &Arc<Config>,
    capacity: Capacity,
    background: &Background,
) -> Router<S> {
    let config = Arc::clone(config);
    let throttle = Throttle::from_settings(&config.http);
    if let Some(throttle) = &throttle {
        Throttle::sweep_in_background(throttle, background);
    }
    let admission = admission::Admission::new(&config.http, capacity.face_workers);
    let live_sockets = LiveSocketShares::new(&config.http, capacity.live_sockets);
    router
        .layer(Extension(live_sockets))
        .layer(from_fn_with_state(admission, admission::enforce))
        .layer(from_fn_with_state(throttle, throttle::enforce))
        .layer(from_fn_with_state(Arc::clone(&config), origin::refuse_cross_site))
        .layer(from_fn_with_state(config.hsts, headers::add_hsts))
        .layer(from_fn_with_state(config, client::attach_client_info))
        .layer(from_fn_with_state(
            Arc::new(CspSettings::from_env()),
            headers::add_security_headers,
        ))
}

/// Each client's share of the live sockets (`None` while the throttle, and with it every
/// per-client limit, is off). Handed to the socket's handler as an extension.
#[derive(Clone)]
pub struct LiveSocketShares {
    shares: Option<Arc<shares::Shares>>,
    door: FrontDoorSettings,
}

impl LiveSocketShares {
    fn new(settings: &HttpSettings, sockets: usize) -> Self {
        Self {
            shares: settings
                .throttle
                .then(|| shares::Shares::new(settings.front_door.share_of(sockets))),
            door: settings.front_door.clone(),
        }
    }

    /// A socket for `client`: `Ok(None)` when there is no per-client limit, `Err(share)` when
    /// the client holds its share already.
    pub fn try_take(&self, client: &ClientInfo) -> Result<Option<shares::Share>, usize> {
        match &self.shares {
            None => Ok(None),
            Some(shares) => shares
                .try_take(self.door.client_key(client.ip))
                .map(Some)
                .ok_or(shares.limit()),
        }
    }

    pub fn settings(&self) -> &FrontDoorSettings {
        &self.door
    }
}
