use leptos::prelude::*;

use crate::error::ApiError;

/// Where the login page goes once signed in, for its `return_to`: a path of facegate, the
/// forward-auth hand-over for an application's page, or `None` (not a safe address: the
/// welcome page). The server decides, because only it knows the forward-auth domains.
#[server(prefix = "/fn", endpoint = "login_destination")]
pub(crate) async fn login_destination(return_to: String) -> Result<Option<String>, ApiError> {
    use crate::forward_auth::return_to::ReturnTo;
    let state = super::ssr::app_state()?;
    let domains = &state.config.forward_auth.forward_auth_domains;
    Ok(ReturnTo::check(&return_to, domains).map(|target| target.destination()))
}
