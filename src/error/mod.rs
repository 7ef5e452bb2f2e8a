//! Errors as clients see them, and (on the server) the one error type behind every request.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[cfg(feature = "ssr")]
mod server;
#[cfg(feature = "ssr")]
pub use server::AppError;

/// What a refused request returns: a stable machine-readable `error` code and a `message` a
/// person can act on. The REST API sends it as JSON; server functions hand it to the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{message}")]
pub struct ApiError {
    pub(crate) error: String,
    pub(crate) message: String,
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let message = match &value {
            ServerFnErrorErr::Request(_) => "Cannot reach the server. Check your connection and try again.",
            _ => "Something went wrong. Please try again.",
        };
        ApiError {
            error: "request_failed".into(),
            message: message.into(),
        }
    }
}
