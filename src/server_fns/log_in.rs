use leptos::prelude::*;

use crate::{accounts::SignedInUser, error::ApiError};

/// Logs in with the `proof` of a passed live face check (the `passed` message of the live
/// socket); on success the response sets the session cookie.
#[server(prefix = "/fn", endpoint = "log_in")]
pub async fn log_in(proof: String) -> Result<SignedInUser, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let (user, token) = ssr::login_with_proof(&state, &proof)
        .await
        .map_err(AppError::into_server_fn_error)?;
    let secure = ssr::cookies_secure(&state, &super::ssr::request_headers());
    super::ssr::set_cookie(ssr::session_cookie(&token, state.config.session_ttl(), secure));
    Ok(user)
}
