//! Server functions: how the pages talk to the server, one per file. Each is a thin door onto
//! `accounts::ssr`, which the REST API shares.

mod current_user;
mod delete_account;
mod log_in;
mod log_out;
mod register;

pub use current_user::*;
pub use delete_account::*;
pub use log_in::*;
pub use log_out::*;
pub use register::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::{error::ApiError, error::AppError, state::AppState};

    pub fn app_state() -> Result<AppState, ApiError> {
        leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| AppError::Internal("AppState missing from the server function context".into()))
            .map_err(AppError::into_server_fn_error)
    }

    pub fn request_headers() -> axum::http::HeaderMap {
        leptos::prelude::use_context::<axum::http::request::Parts>()
            .map(|parts| parts.headers)
            .unwrap_or_default()
    }

    pub fn set_cookie(cookie: String) {
        let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        match axum::http::HeaderValue::from_str(&cookie) {
            Ok(value) => response.append_header(axum::http::header::SET_COOKIE, value),
            Err(e) => tracing::error!("unusable Set-Cookie value: {e}"),
        }
    }
}
