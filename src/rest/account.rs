use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header::SET_COOKIE},
    response::{AppendHeaders, IntoResponse},
};

use crate::{
    accounts::ssr::{clear_session_cookie, cookies_secure, delete_account as delete, token_from_headers},
    error::AppError,
    state::AppState,
};

/// `DELETE /api/account`: the signed-in user deletes themselves.
pub async fn delete_account(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    let token = token_from_headers(&headers).ok_or_else(|| AppError::Unauthorized("Log in first.".into()))?;
    delete(&state, &token).await?;
    let cookie = clear_session_cookie(cookies_secure(&state, &headers));
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(SET_COOKIE, cookie)])))
}
