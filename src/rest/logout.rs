use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header::SET_COOKIE},
    response::{AppendHeaders, IntoResponse},
};

use crate::{
    accounts::ssr::{clear_session_cookie, cookies_secure, logout as end_session, token_from_headers},
    error::AppError,
    state::AppState,
};

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    if let Some(token) = token_from_headers(&headers) {
        end_session(&state, &token).await?;
    }
    let cookie = clear_session_cookie(cookies_secure(&state, &headers));
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(SET_COOKIE, cookie)])))
}
