//! Operators' numbers: `GET /metrics` in the Prometheus text format (docs/deploy.md, "Metrics").
//!
//! Events are recorded through the `metrics` facade and rendered by `metrics-exporter-prometheus`;
//! sizes (sessions open, gallery, face queue) are read from memory when scraped. Login,
//! registration and second-factor outcomes are read off the answers of the throttled routes
//! (REST and server functions alike: one place, by the same stable `error` codes clients get).
//!
//! Not on the public port by default: `metrics-listen` serves it on an address of its own,
//! `metrics-token` on the public port behind `Authorization: Bearer <token>`.

use std::{
    net::SocketAddr,
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};

use crate::{
    http::throttle::{ThrottleClass, class_of},
    server::StartupError,
    state::AppState,
};

pub const PATH: &str = "/metrics";

/// Where `/metrics` is served (docs/deploy.md, "Metrics").
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MetricsSettings {
    /// Serve `/metrics` on this address of its own (e.g. `127.0.0.1:9464`), apart from the app.
    #[arg(long, env = "FACEGATE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Also serve `/metrics` on the public port, to requests with `Authorization: Bearer <this>`.
    /// Unset (and no `metrics-listen`): metrics are not served at all.
    #[arg(long, env = "FACEGATE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// Face-engine stages take milliseconds; a slow CNN frame takes a second.
const STAGE_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// FerretDB answers inserts in ~1 ms and scans in tens to hundreds.
const DB_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process-wide recorder, installed by the first server (tests start several in one process:
/// they share it, so they compare counts before and after).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("facegate_face_stage_seconds".into()), STAGE_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("facegate_db_command_seconds".into()), DB_BUCKETS)
                });
            match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics are off: could not install the Prometheus recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "facegate_logins_total",
        "Face logins by outcome: signed_in, second_factor_required, or the error code."
    );
    describe_counter!(
        "facegate_registrations_total",
        "Registrations by outcome: registered, or the error code."
    );
    describe_counter!(
        "facegate_second_factor_total",
        "Second-factor steps (pin, passkey_start, passkey) by outcome."
    );
    describe_counter!(
        "facegate_live_checks_total",
        "Live checks over the socket: passed, or refused with the reason."
    );
    describe_counter!(
        "facegate_front_door_refusals_total",
        "429 (throttled) and 503 (busy: admission, face workers) answers of the face routes, by class and code."
    );
    describe_histogram!(
        "facegate_face_stage_seconds",
        Unit::Seconds,
        "Face-engine time per stage: decode, detect, landmarks, encode."
    );
    describe_histogram!(
        "facegate_db_command_seconds",
        Unit::Seconds,
        "Database command time, by command."
    );
    describe_counter!(
        "facegate_db_command_errors_total",
        "Database commands that failed, by command."
    );
    describe_gauge!("facegate_sessions_open", "Sessions open on this instance.");
    describe_gauge!(
        "facegate_gallery_users",
        "Enrolled people in the in-memory gallery."
    );
    describe_gauge!("facegate_face_queue_depth", "Pictures waiting for a face worker.");
    describe_gauge!("facegate_face_workers", "Face worker threads.");
}

/// Starts recording. Called at start-up whatever the settings, so the first scrape has history.
pub fn install() {
    let _ = handle();
}

/// `/metrics` on the public port, when a token is set; nothing otherwise.
pub fn public_routes(state: &AppState) -> Router<AppState> {
    install();
    match &state.config.metrics.metrics_token {
        Some(_) => Router::new().route(PATH, get(scrape_with_token)),
        None => Router::new(),
    }
}

/// Serves `/metrics` alone on `metrics-listen`, if set, until the returned guard is dropped.
pub async fn serve_separately(state: &AppState) -> Result<Option<ListenerGuard>, StartupError> {
    install();
    let Some(addr) = state.config.metrics.metrics_listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|cause| StartupError::Bind { addr, cause })?;
    tracing::info!("metrics at http://{addr}{PATH}");
    let app = Router::new().route(PATH, get(scrape)).with_state(state.clone());
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(Some(ListenerGuard(task)))
}

/// Stops the metrics listener with the server it belongs to.
pub struct ListenerGuard(tokio::task::JoinHandle<()>);

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn scrape_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let expected = state.config.metrics.metrics_token.as_deref().unwrap_or_default();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Hashes compared, so the time taken says nothing about the token's characters.
    if expected.is_empty() || Sha256::digest(given) != Sha256::digest(expected) {
        let mut refused = crate::error::AppError::Unauthorized(
            "Send the metrics token as `Authorization: Bearer <token>` (setting metrics-token).".into(),
        )
        .into_response();
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return refused;
    }
    scrape(State(state)).await
}

async fn scrape(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    gauge!("facegate_sessions_open").set(state.sessions.len() as f64);
    gauge!("facegate_gallery_users").set(state.gallery.len() as f64);
    gauge!("facegate_face_queue_depth").set(state.faces.queued() as f64);
    gauge!("facegate_face_workers").set(state.faces.workers() as f64);
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// Times one face-engine stage (`decode`, `detect`, `landmarks`, `encode`).
pub fn time_stage<T>(stage: &'static str, run: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = run();
    histogram!("facegate_face_stage_seconds", "stage" => stage).record(started.elapsed().as_secs_f64());
    result
}

/// The end of a live check over the socket: `None` passed, `Some(code)` refused for that reason.
pub fn live_check(refused: Option<&str>) {
    let (outcome, reason) = match refused {
        None => ("passed", "none".to_string()),
        Some(code) => ("refused", code.to_string()),
    };
    counter!("facegate_live_checks_total", "outcome" => outcome, "reason" => reason).increment(1);
}

/// Every database command's time, and its failures (the driver's command monitoring).
pub fn db_command_observer() -> mongodb::event::EventHandler<mongodb::event::command::CommandEvent> {
    use mongodb::event::command::CommandEvent;
    mongodb::event::EventHandler::callback(|event: CommandEvent| match event {
        CommandEvent::Succeeded(done) => db_command(done.command_name, done.duration, false),
        CommandEvent::Failed(failed) => db_command(failed.command_name, failed.duration, true),
        _ => {}
    })
}

fn db_command(command: String, took: Duration, failed: bool) {
    histogram!("facegate_db_command_seconds", "command" => command.clone()).record(took.as_secs_f64());
    if failed {
        counter!("facegate_db_command_errors_total", "command" => command).increment(1);
    }
}

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
