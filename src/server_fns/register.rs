use leptos::prelude::*;

use crate::{accounts::Registered, error::ApiError};

/// Registers `username` + `email` + `pin` with the face of a passed live check (`proof`, from
/// the live socket opened with `purpose=register`).
#[server(prefix = "/fn", endpoint = "register")]
pub(crate) async fn register(
    username: String,
    email: String,
    pin: String,
    proof: String,
) -> Result<Registered, ApiError> {
    use crate::{accounts::ssr, error::AppError};
    let state = super::ssr::app_state()?;
    let client: ssr::ClientMeta = super::ssr::extract(&state).await?;
    let account = ssr::NewAccount {
        username: &username,
        email: &email,
        pin: &pin,
    };
    ssr::register_with_proof(&state.accounts, account, &proof, &client)
        .await
        .map_err(AppError::into_server_fn_error)
}
