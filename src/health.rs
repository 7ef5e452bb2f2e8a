//! `GET /healthz`: is the database reachable, are the models loaded, which version runs; 503
//! "draining" once the server is shutting down.
//!
//! The database is pinged by a background task every [`CHECK_EVERY`], not per request: anyone
//! can call `/healthz`, and it must not hand them database work. Nothing about the machine (paths,
//! worker counts) is in the answer; the start-up log has it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Extension, Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{background::Background, db::Db, http::drain::Drain, state::AppState};

/// How often the database is pinged; `/healthz` reports the latest answer.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// A ping that takes longer counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// The latest background check of the database.
#[derive(Clone)]
pub struct DatabaseHealth(Arc<AtomicBool>);

impl DatabaseHealth {
    /// Starts checking `db` in the background (it was reachable at start-up), until shutdown.
    pub fn watch(db: Db, background: &Background) -> Self {
        let reachable = Arc::new(AtomicBool::new(true));
        let seen = Arc::clone(&reachable);
        background.every("database health check", CHECK_EVERY, move || {
            let (db, seen) = (db.clone(), Arc::clone(&seen));
            async move {
                let ok = matches!(tokio::time::timeout(PING_TIMEOUT, db.ping()).await, Ok(Ok(())));
                if seen.swap(ok, Ordering::Relaxed) != ok {
                    if ok {
                        tracing::info!("health check: the database answers again");
                    } else {
                        tracing::warn!("health check: database unreachable");
                    }
                }
            }
        });
        Self(reachable)
    }

    fn reachable(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

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
}

#[derive(Serialize)]
struct Draining {
    status: &'static str,
    version: &'static str,
}

pub async fn healthz(
    State(state): State<AppState>,
    Extension(database): Extension<DatabaseHealth>,
    drain: Option<Extension<Drain>>,
) -> Response {
    // Shutting down: a load balancer should stop sending here, whatever else is fine.
    if drain.is_some_and(|Extension(drain)| drain.is_draining()) {
        let body = Draining {
            status: "draining",
            version: env!("CARGO_PKG_VERSION"),
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    let database = Component {
        ok: database.reachable(),
    };
    let models = Component {
        ok: state.faces.models_loaded(),
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
