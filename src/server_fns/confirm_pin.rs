use leptos::prelude::*;

use crate::{accounts::SignedInUser, error::ApiError};

/// The second step of a login: the PIN for the ticket [`log_in`](super::log_in) answered with.
/// On success the response sets the session cookie.
#[server(prefix = "/fn", endpoint = "confirm_pin")]
pub(crate) async fn confirm_pin(ticket: String, pin: String) -> Result<SignedInUser, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let (user, token) = ssr::confirm_pin(&state.accounts, &ticket, &pin, super::ssr::login_context())
        .await
        .map_err(AppError::into_server_fn_error)?;
    let cookie = super::ssr::session_cookie(&state).set(&token);
    super::ssr::set_cookie(cookie);
    Ok(user)
}
