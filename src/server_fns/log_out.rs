use leptos::prelude::*;

use crate::error::ApiError;

/// Ends the session and clears its cookie. Without JavaScript the browser is sent to the login page.
#[server(prefix = "/fn", endpoint = "log_out")]
pub(crate) async fn log_out() -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: Option<ssr::SignedIn> = super::ssr::extract(&state).await?;
    if let Some(signed_in) = signed_in {
        let client: ssr::ClientMeta = super::ssr::extract(&state).await?;
        ssr::logout(&state.accounts, &signed_in, &client)
            .await
            .map_err(AppError::into_server_fn_error)?;
    }
    super::ssr::set_cookie(super::ssr::session_cookie(&state).clear());
    leptos_axum::redirect("/login");
    Ok(())
}
