use leptos::prelude::*;

use crate::{accounts::LoginStep, error::ApiError};

/// Logs in with the `proof` of a passed live face check (the `passed` message of the live
/// socket). Either signs in (the response sets the session cookie) or, per the second-factor
/// policy, answers with a ticket for [`confirm_pin`](super::confirm_pin).
#[server(prefix = "/fn", endpoint = "log_in")]
pub(crate) async fn log_in(proof: String) -> Result<LoginStep, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let outcome = ssr::login_with_proof(&state.accounts, &proof, super::ssr::login_context())
        .await
        .map_err(AppError::into_server_fn_error)?;
    if let ssr::LoginOutcome::SignedIn(_, token) = &outcome {
        let cookie = super::ssr::session_cookie(&state).set(token);
        super::ssr::set_cookie(cookie);
    }
    Ok(outcome.step())
}
