//! Server functions: how the pages talk to the server, one per file (the four passkey steps
//! share one). Each is a thin door onto
//! `accounts::ssr`, which the REST API shares.

mod account_history;
mod confirm_pin;
mod current_user;
mod delete_account;
mod log_in;
mod log_out;
mod login_destination;
mod oidc_consent;
mod passkeys;
mod register;
mod sign_out_everywhere;

pub(crate) use account_history::*;
pub(crate) use confirm_pin::*;
pub(crate) use current_user::*;
pub(crate) use delete_account::*;
pub(crate) use log_in::*;
pub(crate) use log_out::*;
pub(crate) use login_destination::*;
pub(crate) use oidc_consent::*;
pub(crate) use passkeys::*;
pub(crate) use register::*;
pub(crate) use sign_out_everywhere::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use axum::extract::FromRequestParts;

    use crate::{
        accounts::ssr::LoginContext,
        error::{ApiError, AppError},
        http::auth::{CookieUpdate, SessionCookie},
        state::AppState,
    };

    pub(crate) fn app_state() -> Result<AppState, ApiError> {
        leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| AppError::Internal("AppState missing from the server function context".into()))
            .map_err(AppError::into_server_fn_error)
    }

    fn request_parts() -> axum::http::request::Parts {
        leptos::prelude::use_context::<axum::http::request::Parts>().unwrap_or_else(|| {
            tracing::error!("request parts missing from the server function context");
            axum::http::Request::new(()).into_parts().0
        })
    }

    /// Runs one of our axum extractors (`SignedIn`, `Option<SignedIn>`, `ClientMeta`) on the
    /// server function's request — the same code the REST handlers get — keeping its refusal.
    pub(crate) async fn extract<T>(state: &AppState) -> Result<T, ApiError>
    where
        T: FromRequestParts<AppState, Rejection: Into<AppError>>,
    {
        let mut parts = request_parts();
        T::from_request_parts(&mut parts, state)
            .await
            .map_err(|rejection| rejection.into().into_server_fn_error())
    }

    /// The session cookie's shape for this request.
    pub(crate) fn session_cookie(state: &AppState) -> SessionCookie {
        SessionCookie::for_request(&state.config, &request_parts())
    }

    /// The client and its current session, for a login.
    pub(crate) fn login_context() -> LoginContext {
        crate::http::auth::login_context(&request_parts())
    }

    /// Adds the cookie to the server function's response.
    pub(crate) fn set_cookie(cookie: CookieUpdate) {
        let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        if let Some(value) = cookie.header_value() {
            response.append_header(axum::http::header::SET_COOKIE, value);
        }
    }
}
