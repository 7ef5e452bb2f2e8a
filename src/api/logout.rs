use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header::SET_COOKIE},
    response::{AppendHeaders, IntoResponse},
};

use crate::{
    accounts::ssr::{self as accounts, ClientMeta, SessionCookie, SignedIn},
    error::AppError,
    state::AppState,
};

/// `POST /api/logout`: ends this session (if any) and clears the cookie either way.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientMeta,
    signed_in: Option<SignedIn>,
) -> Result<impl IntoResponse, AppError> {
    if let Some(signed_in) = signed_in {
        accounts::logout(&state, &signed_in, &client).await?;
    }
    let cookie = SessionCookie::for_request(&state, &headers).clear();
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(SET_COOKIE, cookie)])))
}
