use leptos::prelude::*;

use crate::error::ApiError;

/// Deletes the signed-in user's account and face encodings, then ends the session.
#[server(prefix = "/fn", endpoint = "delete_account")]
pub async fn delete_account() -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let headers = super::ssr::request_headers();
    let token = ssr::token_from_headers(&headers)
        .ok_or_else(|| AppError::Unauthorized("Log in first.".into()).into_server_fn_error())?;
    ssr::delete_account(&state, &token)
        .await
        .map_err(AppError::into_server_fn_error)?;
    super::ssr::set_cookie(ssr::clear_session_cookie(ssr::cookies_secure(&state, &headers)));
    leptos_axum::redirect("/");
    Ok(())
}
