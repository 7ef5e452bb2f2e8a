//! Passkeys over REST: list, add, rename and remove the signed-in account's; use one instead of
//! the PIN at login. Bodies follow the WebAuthn JSON format (`PublicKeyCredential.toJSON()`).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::ApiJson;
use crate::{
    accounts::{
        PasskeyInfo,
        ssr::{ClientMeta, LoginContext, SignedIn, passkeys},
    },
    error::AppError,
    http::auth::SessionCookie,
    state::AppState,
};

/// `POST /api/account/passkeys/start` → `{ceremony, options}`; hand `options.publicKey` to
/// `navigator.credentials.create`.
pub async fn start_adding(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(passkeys::start_adding(&state.accounts, &signed_in).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct FinishAdding {
    ceremony: String,
    #[schema(value_type = Object)]
    credential: RegisterPublicKeyCredential,
    /// Optional; "Passkey added <date>" when absent.
    name: Option<String>,
}

/// `POST /api/account/passkeys/finish` with `{ceremony, credential[, name]}` → 204.
pub async fn finish_adding(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: ClientMeta,
    ApiJson(request): ApiJson<FinishAdding>,
) -> Result<impl IntoResponse, AppError> {
    passkeys::finish_adding(
        &state.accounts,
        &signed_in,
        &request.ceremony,
        &request.credential,
        request.name.as_deref(),
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/account/passkeys` → `[{id, name, created_at, last_used_at}, …]`, oldest first.
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<Vec<PasskeyInfo>>, AppError> {
    Ok(Json(passkeys::list(&state.accounts, &signed_in).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Rename {
    name: String,
}

/// `PATCH /api/account/passkeys/{id}` with `{name}` → 204.
pub async fn rename(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Rename>,
) -> Result<StatusCode, AppError> {
    passkeys::rename(&state.accounts, &signed_in, &id, &request.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/account/passkeys/{id}` → 204 (login under 5 minutes old).
pub async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: ClientMeta,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    passkeys::remove(&state.accounts, &signed_in, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StartLogin {
    ticket: String,
}

/// `POST /api/login/passkey/start` with the `ticket` of a recognised face → `{ceremony, options}`;
/// hand `options.publicKey` to `navigator.credentials.get`.
pub async fn start_login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<StartLogin>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(
        passkeys::start_login(&state.accounts, &request.ticket).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct FinishLogin {
    ceremony: String,
    #[schema(value_type = Object)]
    credential: PublicKeyCredential,
}

/// `POST /api/login/passkey/finish` with `{ceremony, credential}` → as `POST /api/login/pin`.
pub async fn finish_login(
    State(state): State<AppState>,
    cookie: SessionCookie,
    context: LoginContext,
    ApiJson(request): ApiJson<FinishLogin>,
) -> Result<Response, AppError> {
    let (user, token) =
        passkeys::finish_login(&state.accounts, &request.ceremony, &request.credential, context).await?;
    Ok(super::login::signed_in_response(cookie, user, token))
}
