//! `GET /healthz`: is the database reachable, are the models loaded, which version runs; 503
//! "draining" once the server is shutting down.

use axum::{
    Extension, Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{server::Drain, state::AppState};

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

#[derive(Serialize)]
struct Draining {
    status: &'static str,
    version: &'static str,
}

pub async fn healthz(State(state): State<AppState>, drain: Option<Extension<Drain>>) -> Response {
    // Shutting down: a load balancer should stop sending here, whatever else is fine.
    if drain.is_some_and(|Extension(drain)| drain.is_draining()) {
        let body = Draining {
            status: "draining",
            version: env!("CARGO_PKG_VERSION"),
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
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
    (status, Json(body)).into_response()
}
