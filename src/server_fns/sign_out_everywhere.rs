use leptos::prelude::*;

use crate::error::ApiError;

/// Ends every session of the signed-in user — other browsers and devices too — and this one.
#[server(prefix = "/fn", endpoint = "sign_out_everywhere")]
pub(crate) async fn sign_out_everywhere() -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    let client: ssr::ClientMeta = super::ssr::extract(&state).await?;
    ssr::sign_out_everywhere(&state.accounts, &signed_in, &client)
        .await
        .map_err(AppError::into_server_fn_error)?;
    super::ssr::set_cookie(super::ssr::session_cookie(&state).clear());
    leptos_axum::redirect("/login");
    Ok(())
}
