//! `GET /healthz`: is the database reachable, are the models loaded, which version runs.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    database: Component,
    models: Component,
}

#[derive(Serialize)]
struct Component {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let database = match state.db.ping().await {
        Ok(()) => Component {
            ok: true,
            detail: None,
        },
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            Component {
                ok: false,
                detail: Some("unreachable".into()),
            }
        }
    };
    let models = Component {
        ok: state.faces.models_loaded(),
        detail: Some(state.faces.describe()),
    };
    let healthy = database.ok && models.ok;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if healthy { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        database,
        models,
    };
    (status, Json(body))
}
