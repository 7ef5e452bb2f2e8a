//! The OpenID Connect consent page and "Apps you signed in to" on the welcome page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// What the consent page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConsentPrompt {
    pub(crate) client_name: String,
    pub(crate) username: String,
    /// The scopes asked for beyond `openid`.
    pub(crate) scopes: Vec<String>,
}

/// An application the person agreed to sign in to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SignedInApp {
    pub(crate) client_id: String,
    pub(crate) name: String,
    pub(crate) scopes: Vec<String>,
    /// RFC 3339.
    pub(crate) granted_at: String,
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::BTreeMap;

    use crate::{
        error::{ApiError, AppError},
        oidc::authorize,
        state::AppState,
    };

    /// The authorization request a consent page came from (`/oauth2/authorize?…`), checked like
    /// the authorize endpoint checks it.
    pub(crate) fn authorization(state: &AppState, return_to: &str) -> Result<authorize::Request, ApiError> {
        let refused = |message: &str| {
            AppError::BadRequest {
                code: "invalid_request",
                message: message.into(),
            }
            .into_server_fn_error()
        };
        let query = return_to
            .strip_prefix("/oauth2/authorize?")
            .ok_or_else(|| refused("This page needs the sign-in request of an application."))?;
        let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let parsed = authorize::parse(state, &params).map_err(AppError::into_server_fn_error)?;
        parsed.request.map_err(|r| {
            refused(&format!(
                "The application's request is not valid: {}",
                r.description
            ))
        })
    }
}

/// The application and scopes of the authorization request `return_to`.
#[server(prefix = "/fn", endpoint = "consent_request")]
pub(crate) async fn consent_request(return_to: String) -> Result<ConsentPrompt, ApiError> {
    use crate::accounts::ssr::SignedIn;
    let state = super::ssr::app_state()?;
    let signed_in: SignedIn = super::ssr::extract(&state).await?;
    let request = ssr::authorization(&state, &return_to)?;
    Ok(ConsentPrompt {
        client_name: request.client.display_name().to_string(),
        username: signed_in.user.username,
        scopes: request.scopes.into_iter().filter(|s| s != "openid").collect(),
    })
}

/// Allows or denies; answers the address the browser goes to next: back to the authorization
/// request (which now finds the consent), or to the application with `error=access_denied`.
#[server(prefix = "/fn", endpoint = "answer_consent")]
pub(crate) async fn answer_consent(return_to: String, allow: bool) -> Result<String, ApiError> {
    use crate::{accounts::ssr::SignedIn, error::AppError, oidc};
    let state = super::ssr::app_state()?;
    let signed_in: SignedIn = super::ssr::extract(&state).await?;
    let request = ssr::authorization(&state, &return_to)?;
    let client = request.client.clone();
    if !allow {
        let parts = leptos::prelude::use_context::<axum::http::request::Parts>()
            .unwrap_or_else(|| axum::http::Request::new(()).into_parts().0);
        let iss = oidc::issuer(&state.config, &parts);
        let pairs: Vec<(&str, &str)> = [
            ("error", "access_denied"),
            ("error_description", "the person declined"),
        ]
        .into_iter()
        .chain(request.state.as_deref().map(|s| ("state", s)))
        .chain([("iss", iss.as_str())])
        .collect();
        tracing::info!(client = %client.id, "consent declined");
        return Ok(oidc::authorize::with_query(&request.redirect_uri, &pairs));
    }
    let previous = oidc::store::consent(&state.db, &signed_in.user_id, &client.id)
        .await
        .map_err(|e| AppError::from(e).into_server_fn_error())?;
    let mut scopes = previous.map(|c| c.scopes).unwrap_or_default();
    scopes.extend(request.scopes);
    scopes.sort();
    scopes.dedup();
    oidc::store::save_consent(&state.db, signed_in.user_id, &client.id, &scopes)
        .await
        .map_err(|e| AppError::from(e).into_server_fn_error())?;
    tracing::info!(client = %client.id, user_id = %signed_in.user_id, "consent given");
    Ok(return_to)
}

/// The applications the signed-in person agreed to sign in to.
#[server(prefix = "/fn", endpoint = "signed_in_apps")]
pub(crate) async fn signed_in_apps() -> Result<Vec<SignedInApp>, ApiError> {
    use crate::{accounts::ssr::SignedIn, error::AppError, oidc};
    let state = super::ssr::app_state()?;
    let signed_in: SignedIn = super::ssr::extract(&state).await?;
    let consents = oidc::store::consents_of(&state.db, signed_in.user_id)
        .await
        .map_err(|e| AppError::from(e).into_server_fn_error())?;
    let clients = state.oidc.clients.file();
    Ok(consents
        .into_iter()
        .map(|c| SignedInApp {
            name: clients
                .get(&c.client_id)
                .map_or_else(|| c.client_id.clone(), |client| client.display_name().to_string()),
            client_id: c.client_id,
            scopes: c.scopes.into_iter().filter(|s| s != "openid").collect(),
            granted_at: c.granted_at.try_to_rfc3339_string().unwrap_or_default(),
        })
        .collect())
}

/// Withdraws the consent to one application: its next sign-in asks again, and its refresh
/// tokens stop working.
#[server(prefix = "/fn", endpoint = "revoke_app")]
pub(crate) async fn revoke_app(client_id: String) -> Result<(), ApiError> {
    use crate::{accounts::ssr::SignedIn, error::AppError, oidc};
    let state = super::ssr::app_state()?;
    let signed_in: SignedIn = super::ssr::extract(&state).await?;
    oidc::store::revoke_consent(&state.db, &signed_in.user_id, &client_id)
        .await
        .map_err(|e| AppError::from(e).into_server_fn_error())?;
    tracing::info!(client = %client_id, user_id = %signed_in.user_id, "consent withdrawn");
    Ok(())
}
