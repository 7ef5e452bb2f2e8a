//! `GET|POST /oauth2/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//! Ends the facegate session and revokes the grant named by `id_token_hint`, then goes back to
//! the client's `post_logout_redirect_uri` — only one it registered, matched exactly — with
//! `state`, or to facegate's login page.

use std::collections::BTreeMap;

use axum::{
    Form,
    extract::{Query, State},
    response::{IntoResponse, Response},
};

use super::{
    Issuer,
    authorize::{found, with_query},
    store,
    token::IdClaims,
};
use crate::{
    accounts::ssr::{self as accounts, ClientMeta, SignedIn},
    http::auth::SessionCookie,
    state::AppState,
};

type Params = BTreeMap<String, String>;

pub async fn logout_get(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    signed_in: Option<SignedIn>,
    client: ClientMeta,
    cookie: SessionCookie,
    Query(params): Query<Params>,
) -> Response {
    logout(&state, &iss, signed_in, &client, cookie, &params).await
}

pub async fn logout_post(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    signed_in: Option<SignedIn>,
    client: ClientMeta,
    cookie: SessionCookie,
    Form(params): Form<Params>,
) -> Response {
    logout(&state, &iss, signed_in, &client, cookie, &params).await
}

async fn logout(
    state: &AppState,
    iss: &str,
    signed_in: Option<SignedIn>,
    meta: &ClientMeta,
    cookie: SessionCookie,
    params: &Params,
) -> Response {
    // The hint is ours if its signature is (expired or not: logging out late is fine).
    let hint: Option<IdClaims> = params
        .get("id_token_hint")
        .and_then(|token| state.oidc.keys().verify("JWT", token).ok())
        .filter(|claims: &IdClaims| claims.iss == iss);
    let client_id = match (hint.as_ref().map(|h| h.aud.clone()), params.get("client_id")) {
        (Some(aud), Some(id)) if aud != *id => None,
        (Some(aud), _) => Some(aud),
        (None, id) => id.cloned(),
    };
    if let Some(hint) = &hint {
        let keep = store::after(state.config.oidc.refresh_token_lifetime());
        if let Err(e) = store::revoke(&state.db, &hint.sid, "logout", keep).await {
            tracing::warn!(error = %e, "could not revoke a grant at logout");
        }
    }
    let mut ended = false;
    if let Some(signed_in) = &signed_in {
        match accounts::logout(&state.accounts, signed_in, meta).await {
            Ok(()) => ended = true,
            Err(e) => return e.into_response(),
        }
    }
    let back = params
        .get("post_logout_redirect_uri")
        .zip(client_id.and_then(|id| state.oidc.clients.get(&id)))
        .filter(|(uri, client)| client.post_logout_uri_allowed(uri))
        .map(|(uri, _)| match params.get("state") {
            Some(s) => with_query(uri, &[("state", s)]),
            None => uri.clone(),
        });
    let mut response = found(back.as_deref().unwrap_or("/login"));
    if ended {
        cookie.clear().add_to(&mut response);
    }
    response
}
