//! Admission for the face routes: how many logins and registrations this instance works on at
//! once, all clients together, and how many of those one client may hold. Past the total a
//! request gets 503 with `Retry-After` straight away, before its upload is read, so overload
//! costs the server nothing and queues nowhere; the server recovers the moment load drops.
//! Logins and registrations have separate places, so a wave of sign-ups cannot starve logins.
//! One client address (an IPv6 network) holds at most its share of each (429 past it), so one
//! client cannot take every place. Each admitted request's upload must keep a pace
//! ([`super::upload`]: an absolute deadline and a minimum average rate; 408 when it does not),
//! and its whole handling has a deadline.
//!
//! Which routes count as logins or registrations is the throttle's table
//! ([`super::THROTTLED_ROUTES`]); the second-factor steps count as logins.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;

use super::{
    ClientInfo, HttpSettings, ThrottleClass,
    front_door::FrontDoorSettings,
    shares::Shares,
    throttle::class_of,
    upload::{UploadPace, UploadVerdict},
};
use crate::error::AppError;

pub struct Admission {
    logins: Places,
    registrations: Places,
    request_timeout: Duration,
    pace: UploadPace,
    door: FrontDoorSettings,
}

/// The places of one kind, and each client's share of them (`None`: no per-client share).
struct Places {
    all: Semaphore,
    per_client: Option<Arc<Shares>>,
}

impl Places {
    fn new(places: usize, settings: &HttpSettings) -> Self {
        Self {
            all: Semaphore::new(places),
            // Per-client limits are switched with the throttle (off: every client is one).
            per_client: settings
                .throttle
                .then(|| Shares::new(settings.front_door.share_of(places))),
        }
    }
}

impl Admission {
    pub fn new(settings: &HttpSettings, face_workers: usize) -> Arc<Self> {
        let logins = settings
            .concurrent_logins
            .map_or(2 * face_workers.max(1), |n| n as usize);
        // At least two, so that one client's share of them leaves one for everyone else.
        let registrations = settings
            .concurrent_registrations
            .map_or((face_workers / 2).max(2), |n| n as usize);
        let logins = Places::new(logins, settings);
        let registrations = Places::new(registrations, settings);
        tracing::info!(
            logins = logins.all.available_permits(),
            registrations = registrations.all.available_permits(),
            logins_per_client = logins.per_client.as_ref().map(|s| s.limit()),
            registrations_per_client = registrations.per_client.as_ref().map(|s| s.limit()),
            "face requests handled at once"
        );
        let door = settings.front_door.clone();
        Arc::new(Self {
            logins,
            registrations,
            request_timeout: Duration::from_secs(settings.request_timeout_secs),
            pace: UploadPace {
                deadline: Duration::from_secs(settings.body_read_timeout_secs),
                min_bytes_per_sec: door.upload_min_bytes_per_sec,
                window: Duration::from_secs(door.upload_rate_window_secs),
            },
            door,
        })
    }

    fn places(&self, class: ThrottleClass) -> Option<&Places> {
        match class {
            ThrottleClass::Login | ThrottleClass::SecondFactor => Some(&self.logins),
            ThrottleClass::Register => Some(&self.registrations),
            // The live socket has its own limits (`live-max-sessions`, a per-client share, the
            // idle timeout: api::live_socket); a clip's challenge is cheap.
            ThrottleClass::Live => None,
        }
    }
}

fn busy(what: &str) -> Response {
    AppError::Busy(format!(
        "The server is handling as many {what} as it can right now. Try again in a moment."
    ))
    .into_response()
}

fn share_spent(what: &str, share: usize) -> Response {
    let (count, noun) = match share {
        1 => ("one".to_string(), what.trim_end_matches('s')),
        n => (n.to_string(), what),
    };
    AppError::RetryLater {
        code: "too_many_at_once",
        message: format!(
            "Your network already has {count} {noun} in progress here, the most one network may have at once. Wait for it to finish, then try again."
        ),
        retry_after: Duration::from_secs(1),
    }
    .into_response()
}

pub async fn enforce(State(admission): State<Arc<Admission>>, request: Request, next: Next) -> Response {
    let Some(class) = class_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(places) = admission.places(class) else {
        return next.run(request).await;
    };
    let what = if class == ThrottleClass::Register {
        "registrations"
    } else {
        "logins"
    };
    let Ok(_place) = places.all.try_acquire() else {
        return busy(what);
    };
    let _share = match (&places.per_client, request.extensions().get::<ClientInfo>()) {
        (Some(shares), Some(client)) => match shares.try_take(admission.door.client_key(client.ip)) {
            Some(share) => Some(share),
            None => {
                tracing::info!(client = %admission.door.client_key(client.ip), what, "client share spent");
                return share_spent(what, shares.limit());
            }
        },
        _ => None,
    };
    let verdict = UploadVerdict::default();
    let request = request.map(|body| admission.pace.apply(body, verdict.clone()));
    let response = match tokio::time::timeout(admission.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                what,
                timeout_secs = admission.request_timeout.as_secs(),
                "a face request ran out of time and was abandoned"
            );
            busy(what)
        }
    };
    match verdict.too_slow() {
        None => response,
        Some(reason) => {
            tracing::info!(?reason, what, "a slow upload was cut");
            // The rest of the body is never read: the connection cannot carry another request.
            let mut response = AppError::UploadTooSlow(reason.message()).into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(extra: &[&str]) -> Arc<Admission> {
        Admission::new(&crate::http::front_door::http_settings(extra), 2)
    }

    fn available(admission: &Admission, class: ThrottleClass) -> Option<usize> {
        admission
            .places(class)
            .map(|places| places.all.available_permits())
    }

    #[test]
    fn registrations_have_their_own_places_so_they_cannot_take_the_logins() {
        let admission = admission(&[]);
        let registrations = &admission.places(ThrottleClass::Register).expect("limited").all;
        let held: Vec<_> = std::iter::from_fn(|| registrations.try_acquire().ok()).collect();
        assert_eq!(held.len(), 2, "half of two workers, at least two");
        assert_eq!(
            available(&admission, ThrottleClass::Login),
            Some(4),
            "twice two workers, untouched"
        );
        assert!(admission.places(ThrottleClass::Live).is_none());
    }

    #[test]
    fn places_can_be_set() {
        let admission = admission(&["--concurrent-logins", "7", "--concurrent-registrations", "3"]);
        assert_eq!(available(&admission, ThrottleClass::Login), Some(7));
        assert_eq!(available(&admission, ThrottleClass::SecondFactor), Some(7));
        assert_eq!(available(&admission, ThrottleClass::Register), Some(3));
    }

    #[test]
    fn one_client_holds_a_quarter_of_the_places_unless_the_throttle_is_off() {
        let admission = admission(&["--concurrent-logins", "8"]);
        let shares = admission.logins.per_client.as_ref().expect("on by default");
        assert_eq!(shares.limit(), 2);
        let off = self::admission(&["--throttle", "false"]);
        assert!(off.logins.per_client.is_none());
        let whole = self::admission(&["--client-share-percent", "100"]);
        assert_eq!(whole.logins.per_client.as_ref().map(|s| s.limit()), Some(4));
    }
}
