use leptos::prelude::*;

use crate::{accounts::ActivityEntry, error::ApiError};

/// The signed-in user's recent sign-ins and refused attempts, newest first.
#[server(prefix = "/fn", endpoint = "account_history")]
pub(crate) async fn account_history() -> Result<Vec<ActivityEntry>, ApiError> {
    use crate::{
        accounts::ssr::{SignedIn, audit},
        error::AppError,
    };
    let state = super::ssr::app_state()?;
    let signed_in: SignedIn = super::ssr::extract(&state).await?;
    audit::recent(&state.accounts, signed_in.user_id, audit::HISTORY_SHOWN)
        .await
        .map_err(AppError::into_server_fn_error)
}
