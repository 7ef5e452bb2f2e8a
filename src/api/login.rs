use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{
    ApiJson,
    face_proof::{Face, FaceEvidence},
};
use crate::{
    accounts::{
        SecondFactorPrompt, SignedInUser,
        ssr::{self as accounts, LoginContext, LoginOutcome, SessionToken},
    },
    error::AppError,
    http::auth::SessionCookie,
    live::Purpose,
    state::AppState,
};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    #[serde(flatten)]
    face: FaceEvidence,
    /// The PIN, for clients that send both factors at once.
    #[serde(default)]
    pin: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    message: String,
    username: String,
    user_id: String,
}

/// 401 with the ticket to send the PIN with: `POST /api/login/pin {ticket, pin}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct SecondFactorRequired {
    error: &'static str,
    message: &'static str,
    #[serde(flatten)]
    prompt: SecondFactorPrompt,
}

/// `POST /api/login` with `{proof}`, `{nonce, frames}` or (if allowed) `{image}`, and optionally
/// `pin`. Without the PIN, when the account needs it: 401 `second_factor_required` with a ticket.
pub async fn login(
    State(state): State<AppState>,
    cookie: SessionCookie,
    context: LoginContext,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    // The PIN, when sent along, is a second step of the same request: same client, and the same
    // older session to end.
    let pin_context = context.clone();
    let outcome = match request.face.into_face(&state, Purpose::Login).await? {
        Face::Proof(proof) => accounts::login_with_proof(&state.accounts, &proof, context).await?,
        Face::Checked(check) => {
            accounts::login_with_check(&state.accounts, &check.encodings, context).await?
        }
        Face::SingleImage(image) => accounts::login_single_image(&state.accounts, image, context).await?,
    };
    let (user, token) = match (outcome, request.pin) {
        (LoginOutcome::SignedIn(user, token), _) => (user, token),
        (LoginOutcome::SecondFactor(prompt), Some(pin)) => {
            accounts::confirm_pin(&state.accounts, &prompt.ticket, &pin, pin_context).await?
        }
        (LoginOutcome::SecondFactor(prompt), None) => {
            let body = SecondFactorRequired {
                error: "second_factor_required",
                message: "Face recognised. Now enter your PIN.",
                prompt,
            };
            return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
        }
    };
    Ok(signed_in_response(cookie, user, token))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PinRequest {
    ticket: String,
    pin: String,
}

/// `POST /api/login/pin` with `{ticket, pin}`: the second step of a login.
pub async fn confirm_pin(
    State(state): State<AppState>,
    cookie: SessionCookie,
    context: LoginContext,
    ApiJson(request): ApiJson<PinRequest>,
) -> Result<Response, AppError> {
    let (user, token) =
        accounts::confirm_pin(&state.accounts, &request.ticket, &request.pin, context).await?;
    Ok(signed_in_response(cookie, user, token))
}

pub(super) fn signed_in_response(cookie: SessionCookie, user: SignedInUser, token: SessionToken) -> Response {
    let body = LoginResponse {
        message: accounts::greeting(&user),
        username: user.username,
        user_id: user.user_id,
    };
    (cookie.set(&token), Json(body)).into_response()
}
