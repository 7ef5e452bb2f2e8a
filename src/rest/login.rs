use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header::SET_COOKIE},
    response::{AppendHeaders, IntoResponse},
};
use serde::Serialize;

use super::{
    ApiJson,
    face_proof::{Face, FaceEvidence},
};
use crate::{
    accounts::ssr::{self as accounts, cookies_secure, session_cookie},
    error::AppError,
    live::Purpose,
    state::AppState,
};

#[derive(Serialize)]
pub struct LoginResponse {
    message: String,
    username: String,
    user_id: String,
}

/// `POST /api/login` with `{proof}`, `{nonce, frames}` or (if allowed) `{image}`.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(evidence): ApiJson<FaceEvidence>,
) -> Result<impl IntoResponse, AppError> {
    let (user, token) = match evidence.into_face(&state, Purpose::Login).await? {
        Face::Proof(proof) => accounts::login_with_proof(&state, &proof).await?,
        Face::Checked(check) => accounts::login_with_check(&state, &check.encodings).await?,
        Face::SingleImage(image) => accounts::login_single_image(&state, image).await?,
    };
    let cookie = session_cookie(
        &token,
        state.config.session_ttl(),
        cookies_secure(&state, &headers),
    );
    let body = LoginResponse {
        message: accounts::greeting(&user),
        username: user.username,
        user_id: user.user_id,
    };
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), Json(body)))
}
