use leptos::prelude::*;

use crate::error::ApiError;

/// Ends the session and clears its cookie. Without JavaScript the browser is sent to the login page.
#[server(prefix = "/fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let headers = super::ssr::request_headers();
    if let Some(token) = ssr::token_from_headers(&headers) {
        ssr::logout(&state, &token)
            .await
            .map_err(AppError::into_server_fn_error)?;
    }
    super::ssr::set_cookie(ssr::clear_session_cookie(ssr::cookies_secure(&state, &headers)));
    leptos_axum::redirect("/login");
    Ok(())
}
