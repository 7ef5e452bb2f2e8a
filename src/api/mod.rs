//! The JSON REST API, compatible with the original Flask/React face-login system:
//! `POST /api/register`, `POST /api/login`, `GET /api/greeting`, plus the PIN step
//! `POST /api/login/pin`, `POST /api/logout` and the account: `GET /api/account/history`,
//! `GET /api/account/export`, `POST /api/account/sign-out-everywhere`, `DELETE /api/account`,
//! passkeys: `GET /api/account/passkeys`, `PATCH`/`DELETE /api/account/passkeys/{id}`,
//! `POST /api/account/passkeys/{start,finish}` and `POST /api/login/passkey/{start,finish}`;
//! the live face check: `GET /api/live` (WebSocket) and
//! `POST /api/liveness` (a challenge for uploaded clips).
//! The original's root paths (`POST /register`, `POST /login`, `GET /greeting`) are aliases.
//! Errors are `{error, message}` with the matching HTTP status (see `AppError`).

mod account;
mod face_proof;
mod greeting;
mod live_gate;
mod live_socket;
mod liveness;
mod login;
mod logout;
pub mod openapi;
mod openapi_page;
mod passkeys;
mod register;

use axum::{
    Router,
    extract::{FromRequest, rejection::JsonRejection},
    routing::{delete, get, patch, post},
};

use crate::{error::AppError, state::AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/register", post(register::register))
        .route("/api/login", post(login::login))
        .route("/api/login/pin", post(login::confirm_pin))
        .route("/api/login/passkey/start", post(passkeys::start_login))
        .route("/api/login/passkey/finish", post(passkeys::finish_login))
        .route("/api/liveness", post(liveness::start))
        .route(crate::live::LIVE_PATH, get(live_socket::live_socket))
        .route("/api/greeting", get(greeting::greeting))
        .route("/api/logout", post(logout::logout))
        .route("/api/account", delete(account::delete_account))
        .route("/api/account/history", get(account::history))
        .route("/api/account/export", get(account::export))
        .route(
            "/api/account/sign-out-everywhere",
            post(account::sign_out_everywhere),
        )
        .route("/api/account/passkeys", get(passkeys::list))
        .route(
            "/api/account/passkeys/{id}",
            patch(passkeys::rename).delete(passkeys::remove),
        )
        .route("/api/account/passkeys/start", post(passkeys::start_adding))
        .route("/api/account/passkeys/finish", post(passkeys::finish_adding))
        .route("/register", post(register::register))
        .route("/login", post(login::login))
        .route("/greeting", get(greeting::greeting))
        .merge(openapi::routes())
}

/// `axum::Json`, but a malformed body is answered in our `{error, message}` shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let detail = rejection.body_text();
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                "Send the request as JSON (Content-Type: application/json).".into(),
            ),
            JsonRejection::BytesRejection(_) if rejection_is_too_large(&detail) => {
                AppError::PayloadTooLarge("The request is too large. Send a smaller picture.".into())
            }
            _ => AppError::BadRequest {
                code: "invalid_json",
                message: format!("The request body is not valid: {detail}"),
            },
        }
    }
}

fn rejection_is_too_large(detail: &str) -> bool {
    detail.contains("length limit")
}
