//! Admission for the face routes: how many logins and registrations this instance works on at
//! once, all clients together. Past that a request gets 503 with `Retry-After` straight away,
//! before its upload is read, so overload costs the server nothing and queues nowhere; the
//! server recovers the moment load drops. Logins and registrations have separate places, so a
//! wave of sign-ups cannot starve logins. Each admitted request also has a deadline for its
//! body to arrive and one for its whole handling.
//!
//! Which routes count as logins or registrations is the throttle's table
//! ([`super::THROTTLED_ROUTES`]); the second-factor steps count as logins.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutBody;

use super::{HttpSettings, ThrottleClass, throttle::class_of};
use crate::error::AppError;

pub struct Admission {
    logins: Semaphore,
    registrations: Semaphore,
    request_timeout: Duration,
    body_read_timeout: Duration,
}

impl Admission {
    pub fn new(settings: &HttpSettings, face_workers: usize) -> Arc<Self> {
        let logins = settings
            .concurrent_logins
            .map_or(2 * face_workers.max(1), |n| n as usize);
        let registrations = settings
            .concurrent_registrations
            .map_or((face_workers / 2).max(1), |n| n as usize);
        tracing::info!(logins, registrations, "face requests handled at once");
        Arc::new(Self {
            logins: Semaphore::new(logins),
            registrations: Semaphore::new(registrations),
            request_timeout: Duration::from_secs(settings.request_timeout_secs),
            body_read_timeout: Duration::from_secs(settings.body_read_timeout_secs),
        })
    }

    fn places(&self, class: ThrottleClass) -> Option<&Semaphore> {
        match class {
            ThrottleClass::Login | ThrottleClass::SecondFactor => Some(&self.logins),
            ThrottleClass::Register => Some(&self.registrations),
            // The live socket has its own session limit (`live-max-sessions`); a clip's
            // challenge is cheap.
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
    let Ok(_place) = places.try_acquire() else {
        return busy(what);
    };
    let request = request.map(|body| Body::new(TimeoutBody::new(admission.body_read_timeout, body)));
    match tokio::time::timeout(admission.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                what,
                timeout_secs = admission.request_timeout.as_secs(),
                "a face request ran out of time and was abandoned"
            );
            busy(what)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        http: HttpSettings,
    }

    fn admission(extra: &[&str]) -> Arc<Admission> {
        let args = Args::parse_from(std::iter::once("facegate").chain(extra.iter().copied()));
        Admission::new(&args.http, 2)
    }

    #[test]
    fn registrations_have_their_own_places_so_they_cannot_take_the_logins() {
        let admission = admission(&[]);
        let registrations = admission.places(ThrottleClass::Register).expect("limited");
        let held: Vec<_> = std::iter::from_fn(|| registrations.try_acquire().ok()).collect();
        assert_eq!(held.len(), 1, "half of two workers");
        let logins = admission.places(ThrottleClass::Login).expect("limited");
        assert_eq!(logins.available_permits(), 4, "twice two workers, untouched");
        assert!(admission.places(ThrottleClass::Live).is_none());
    }

    #[test]
    fn places_can_be_set() {
        let admission = admission(&["--concurrent-logins", "7", "--concurrent-registrations", "3"]);
        let places = |class| admission.places(class).map(Semaphore::available_permits);
        assert_eq!(places(ThrottleClass::Login), Some(7));
        assert_eq!(places(ThrottleClass::SecondFactor), Some(7));
        assert_eq!(places(ThrottleClass::Register), Some(3));
    }
}
