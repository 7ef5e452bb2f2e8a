//! One error type for every request path on the server, mapped to an HTTP status and the JSON
//! body `{error, message}` ([`super::ApiError`]). Internal causes are logged, never sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::ApiError;

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
    /// A face check that identified nobody, or nobody with confidence (own code each).
    #[error("{message}")]
    NotIdentified { code: &'static str, message: String },
    /// Signed in, but not allowed (someone else's data, a login too old for this step).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// What the request names does not exist (or is not the signed-in person's).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// A unique value is taken (email already registered, username taken).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Refused for now, for a known time (a client's throttle, an account's PIN lock): 429 with
    /// `Retry-After`.
    #[error("{message}")]
    RetryLater {
        code: &'static str,
        message: String,
        retry_after: std::time::Duration,
    },
    /// The face workers are saturated: try again in a moment.
    #[error("{0}")]
    Busy(String),
    /// The request's upload was cut for being too slow (docs/security.md, "HTTP front door").
    #[error("{0}")]
    UploadTooSlow(String),
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] mongodb::error::Error),
    /// dlib failed on one picture (the face engine logged the cause): 500, try again.
    #[error("{0}")]
    FaceEngine(String),
    /// Anything else: logged with its cause, reported as a plain 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) | Self::NotIdentified { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::RetryLater { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy(_) | Self::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UploadTooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) | Self::FaceEngine(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable code for clients.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. }
            | Self::NotIdentified { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::RetryLater { code, .. } => code,
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unauthorized(_) => "unauthorized",
            Self::Busy(_) => "busy",
            Self::UploadTooSlow(_) => "upload_too_slow",
            Self::DatabaseUnavailable(_) => "database_unavailable",
            Self::Internal(_) => "internal",
            Self::FaceEngine(_) => "face_engine_failed",
        }
    }

    /// What the person sees. Internal details stay in the log.
    pub(crate) fn public_message(&self) -> String {
        match self {
            Self::DatabaseUnavailable(_) => {
                "The database is unavailable right now. Please try again in a minute.".into()
            }
            Self::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            other => other.to_string(),
        }
    }

    /// Logs server-side causes; client mistakes are only traced.
    pub(crate) fn log(&self) {
        match self {
            Self::DatabaseUnavailable(cause) => tracing::error!(error = %cause, "database unavailable"),
            Self::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            Self::FaceEngine(_) => tracing::debug!("request failed: the face engine failed"),
            Self::Busy(_) => tracing::warn!("face workers saturated"),
            other => tracing::debug!(code = other.code(), "request refused"),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError {
            error: error.code().to_string(),
            message: error.public_message(),
        }
    }
}

impl AppError {
    /// Seconds for a `Retry-After` header, when the refusal has a known end.
    pub(crate) fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RetryLater { retry_after, .. } => Some(retry_after.as_secs_f64().ceil().max(1.0) as u64),
            // The driver re-checks the database every second; a few seconds covers a restart.
            Self::DatabaseUnavailable(_) => Some(5),
            // A face worker frees up within a frame's time.
            Self::Busy(_) => Some(1),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let retry_after = self.retry_after_secs();
        let mut response = (status, Json(ApiError::from(self))).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl AppError {
    /// For server functions: logs, sets the response status, and hands the page its message.
    pub(crate) fn into_server_fn_error(self) -> ApiError {
        self.log();
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(self.status());
            if let Some(secs) = self.retry_after_secs() {
                response.insert_header(axum::http::header::RETRY_AFTER, secs.into());
            }
        }
        ApiError::from(self)
    }
}

impl From<std::convert::Infallible> for AppError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<mongodb::error::Error> for AppError {
    fn from(error: mongodb::error::Error) -> Self {
        use mongodb::error::ErrorKind;
        match error.kind.as_ref() {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. } => Self::DatabaseUnavailable(error),
            _ => Self::Internal(format!("database: {error}")),
        }
    }
}

impl From<crate::face::FaceError> for AppError {
    fn from(error: crate::face::FaceError) -> Self {
        use crate::face::{FaceError, FaceErrorKind};
        let message = error.to_string();
        match error.kind() {
            FaceErrorKind::BadInput => Self::BadRequest {
                code: error.code(),
                message,
            },
            FaceErrorKind::TooLarge => Self::PayloadTooLarge(message),
            FaceErrorKind::UnsupportedFormat => Self::UnsupportedMediaType(message),
            FaceErrorKind::Refused => Self::Unprocessable {
                code: error.code(),
                message,
            },
            FaceErrorKind::Busy => Self::Busy(message),
            FaceErrorKind::Internal => match error {
                FaceError::Engine(_) => Self::FaceEngine(message),
                FaceError::Internal(cause) => Self::Internal(format!("face engine: {cause}")),
                other => Self::Internal(format!("face engine: {other:?}")),
            },
        }
    }
}

impl From<crate::live::ssr::LiveFailure> for AppError {
    fn from(failure: crate::live::ssr::LiveFailure) -> Self {
        Self::Unprocessable {
            code: failure.code(),
            message: failure.to_string(),
        }
    }
}

impl From<crate::live::ssr::AttemptError> for AppError {
    fn from(error: crate::live::ssr::AttemptError) -> Self {
        match error {
            crate::live::ssr::AttemptError::Live(failure) => failure.into(),
            crate::live::ssr::AttemptError::Face(face) => face.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::FaceError;

    /// The one table of HTTP statuses: a face error's kind decides it here.
    #[test]
    fn face_errors_answer_with_the_status_of_their_kind() {
        let status = |error: FaceError| AppError::from(error).status();
        assert_eq!(status(FaceError::Busy), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(FaceError::BadBase64), StatusCode::BAD_REQUEST);
        let too_large = FaceError::TooManyPixels {
            width: 1,
            height: 1,
            limit: 0,
        };
        assert_eq!(status(too_large), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(status(FaceError::NoFace), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            status(FaceError::Engine("std::bad_alloc".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
