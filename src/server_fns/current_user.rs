use leptos::prelude::*;

use crate::{accounts::SignedInUser, error::ApiError};

/// The signed-in user of this request's session cookie, or `None`.
#[server(prefix = "/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let Some(token) = ssr::token_from_headers(&super::ssr::request_headers()) else {
        return Ok(None);
    };
    ssr::current_user(&state, &token)
        .await
        .map_err(AppError::into_server_fn_error)
}
