//! Serving `/metrics`: on an address of its own (`metrics-listen`) or on the public port behind
//! a bearer token (`metrics-token`). Sizes are read from memory when scraped.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use metrics::gauge;
use sha2::{Digest, Sha256};

use super::{PATH, handle, install};
use crate::{startup::StartupError, state::AppState};

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
