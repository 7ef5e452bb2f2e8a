//! One error type for every request path, mapped to an HTTP status and a JSON body
//! `{error, message}`. Internal causes are logged, never sent to the client.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (missing field, bad base64, bad JSON).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The picture or body is larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The picture is in a format we do not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed input we refuse: invalid email, no face, blurry face…
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// A unique value is taken (email already registered, username taken).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    TooManyRequests(String),
    /// The face workers are saturated: try again in a moment.
    #[error("{0}")]
    Busy(String),
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] mongodb::error::Error),
    /// Anything else: logged with its cause, reported as a plain 500.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy(_) | Self::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. } => code,
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::Busy(_) => "busy",
            Self::DatabaseUnavailable(_) => "database_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// What the person sees. Internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::DatabaseUnavailable(_) => {
                "The database is unavailable right now. Please try again in a minute.".into()
            }
            Self::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            other => other.to_string(),
        }
    }

    /// Logs server-side causes; client mistakes are only traced.
    pub fn log(&self) {
        match self {
            Self::DatabaseUnavailable(cause) => tracing::error!(error = %cause, "database unavailable"),
            Self::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            Self::Busy(_) => tracing::warn!("face workers saturated"),
            other => tracing::debug!(code = other.code(), "request refused"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody {
            error: self.code(),
            message: self.public_message(),
        };
        (self.status(), Json(body)).into_response()
    }
}
