//! Login, registration and second-factor outcomes, read off the answers of the throttled routes
//! (REST and server functions alike: one place, by the same stable `error` codes clients get).

use axum::{body::Body, extract::Request, http::StatusCode, middleware::Next, response::Response};
use metrics::counter;

use crate::http::throttle::{ThrottleClass, class_of};

/// Largest answer read to learn a login's outcome; these answers are short JSON.
const MAX_OUTCOME_BODY: usize = 256 * 1024;

/// Counts logins, registrations and second-factor steps by outcome, and the front door's
/// refusals (429 throttled, 503 busy) of those routes and the live check's.
pub async fn observe_outcomes(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let Some(class) = class_of(request.method(), &path) else {
        return next.run(request).await;
    };
    let response = next.run(request).await;
    let status = response.status();
    let counted = class != ThrottleClass::Live;
    let refused = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    );
    if !counted && !refused {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_OUTCOME_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "could not read an answer to count it");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let outcome = outcome_of(class, &path, status, &bytes);
    if refused {
        counter!("facegate_front_door_refusals_total", "class" => class_label(class), "code" => outcome.clone())
            .increment(1);
    }
    match class {
        ThrottleClass::Login => counter!("facegate_logins_total", "outcome" => outcome).increment(1),
        ThrottleClass::Register => counter!("facegate_registrations_total", "outcome" => outcome).increment(1),
        ThrottleClass::SecondFactor => {
            counter!("facegate_second_factor_total", "step" => second_factor_step(&path), "outcome" => outcome)
                .increment(1)
        }
        ThrottleClass::Live => {}
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn class_label(class: ThrottleClass) -> &'static str {
    match class {
        ThrottleClass::Login => "login",
        ThrottleClass::Register => "register",
        ThrottleClass::Live => "live",
        ThrottleClass::SecondFactor => "second_factor",
    }
}

fn second_factor_step(path: &str) -> &'static str {
    let path = path.to_ascii_lowercase();
    match (path.contains("passkey"), path.contains("start")) {
        (true, true) => "passkey_start",
        (true, false) => "passkey",
        (false, _) => "pin",
    }
}

/// The answer's stable `error` code; on success what happened (`signed_in`, `registered`,
/// `second_factor_required`, `started`). Codes are the server's own, so the label set is bounded.
fn outcome_of(class: ThrottleClass, path: &str, status: StatusCode, body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if let Some(code) = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(|c| c.as_str())
    {
        return code.to_string();
    }
    if !status.is_success() {
        return format!("http_{}", status.as_u16());
    }
    // The page's log-in answer is `{"SecondFactor": {ticket, …}}` or `{"SignedIn": {…}}`.
    if json.as_ref().is_some_and(|j| j.get("SecondFactor").is_some()) {
        return "second_factor_required".into();
    }
    match class {
        ThrottleClass::Register => "registered".into(),
        ThrottleClass::SecondFactor if second_factor_step(path) == "passkey_start" => "started".into(),
        _ => "signed_in".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_the_error_code_or_what_succeeded() {
        let refused = br#"{"error":"not_recognised","message":"Face not recognised."}"#;
        assert_eq!(
            outcome_of(
                ThrottleClass::Login,
                "/api/login",
                StatusCode::UNAUTHORIZED,
                refused
            ),
            "not_recognised"
        );
        let page_prompt = br#"{"SecondFactor":{"ticket":"t","factors":["pin"],"expires_in_secs":60}}"#;
        assert_eq!(
            outcome_of(ThrottleClass::Login, "/fn/log_in", StatusCode::OK, page_prompt),
            "second_factor_required"
        );
        assert_eq!(
            outcome_of(ThrottleClass::Login, "/api/login", StatusCode::OK, b"{}"),
            "signed_in"
        );
        assert_eq!(
            outcome_of(
                ThrottleClass::Register,
                "/api/register",
                StatusCode::CREATED,
                b"{}"
            ),
            "registered"
        );
        assert_eq!(
            outcome_of(
                ThrottleClass::Login,
                "/api/login",
                StatusCode::BAD_GATEWAY,
                b"nope"
            ),
            "http_502"
        );
        assert_eq!(second_factor_step("/api/login/passkey/start"), "passkey_start");
        assert_eq!(second_factor_step("/api/login/pin"), "pin");
    }
}
