//! Why the server did not start: one error for every start-up step (settings, models, keys,
//! database, listening), each message naming the missing piece and the fix.

use std::net::SocketAddr;

use crate::{db::DbStartError, face::ModelError};

/// Why the server did not start. Each message names the missing piece and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Models(#[source] ModelError),
    #[error("{0}. Start the local database with `make db`, or point MONGODB_URI at a running MongoDB 5.0+")]
    Database(#[source] DbStartError),
    #[error("{0}")]
    Gallery(#[source] crate::gallery::GalleryError),
    #[error("face template keys: {0}")]
    TemplateKey(String),
    #[error("could not load the accounts' sessions, logins or passkeys from the database: {0}")]
    Loading(#[source] mongodb::error::Error),
    #[error(
        "cannot listen on {addr}: {cause}. Is another facegate running? Set FACEGATE_LISTEN to another address"
    )]
    Bind { addr: SocketAddr, cause: std::io::Error },
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}
