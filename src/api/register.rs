use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{
    ApiJson,
    face_proof::{Face, FaceEvidence},
};
use crate::{
    accounts::ssr::{self as accounts, ClientMeta, NewAccount},
    error::AppError,
    live::Purpose,
    state::AppState,
};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    email: String,
    username: String,
    /// 6-12 digits: the second factor of every login.
    #[serde(default)]
    pin: String,
    #[serde(flatten)]
    face: FaceEvidence,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisterResponse {
    message: String,
    user_id: String,
}

/// `POST /api/register` with `{username, email, pin}` and `{proof}`, `{nonce, frames}` or (if
/// allowed) `{image}`.
pub async fn register(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), AppError> {
    let account = NewAccount {
        username: &request.username,
        email: &request.email,
        pin: &request.pin,
    };
    let user = match request.face.into_face(&state, Purpose::Register).await? {
        Face::Proof(proof) => {
            accounts::register_with_proof(&state.accounts, account, &proof, &client).await?
        }
        Face::Checked(check) => {
            accounts::register_with_check(&state.accounts, account, &check.encodings, &client).await?
        }
        Face::SingleImage(image) => {
            accounts::register_single_image(&state.accounts, account, image, &client).await?
        }
    };
    let message = format!(
        "Registered {}. You can now log in with your face and PIN.",
        user.username
    );
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            message,
            user_id: user.user_id,
        }),
    ))
}
