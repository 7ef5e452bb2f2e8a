use axum::{extract::State, http::StatusCode, response::IntoResponse};

use crate::{
    accounts::ssr::{self as accounts, ClientMeta, SignedIn},
    error::AppError,
    http::auth::SessionCookie,
    state::AppState,
};

/// `POST /api/logout`: ends this session (if any) and clears the cookie either way.
pub async fn logout(
    State(state): State<AppState>,
    cookie: SessionCookie,
    client: ClientMeta,
    signed_in: Option<SignedIn>,
) -> Result<impl IntoResponse, AppError> {
    if let Some(signed_in) = signed_in {
        accounts::logout(&state.accounts, &signed_in, &client).await?;
    }
    Ok((StatusCode::NO_CONTENT, cookie.clear(), ()))
}
