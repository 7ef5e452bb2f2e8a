use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header::SET_COOKIE},
    response::{AppendHeaders, IntoResponse},
};
use serde::{Deserialize, Serialize};

use super::ApiJson;
use crate::{
    accounts::ssr::{self as accounts, cookies_secure, session_cookie},
    error::AppError,
    face::ImageInput,
    state::AppState,
};

#[derive(Deserialize)]
pub struct LoginRequest {
    /// Base64 or a `data:` URL of a JPEG/PNG/WebP picture.
    image: String,
}

#[derive(Serialize)]
pub struct LoginResponse {
    message: String,
    username: String,
    user_id: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (user, token) = accounts::login(&state, ImageInput::Text(request.image)).await?;
    let cookie = session_cookie(
        &token,
        state.config.session_ttl(),
        cookies_secure(&state, &headers),
    );
    let body = LoginResponse {
        message: format!("Welcome back, {}!", user.username),
        username: user.username,
        user_id: user.user_id,
    };
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), Json(body)))
}
