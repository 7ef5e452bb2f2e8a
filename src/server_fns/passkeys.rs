//! Passkeys from the pages: listing, adding, renaming and removing them on the welcome page, using
//! one instead of the PIN at login.
//! Options and credentials travel as JSON text: the browser hands them to and takes them from
//! `navigator.credentials` in the WebAuthn JSON format (`parseCreationOptionsFromJSON`,
//! `toJSON()`), which webauthn-rs reads as is.

use leptos::prelude::*;

use crate::{
    accounts::{PasskeyInfo, SignedInUser},
    error::ApiError,
};

#[cfg(feature = "ssr")]
fn parse<T: serde::de::DeserializeOwned>(credential: &str) -> Result<T, ApiError> {
    use crate::error::AppError;
    serde_json::from_str(credential).map_err(|e| {
        AppError::BadRequest {
            code: "invalid_credential",
            message: format!("The browser's passkey answer is not valid: {e}"),
        }
        .into_server_fn_error()
    })
}

#[cfg(feature = "ssr")]
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    use crate::error::AppError;
    serde_json::to_string(value)
        .map_err(|e| AppError::Internal(format!("serialising passkey options: {e}")).into_server_fn_error())
}

/// Starts adding a passkey to the signed-in account: `{ceremony, options}` as JSON.
#[server(prefix = "/fn", endpoint = "start_adding_passkey")]
pub(crate) async fn start_adding_passkey() -> Result<String, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    let ceremony = ssr::passkeys::start_adding(&state.accounts, &signed_in)
        .await
        .map_err(AppError::into_server_fn_error)?;
    to_json(&ceremony)
}

/// Stores the passkey the browser created (`credential`: its `toJSON()`).
#[server(prefix = "/fn", endpoint = "finish_adding_passkey")]
pub(crate) async fn finish_adding_passkey(ceremony: String, credential: String) -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    let client: ssr::ClientMeta = super::ssr::extract(&state).await?;
    let credential = parse(&credential)?;
    ssr::passkeys::finish_adding(&state.accounts, &signed_in, &ceremony, &credential, None, &client)
        .await
        .map_err(AppError::into_server_fn_error)
}

/// Starts confirming a login ticket with a passkey instead of the PIN.
#[server(prefix = "/fn", endpoint = "start_passkey_login")]
pub(crate) async fn start_passkey_login(ticket: String) -> Result<String, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let ceremony = ssr::passkeys::start_login(&state.accounts, &ticket)
        .await
        .map_err(AppError::into_server_fn_error)?;
    to_json(&ceremony)
}

/// Signs in with the passkey assertion (`credential`: its `toJSON()`); sets the session cookie.
#[server(prefix = "/fn", endpoint = "finish_passkey_login")]
pub(crate) async fn finish_passkey_login(
    ceremony: String,
    credential: String,
) -> Result<SignedInUser, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let credential = parse(&credential)?;
    let (user, token) = ssr::passkeys::finish_login(
        &state.accounts,
        &ceremony,
        &credential,
        super::ssr::login_context(),
    )
    .await
    .map_err(AppError::into_server_fn_error)?;
    let cookie = super::ssr::session_cookie(&state).set(&token);
    super::ssr::set_cookie(cookie);
    Ok(user)
}

/// The signed-in account's passkeys, oldest first.
#[server(prefix = "/fn", endpoint = "list_passkeys")]
pub(crate) async fn list_passkeys() -> Result<Vec<PasskeyInfo>, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    ssr::passkeys::list(&state.accounts, &signed_in)
        .await
        .map_err(AppError::into_server_fn_error)
}

/// Renames one of the signed-in account's passkeys.
#[server(prefix = "/fn", endpoint = "rename_passkey")]
pub(crate) async fn rename_passkey(id: String, name: String) -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    ssr::passkeys::rename(&state.accounts, &signed_in, &id, &name)
        .await
        .map_err(AppError::into_server_fn_error)
}

/// Removes one of the signed-in account's passkeys (login under 5 minutes old).
#[server(prefix = "/fn", endpoint = "remove_passkey")]
pub(crate) async fn remove_passkey(id: String) -> Result<(), ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let signed_in: ssr::SignedIn = super::ssr::extract(&state).await?;
    let client: ssr::ClientMeta = super::ssr::extract(&state).await?;
    ssr::passkeys::remove(&state.accounts, &signed_in, &id, &client)
        .await
        .map_err(AppError::into_server_fn_error)
}
