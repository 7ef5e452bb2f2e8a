//! The signed-in person's own account: history, export, sign out everywhere, delete.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{AppendHeaders, IntoResponse},
};

use crate::{
    accounts::{
        ActivityEntry,
        ssr::{self as accounts, AccountExport, ClientMeta, SignedIn, audit},
    },
    error::AppError,
    http::auth::SessionCookie,
    state::AppState,
};

/// `GET /api/account/history`: recent sign-ins and refused attempts, newest first.
pub async fn history(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<Vec<ActivityEntry>>, AppError> {
    Ok(Json(
        audit::recent(&state.accounts, signed_in.user_id, audit::HISTORY_SHOWN).await?,
    ))
}

/// `GET /api/account/export`: everything stored about you, as a JSON download.
pub async fn export(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: ClientMeta,
) -> Result<impl IntoResponse, AppError> {
    let export: AccountExport = accounts::export_account(&state.accounts, &signed_in, &client).await?;
    let disposition = "attachment; filename=\"facegate-account.json\"";
    Ok((
        AppendHeaders([(axum::http::header::CONTENT_DISPOSITION, disposition)]),
        Json(export),
    ))
}

/// `POST /api/account/sign-out-everywhere`: ends every session of yours, this one included.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    cookie: SessionCookie,
    signed_in: SignedIn,
    client: ClientMeta,
) -> Result<impl IntoResponse, AppError> {
    accounts::sign_out_everywhere(&state.accounts, &signed_in, &client).await?;
    Ok((StatusCode::NO_CONTENT, cookie.clear(), ()))
}

/// `DELETE /api/account`: the signed-in user deletes themselves and everything stored about
/// them; the login must be under 5 minutes old.
pub async fn delete_account(
    State(state): State<AppState>,
    cookie: SessionCookie,
    signed_in: SignedIn,
) -> Result<impl IntoResponse, AppError> {
    accounts::delete_account(&state.accounts, &signed_in).await?;
    Ok((StatusCode::NO_CONTENT, cookie.clear(), ()))
}
