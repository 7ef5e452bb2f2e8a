use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header::SET_COOKIE},
    response::{AppendHeaders, IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{
    ApiJson,
    face_proof::{Face, FaceEvidence},
};
use crate::{
    accounts::{
        SecondFactorPrompt, SignedInUser,
        ssr::{self as accounts, ClientMeta, LoginContext, LoginOutcome, SessionCookie, SessionToken},
    },
    error::AppError,
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
    headers: HeaderMap,
    client: ClientMeta,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let context = LoginContext::new(client.clone(), &headers);
    let outcome = match request.face.into_face(&state, Purpose::Login).await? {
        Face::Proof(proof) => accounts::login_with_proof(&state, &proof, context).await?,
        Face::Checked(check) => accounts::login_with_check(&state, &check.encodings, context).await?,
        Face::SingleImage(image) => accounts::login_single_image(&state, image, context).await?,
    };
    let (user, token) = match (outcome, request.pin) {
        (LoginOutcome::SignedIn(user, token), _) => (user, token),
        (LoginOutcome::SecondFactor(prompt), Some(pin)) => {
            let context = LoginContext::new(client, &headers);
            accounts::confirm_pin(&state, &prompt.ticket, &pin, context).await?
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
    Ok(signed_in_response(&state, &headers, user, token))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PinRequest {
    ticket: String,
    pin: String,
}

/// `POST /api/login/pin` with `{ticket, pin}`: the second step of a login.
pub async fn confirm_pin(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientMeta,
    ApiJson(request): ApiJson<PinRequest>,
) -> Result<Response, AppError> {
    let context = LoginContext::new(client, &headers);
    let (user, token) = accounts::confirm_pin(&state, &request.ticket, &request.pin, context).await?;
    Ok(signed_in_response(&state, &headers, user, token))
}

pub(super) fn signed_in_response(
    state: &AppState,
    headers: &HeaderMap,
    user: SignedInUser,
    token: SessionToken,
) -> Response {
    let cookie =
        SessionCookie::for_request(state, headers).set(&token, state.config.accounts.session_lifetime());
    let body = LoginResponse {
        message: accounts::greeting(&user),
        username: user.username,
        user_id: user.user_id,
    };
    (AppendHeaders([(SET_COOKIE, cookie)]), Json(body)).into_response()
}
