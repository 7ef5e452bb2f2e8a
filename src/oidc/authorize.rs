//! `GET|POST /oauth2/authorize`: the authorization request (OIDC Core §3.1.2, RFC 6749 §4.1,
//! RFC 7636). Needs a usable facegate session — otherwise the person is sent to the login page,
//! which comes back here — and the person's consent for this client and these scopes.

use std::collections::BTreeMap;

use axum::{
    Form,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use mongodb::bson::DateTime;

use super::{
    CODE_TTL, Issuer,
    clients::Client,
    pkce, random_token,
    store::{self, CodeDoc, Grant},
    token_hash,
};
use crate::{accounts::ssr::SignedIn, error::AppError, state::AppState};

/// Marks a request whose `prompt=login` was already answered by sending the person to the
/// login page at this time (ms): a session opened since then is fresh enough.
pub(crate) const LOGIN_AFTER: &str = "fg_login_after";
/// The same for `prompt=consent` and the consent page.
pub(crate) const CONSENT_AFTER: &str = "fg_consent_after";

type Params = BTreeMap<String, String>;

pub async fn authorize_get(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    signed_in: Option<SignedIn>,
    Query(params): Query<Params>,
) -> Response {
    authorize(&state, signed_in, params, &iss).await
}

pub async fn authorize_post(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    signed_in: Option<SignedIn>,
    Form(params): Form<Params>,
) -> Response {
    authorize(&state, signed_in, params, &iss).await
}

/// A checked authorization request.
pub struct Request {
    pub(crate) client: Client,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub login_after: Option<i64>,
    pub consent_after: Option<i64>,
}

/// Refused before the redirect URI is trusted: shown here, never sent anywhere.
fn unusable(code: &'static str, message: &str) -> AppError {
    AppError::BadRequest {
        code,
        message: message.into(),
    }
}

/// Refused after: goes back to the client as `error=…` (RFC 6749 §4.1.2.1).
pub struct Refusal {
    pub error: &'static str,
    pub(crate) description: String,
}

fn refusal(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        error,
        description: description.into(),
    }
}

/// An authorization request whose client and redirect URI are known good; the rest may still be
/// refused (to the redirect URI).
pub struct Parsed {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub request: Result<Request, Refusal>,
}

/// Finds the client and checks the redirect URI; then the rest of the request.
pub fn parse(state: &AppState, params: &Params) -> Result<Parsed, AppError> {
    let get = |key: &str| params.get(key).filter(|v| !v.is_empty()).cloned();
    let client_id =
        get("client_id").ok_or_else(|| unusable("invalid_request", "The sign-in link has no client_id."))?;
    let client = state.oidc.clients.get(&client_id).ok_or_else(|| {
        unusable(
            "invalid_client",
            "The application that sent you here is not registered with facegate. Ask its administrator.",
        )
    })?;
    let redirect_uri = get("redirect_uri")
        .ok_or_else(|| unusable("invalid_request", "The sign-in link has no redirect_uri."))?;
    if !client.redirect_uri_allowed(&redirect_uri) {
        return Err(unusable(
            "invalid_redirect_uri",
            "The sign-in link would send you back to an address this application did not register. It was stopped.",
        ));
    }
    let request = check(&client, &redirect_uri, params);
    Ok(Parsed {
        redirect_uri,
        state: get("state"),
        request,
    })
}

fn check(client: &Client, redirect_uri: &str, params: &Params) -> Result<Request, Refusal> {
    let get = |key: &str| params.get(key).filter(|v| !v.is_empty()).cloned();
    if get("request").is_some() {
        return Err(refusal(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if get("request_uri").is_some() {
        return Err(refusal(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    if get("response_type").as_deref() != Some("code") {
        return Err(refusal(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(refusal(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    let scopes: Vec<String> = get("scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refusal("invalid_scope", "the scope must include openid"));
    }
    if let Some(scope) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(refusal(
            "invalid_scope",
            format!("scope {scope} is not allowed for this client"),
        ));
    }
    let mut scopes = scopes;
    scopes.sort();
    scopes.dedup();
    let code_challenge = get("code_challenge");
    match (&code_challenge, get("code_challenge_method").as_deref()) {
        (None, None) if client.is_public() => {
            return Err(refusal(
                "invalid_request",
                "public clients must use PKCE (code_challenge, S256)",
            ));
        }
        (None, None) => {}
        (Some(challenge), Some("S256")) if pkce::challenge_is_well_formed(challenge) => {}
        (Some(_), Some("S256")) => return Err(refusal("invalid_request", "code_challenge is malformed")),
        (Some(_), _) => return Err(refusal("invalid_request", "code_challenge_method must be S256")),
        (None, Some(_)) => {
            return Err(refusal(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
    }
    let prompt: Vec<String> = get("prompt")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if let Some(value) = prompt
        .iter()
        .find(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account"))
    {
        return Err(refusal(
            "invalid_request",
            format!("unknown prompt value {value}"),
        ));
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(refusal(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    let number = |key: &str| -> Result<Option<i64>, Refusal> {
        get(key)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| refusal("invalid_request", format!("{key} must be a number")))
            })
            .transpose()
    };
    let redirect_uri = redirect_uri.to_string();
    Ok(Request {
        client: client.clone(),
        redirect_uri,
        scopes,
        state: get("state"),
        nonce: get("nonce"),
        code_challenge,
        prompt,
        max_age: number("max_age")?,
        login_hint: get("login_hint"),
        login_after: number(LOGIN_AFTER)?,
        consent_after: number(CONSENT_AFTER)?,
    })
}

/// `location` with `pairs` appended to its query.
pub(crate) fn with_query(location: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(location) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (key, value) in pairs {
                    query.append_pair(key, value);
                }
            }
            url.to_string()
        }
        Err(_) => location.to_string(),
    }
}

pub fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_string())]).into_response()
}

/// Back to the client with an error (and `state`, and `iss` per RFC 9207).
pub fn refuse_to_client(
    redirect_uri: &str,
    oauth_state: Option<&str>,
    iss: &str,
    refusal: &Refusal,
) -> Response {
    let mut pairs = vec![
        ("error", refusal.error),
        ("error_description", refusal.description.as_str()),
    ];
    if let Some(s) = oauth_state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", iss));
    found(&with_query(redirect_uri, &pairs))
}

/// The path and query of this authorization request as a GET, with `params` changed: what the
/// login and consent pages come back to.
pub fn authorize_path(params: &Params) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    format!("/oauth2/authorize?{query}")
}

fn percent(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Drops `value` from the request's `prompt` and marks when it was answered.
fn answered(params: &Params, value: &str, marker: &str) -> Params {
    let mut params = params.clone();
    let rest: Vec<&str> = params
        .get("prompt")
        .map(|p| p.split_whitespace().filter(|p| *p != value).collect())
        .unwrap_or_default();
    if rest.is_empty() {
        params.remove("prompt");
    } else {
        params.insert("prompt".into(), rest.join(" "));
    }
    params.insert(marker.into(), DateTime::now().timestamp_millis().to_string());
    params
}

async fn authorize(state: &AppState, signed_in: Option<SignedIn>, params: Params, iss: &str) -> Response {
    let Parsed {
        redirect_uri,
        state: oauth_state,
        request,
    } = match parse(state, &params) {
        Ok(parsed) => parsed,
        Err(e) => return e.into_response(),
    };
    let refuse = |r: Refusal| refuse_to_client(&redirect_uri, oauth_state.as_deref(), iss, &r);
    let request = match request {
        Ok(request) => request,
        Err(r) => return refuse(r),
    };
    let prompt_none = request.prompt.iter().any(|p| p == "none");
    let now = DateTime::now().timestamp_millis();

    // A usable session: present, and fresh enough for prompt=login / max_age.
    let needs_login = match &signed_in {
        None => true,
        Some(signed_in) => {
            let logged_in_at = signed_in.session.created_at.timestamp_millis();
            let too_old = request
                .max_age
                .is_some_and(|max| now - logged_in_at > max.saturating_mul(1000));
            let before_marker = request.login_after.is_some_and(|after| logged_in_at < after);
            let someone_else = request.login_after.is_none()
                && request
                    .login_hint
                    .as_deref()
                    .is_some_and(|hint| !hint.eq_ignore_ascii_case(&signed_in.user.username));
            too_old || before_marker || someone_else || request.prompt.iter().any(|p| p == "login")
        }
    };
    if needs_login {
        if prompt_none {
            return refuse(refusal(
                "login_required",
                "the person is not signed in to facegate",
            ));
        }
        // Coming back, a session opened from now on counts; an older one does not (no loop,
        // and no skipping the login that prompt=login asked for).
        let back = if request.prompt.iter().any(|p| p == "login") || signed_in.is_some() {
            answered(&params, "login", LOGIN_AFTER)
        } else {
            params.clone()
        };
        return found(&format!("/login?return_to={}", percent(&authorize_path(&back))));
    }
    let Some(signed_in) = signed_in else {
        return refuse(refusal(
            "login_required",
            "the person is not signed in to facegate",
        ));
    };

    let consent = match store::consent(&state.db, &signed_in.user_id, &request.client.id).await {
        Ok(consent) => consent,
        Err(e) => return refuse(refusal("temporarily_unavailable", format!("database: {e}"))),
    };
    let consent_covers = consent.as_ref().is_some_and(|c| {
        request.scopes.iter().all(|s| c.scopes.contains(s))
            && request
                .consent_after
                .is_none_or(|after| c.granted_at.timestamp_millis() >= after)
    });
    let ask_consent = request.prompt.iter().any(|p| p == "consent") || !consent_covers;
    if ask_consent {
        if prompt_none {
            return refuse(refusal(
                "consent_required",
                "the person has not yet agreed to sign in to this application",
            ));
        }
        let back = if request.prompt.iter().any(|p| p == "consent") {
            answered(&params, "consent", CONSENT_AFTER)
        } else {
            params.clone()
        };
        return found(&format!("/consent?return_to={}", percent(&authorize_path(&back))));
    }

    match issue_code(state, &signed_in, request).await {
        Ok((code, request)) => {
            let mut pairs = vec![("code", code.as_str())];
            if let Some(s) = request.state.as_deref() {
                pairs.push(("state", s));
            }
            pairs.push(("iss", iss));
            found(&with_query(&request.redirect_uri, &pairs))
        }
        Err(e) => refuse(refusal("server_error", e.to_string())),
    }
}

/// Stores a new code (by hash) for this request and session; returns the code.
async fn issue_code(
    state: &AppState,
    signed_in: &SignedIn,
    request: Request,
) -> Result<(String, Request), AppError> {
    let (amr, acr) = super::amr_and_acr(&signed_in.session.amr, !state.config.live.allow_single_image);
    let code = random_token();
    let doc = CodeDoc {
        hash: token_hash(&code),
        grant: Grant {
            grant_id: random_token(),
            client_id: request.client.id.clone(),
            user_id: signed_in.user_id,
            scopes: request.scopes.clone(),
            auth_time: signed_in.session.created_at,
            amr,
            acr,
        },
        redirect_uri: request.redirect_uri.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        expires_at: store::after(CODE_TTL),
    };
    state.db.oidc_codes().insert_one(&doc).await?;
    tracing::info!(client = %request.client.id, user_id = %signed_in.user_id, "authorization code issued");
    Ok((code, request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answering_a_prompt_drops_it_and_marks_the_time() {
        let mut params = Params::new();
        params.insert("prompt".into(), "login consent".into());
        params.insert("client_id".into(), "a b".into());
        let back = answered(&params, "login", LOGIN_AFTER);
        assert_eq!(back.get("prompt").map(String::as_str), Some("consent"));
        assert!(back.get(LOGIN_AFTER).is_some_and(|t| t.parse::<i64>().is_ok()));
        let path = authorize_path(&back);
        assert!(path.starts_with("/oauth2/authorize?client_id=a+b&"), "{path}");
        assert!(!answered(&back, "consent", CONSENT_AFTER).contains_key("prompt"));
    }

    #[test]
    fn query_pairs_are_appended_and_encoded() {
        assert_eq!(
            with_query("https://rp.example/cb?x=1", &[("code", "a/b"), ("state", "s t")]),
            "https://rp.example/cb?x=1&code=a%2Fb&state=s+t"
        );
    }
}
