use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::ApiJson;
use crate::{accounts, error::AppError, face::ImageInput, state::AppState};

#[derive(Deserialize)]
pub struct RegisterRequest {
    email: String,
    username: String,
    /// Base64 or a `data:` URL of a JPEG/PNG/WebP picture.
    image: String,
}

#[derive(Serialize)]
pub struct RegisterResponse {
    message: String,
    user_id: String,
}

pub async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), AppError> {
    let user = accounts::ssr::register(
        &state,
        &request.username,
        &request.email,
        ImageInput::Text(request.image),
    )
    .await?;
    let message = format!("Registered {}. You can now log in with your face.", user.username);
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            message,
            user_id: user.user_id,
        }),
    ))
}
