use leptos::prelude::*;

use crate::error::ApiError;

/// Deletes the signed-in user's account and everything stored about them, then ends the
/// session. The login must be under 5 minutes old.
#[server(prefix = "/fn", endpoint = "delete_account")]
pub async fn delete_account() -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    ssr::delete_account(&state.accounts, &signed_in)
        .await
        .map_err(AppError::into_server_fn_error)?;
    super::ssr::set_cookie(super::ssr::session_cookie(&state).clear());
    leptos_axum::redirect("/");
    Ok(())
}
