use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{
    ApiJson,
    face_proof::{Face, FaceEvidence},
};
use crate::{accounts::ssr as accounts, error::AppError, live::Purpose, state::AppState};

#[derive(Deserialize)]
pub struct RegisterRequest {
    email: String,
    username: String,
    #[serde(flatten)]
    face: FaceEvidence,
}

#[derive(Serialize)]
pub struct RegisterResponse {
    message: String,
    user_id: String,
}

/// `POST /api/register` with `{username, email}` and `{proof}`, `{nonce, frames}` or (if
/// allowed) `{image}`.
pub async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), AppError> {
    let (username, email) = (request.username, request.email);
    let user = match request.face.into_face(&state, Purpose::Register).await? {
        Face::Proof(proof) => accounts::register_with_proof(&state, &username, &email, &proof).await?,
        Face::Checked(check) => {
            accounts::register_with_check(&state, &username, &email, &check.encodings).await?
        }
        Face::SingleImage(image) => accounts::register_single_image(&state, &username, &email, image).await?,
    };
    let message = format!("Registered {}. You can now log in with your face.", user.username);
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            message,
            user_id: user.user_id,
        }),
    ))
}
