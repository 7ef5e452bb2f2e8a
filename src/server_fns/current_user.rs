use leptos::prelude::*;

use crate::{accounts::SignedInUser, error::ApiError};

/// The signed-in user of this request's session cookie, or `None`.
#[server(prefix = "/fn", endpoint = "current_user")]
pub(crate) async fn current_user() -> Result<Option<SignedInUser>, ApiError> {
    use crate::accounts::ssr::SignedIn;
    let state = super::ssr::app_state()?;
    let signed_in: Option<SignedIn> = super::ssr::extract(&state).await?;
    Ok(signed_in.map(|s| s.user))
}
