//! What every request handler can reach: settings, the database, the face engine.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{config::Config, db::Db, face::FaceEngine, server::StartupError};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Db,
    pub faces: FaceEngine,
}

impl AppState {
    /// Loads the models, then connects to the database (with a bounded retry) and makes sure
    /// its indexes exist. Models first: they fail fast and need no network.
    pub async fn start(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartupError> {
        let faces = FaceEngine::start(&config.models_dir, &config.face).map_err(StartupError::Models)?;
        let db = Db::connect(&config.mongodb_uri, &config.database, config.db_connect_timeout())
            .await
            .map_err(StartupError::Database)?;
        Ok(Self {
            leptos_options,
            config: Arc::new(config),
            db,
            faces,
        })
    }
}
