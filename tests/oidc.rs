//! facegate as an OpenID Connect provider, with the `openidconnect` crate as the relying party
//! against the real server and a real FerretDB, and a person who really signed in: registered
//! and logged in with frames of a real video (live check) and the PIN. Every defence is tried as
//! the attack it stops (docs/security.md, "Attacks tried").

use crate::support;

use std::{path::PathBuf, time::Duration};

use mongodb::bson::{DateTime, doc};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyAdditionalClaims, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, UserInfoClaims,
    core::{
        CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreGenderClaim, CoreIdToken,
        CoreProviderMetadata, CoreTokenResponse,
    },
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use support::{PIN, TestServer, clip_frames, post};

const CLIENT_ID: &str = "wiki";
const SECRET: &str = "a-test-secret-of-some-length";
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const PINNED: &[&str] = &["--liveness-challenge", "turn_left,blink"];

/// Registers the confidential client `wiki` (known secret, one redirect URI, refresh tokens) in
/// a clients file, as `facegate clients add` would; returns the server flags naming it.
fn register_client(dir: &tempfile::TempDir) -> Vec<String> {
    use facegate::oidc::clients::{Client, ClientsFile, hash_secret};
    let path: PathBuf = dir.path().join("oidc-clients.toml");
    let file = ClientsFile {
        clients: vec![Client {
            id: CLIENT_ID.into(),
            name: Some("Team wiki".into()),
            secret_hash: Some(hash_secret(SECRET).expect("hash")),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec!["http://127.0.0.1:9/bye".into()],
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            refresh_tokens: true,
            pairwise_subject: false,
        }],
    };
    file.save(&path).expect("clients file");
    vec!["--oidc-clients-file".into(), path.display().to_string()]
}

async fn start() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let mut flags: Vec<String> = PINNED.iter().map(|s| s.to_string()).collect();
    flags.extend(register_client(&dir));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    (TestServer::start(&flags).await, dir)
}

/// A browser: keeps cookies, does not follow redirects (the test reads each one).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The relying party's HTTP client (openidconnect wants one that does not follow redirects).
fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn nonce(server: &TestServer, purpose: &str) -> Value {
    let (status, body) = post(
        &support::client(),
        server,
        "/api/liveness",
        json!({ "purpose": purpose }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Waits as long as the frames span, as a client recording them would.
async fn record(frames: &[Value]) {
    let span = frames.last().and_then(|f| f["t_ms"].as_f64()).unwrap_or(0.0);
    tokio::time::sleep(Duration::from_millis(span as u64)).await;
}

/// Registers Franck with frames of a real video, then logs `browser` in: live check + PIN.
async fn register_and_log_in(server: &TestServer, browser: &reqwest::Client) {
    let frames = clip_frames("franck", 20.0, 7.0);
    let challenge = nonce(server, "register").await;
    record(&frames).await;
    let body = json!({ "username": "Franck", "email": "franck@example.org", "pin": PIN,
                       "nonce": challenge["nonce"], "frames": frames });
    let (status, body) = post(&support::client(), server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let frames = clip_frames("franck", 55.0, 6.0);
    let challenge = nonce(server, "login").await;
    record(&frames).await;
    let body = json!({ "nonce": challenge["nonce"], "frames": frames, "pin": PIN });
    let (status, body) = post(browser, server, "/api/login", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

type Rp = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn relying_party(server: &TestServer, secret: &str, redirect: &str) -> Rp {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(server.base_url.clone()).expect("issuer"),
        &rp_http(),
    )
    .await
    .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(secret.into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.into()).expect("redirect"))
}

/// One authorization request as the relying party makes it.
struct Authorization {
    url: String,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

fn authorization(rp: &Rp, extra: &[(&str, &str)]) -> Authorization {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge);
    for (key, value) in extra {
        request = request.add_extra_param(*key, *value);
    }
    let (url, state, nonce) = request.url();
    Authorization {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

/// Follows the authorization request in the browser to the first redirect; its Location.
async fn visit(browser: &reqwest::Client, url: &str) -> String {
    let response = browser.get(url).send().await.expect("authorize");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "{url}: {}",
        response.text().await.unwrap_or_default()
    );
    response.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string()
}

/// The query parameters of a redirect back to the relying party.
fn returned(location: &str) -> std::collections::HashMap<String, String> {
    let url = url_of(location);
    url.query_pairs().into_owned().collect()
}

fn url_of(location: &str) -> reqwest::Url {
    reqwest::Url::parse(location)
        .or_else(|_| reqwest::Url::parse(&format!("http://x{location}")))
        .expect("url")
}

type TokenError = RequestTokenError<
    openidconnect::HttpClientError<reqwest::Error>,
    openidconnect::StandardErrorResponse<CoreErrorResponseType>,
>;

/// The error code of a refused token request.
fn oauth_error<T: std::fmt::Debug>(result: Result<T, TokenError>) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(response)) => response.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

async fn exchange(
    rp: &Rp,
    code: &str,
    verifier: Option<PkceCodeVerifier>,
) -> Result<CoreTokenResponse, TokenError> {
    let mut request = rp
        .exchange_code(AuthorizationCode::new(code.into()))
        .expect("token endpoint");
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(verifier);
    }
    request.request_async(&rp_http()).await
}

async fn userinfo_status(server: &TestServer, access_token: &str) -> StatusCode {
    rp_http()
        .get(server.url("/oauth2/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .status()
}

/// Gives consent on the consent page's server function, as its "Allow" button does.
async fn allow(server: &TestServer, browser: &reqwest::Client, consent_location: &str) -> String {
    let return_to = returned(consent_location)["return_to"].clone();
    let page = browser
        .get(server.url(consent_location))
        .send()
        .await
        .expect("consent page");
    assert_eq!(page.status(), StatusCode::OK);
    let response = browser
        .post(server.url("/fn/answer_consent"))
        .form(&[("return_to", return_to.as_str()), ("allow", "true")])
        .send()
        .await
        .expect("answer consent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<String>().await.expect("next address")
}

#[tokio::test]
async fn a_live_login_signs_in_to_a_relying_party_and_the_protocol_attacks_are_refused() {
    let (server, _dir) = start().await;
    let browser = browser();
    register_and_log_in(&server, &browser).await;
    let rp = relying_party(&server, SECRET, REDIRECT).await;

    // Consent required: prompt=none cannot ask, so it says so; without prompt, the consent page.
    let silent = authorization(&rp, &[("prompt", "none")]);
    let back = returned(&visit(&browser, &silent.url).await);
    assert_eq!(back["error"], "consent_required");
    assert_eq!(&back["state"], silent.state.secret());
    let first = authorization(&rp, &[]);
    let consent = visit(&browser, &first.url).await;
    assert!(consent.starts_with("/consent?return_to="), "{consent}");
    let page = browser
        .get(server.url(&consent))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Team wiki"), "the consent page names the client");
    let again = allow(&server, &browser, &consent).await;
    assert!(again.starts_with("/oauth2/authorize?"), "{again}");

    // The code comes back with the state; exchanged with the PKCE verifier and the secret.
    let back = returned(&visit(&browser, &server.url(&again)).await);
    assert_eq!(&back["state"], first.state.secret());
    assert_eq!(back["iss"], server.base_url);
    let code = back["code"].clone();
    let tokens = exchange(&rp, &code, Some(first.verifier)).await.expect("tokens");

    // Signature (JWKS), issuer, audience, expiry and nonce: checked by the relying party.
    let id_token = tokens.id_token().expect("id token");
    let verifier = rp.id_token_verifier();
    let claims = id_token.claims(&verifier, &first.nonce).expect("valid id token");
    assert!(
        id_token.claims(&verifier, &Nonce::new("another".into())).is_err(),
        "a wrong nonce is refused"
    );
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("at_hash");
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let amr: Vec<String> = claims
        .auth_method_refs()
        .expect("amr")
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    assert_eq!(amr, ["face", "pin", "mfa"]);
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("urn:facegate:live-face+pin")
    );
    let auth_time = claims.auth_time().expect("auth_time");
    assert!(
        (chrono_now() - auth_time.timestamp()).abs() < 120,
        "auth_time is the login's"
    );
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("Franck"));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("franck@example.org"));
    assert_eq!(
        claims.email_verified(),
        Some(false),
        "facegate does not verify emails"
    );
    let sub = claims.subject().as_str().to_string();

    // Userinfo answers for the access token.
    let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> = rp
        .user_info(tokens.access_token().clone(), None)
        .expect("userinfo endpoint")
        .request_async(&rp_http())
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), sub);
    assert_eq!(info.email().map(|e| e.as_str()), Some("franck@example.org"));

    // The consent is remembered: the next request goes straight back with a code.
    let next = authorization(&rp, &[]);
    let back = returned(&visit(&browser, &next.url).await);
    let next_code = back["code"].clone();

    // Wrong client secret; missing and wrong PKCE verifiers; a wrong redirect URI at the token
    // endpoint: refused, and none of them uses the code up.
    let impostor = relying_party(&server, "not-the-secret-at-all", REDIRECT).await;
    assert_eq!(
        oauth_error(exchange(&impostor, &next_code, None).await),
        CoreErrorResponseType::InvalidClient
    );
    assert_eq!(
        oauth_error(exchange(&rp, &next_code, None).await),
        CoreErrorResponseType::InvalidGrant
    );
    let (_, wrong_verifier) = PkceCodeChallenge::new_random_sha256();
    assert_eq!(
        oauth_error(exchange(&rp, &next_code, Some(wrong_verifier)).await),
        CoreErrorResponseType::InvalidGrant
    );
    let elsewhere = relying_party(&server, SECRET, "http://127.0.0.1:9/other").await;
    assert_eq!(
        oauth_error(
            exchange(
                &elsewhere,
                &next_code,
                Some(PkceCodeVerifier::new(next.verifier.secret().clone()))
            )
            .await
        ),
        CoreErrorResponseType::InvalidGrant
    );
    let second = exchange(&rp, &next_code, Some(next.verifier))
        .await
        .expect("the right client still can");
    assert_eq!(
        userinfo_status(&server, second.access_token().secret()).await,
        StatusCode::OK
    );

    // Someone holding a used code but not its verifier is refused, and cannot get the tokens
    // it gave revoked either (the binding is checked before the code counts as used).
    assert_eq!(
        oauth_error(exchange(&rp, &code, Some(PkceCodeVerifier::new("x".repeat(43)))).await),
        CoreErrorResponseType::InvalidGrant
    );
    assert_eq!(
        userinfo_status(&server, tokens.access_token().secret()).await,
        StatusCode::OK
    );

    // Refresh tokens rotate; a reused one revokes the whole grant.
    let refresh = second.refresh_token().expect("refresh token").clone();
    let rotated = rp
        .exchange_refresh_token(&refresh)
        .expect("endpoint")
        .request_async(&rp_http())
        .await
        .expect("refresh");
    let rotated_refresh = rotated.refresh_token().expect("a new refresh token").clone();
    assert_ne!(rotated_refresh.secret(), refresh.secret());
    let replay = rp
        .exchange_refresh_token(&refresh)
        .expect("endpoint")
        .request_async(&rp_http())
        .await;
    assert_eq!(oauth_error(replay), CoreErrorResponseType::InvalidGrant);
    let after = rp
        .exchange_refresh_token(&rotated_refresh)
        .expect("endpoint")
        .request_async(&rp_http())
        .await;
    assert_eq!(
        oauth_error(after),
        CoreErrorResponseType::InvalidGrant,
        "the thief's reuse ended the chain"
    );
    assert_eq!(
        userinfo_status(&server, rotated.access_token().secret()).await,
        StatusCode::UNAUTHORIZED
    );

    // A wrong redirect URI at the authorization endpoint: stopped there, never redirected to.
    let evil = next.url.replace("%2Fcallback", "%2Fevil");
    assert_ne!(evil, next.url);
    let response = browser.get(&evil).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(header::LOCATION).is_none());

    // An expired code (60 s): refused.
    let late = authorization(&rp, &[]);
    let late_code = returned(&visit(&browser, &late.url).await)["code"].clone();
    let past = DateTime::from_millis(DateTime::now().timestamp_millis() - 1_000);
    server
        .db()
        .database()
        .collection::<mongodb::bson::Document>("oidc_codes")
        .update_many(doc! {}, doc! { "$set": { "expires_at": past } })
        .await
        .expect("age the codes");
    assert_eq!(
        oauth_error(exchange(&rp, &late_code, Some(late.verifier)).await),
        CoreErrorResponseType::InvalidGrant
    );

    // A code used twice: the second use is refused and the tokens of the first are revoked.
    let twice = authorization(&rp, &[]);
    let twice_code = returned(&visit(&browser, &twice.url).await)["code"].clone();
    let secret = twice.verifier.secret().clone();
    let first_use = exchange(&rp, &twice_code, Some(twice.verifier))
        .await
        .expect("first use");
    assert_eq!(
        userinfo_status(&server, first_use.access_token().secret()).await,
        StatusCode::OK
    );
    assert_eq!(
        oauth_error(exchange(&rp, &twice_code, Some(PkceCodeVerifier::new(secret))).await),
        CoreErrorResponseType::InvalidGrant
    );
    assert_eq!(
        userinfo_status(&server, first_use.access_token().secret()).await,
        StatusCode::UNAUTHORIZED
    );
    let chained = rp
        .exchange_refresh_token(first_use.refresh_token().expect("refresh"))
        .expect("endpoint")
        .request_async(&rp_http())
        .await;
    assert_eq!(oauth_error(chained), CoreErrorResponseType::InvalidGrant);

    // prompt=login: back to the login page even though signed in, with a way back that does
    // not loop once the person has logged in again.
    let forced = authorization(&rp, &[("prompt", "login")]);
    let login = visit(&browser, &forced.url).await;
    assert!(
        login.starts_with("/login?return_to=%2Foauth2%2Fauthorize%3F"),
        "{login}"
    );
    let return_to = returned(&login)["return_to"].clone();
    assert!(
        !return_to.contains("prompt=login") && return_to.contains("fg_login_after="),
        "{return_to}"
    );
    assert!(
        visit(&browser, &server.url(&return_to))
            .await
            .starts_with("/login?"),
        "the old session is not enough"
    );

    // A token signed by a key that was rotated out and removed: refused by the relying party
    // (not in the JWKS any more) and by userinfo.
    let before = authorization(&rp, &[]);
    let before_code = returned(&visit(&browser, &before.url).await)["code"].clone();
    let signed_before = exchange(&rp, &before_code, Some(before.verifier))
        .await
        .expect("tokens");
    let config = server.state.config.clone();
    use facegate::{config::commands::SigningKeysCommand, oidc::cli::run_signing_keys};
    run_signing_keys(&config, &SigningKeysCommand::Rotate).expect("rotate");
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let jwks: Value = rp_http()
        .get(server.url("/oauth2/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(
        jwks["keys"].as_array().map(Vec::len),
        Some(2),
        "current and previous key published"
    );
    let rotated_rp = relying_party(&server, SECRET, REDIRECT).await;
    let old: CoreIdToken = signed_before.id_token().expect("id token").clone();
    let any_nonce = |_: Option<&Nonce>| Ok::<(), String>(());
    assert!(
        old.claims(&rotated_rp.id_token_verifier(), any_nonce).is_ok(),
        "the previous key still verifies"
    );
    assert_eq!(
        userinfo_status(&server, signed_before.access_token().secret()).await,
        StatusCode::OK
    );
    run_signing_keys(&config, &SigningKeysCommand::Retire).expect("retire");
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let retired_rp = relying_party(&server, SECRET, REDIRECT).await;
    assert!(
        old.claims(&retired_rp.id_token_verifier(), any_nonce).is_err(),
        "its key is gone from the JWKS"
    );
    assert_eq!(
        userinfo_status(&server, signed_before.access_token().secret()).await,
        StatusCode::UNAUTHORIZED
    );

    // RP-initiated logout: ends the facegate session, back to the registered address with state.
    let bye = browser
        .get(server.url("/oauth2/logout"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
            ("state", "s1"),
        ])
        .send()
        .await
        .expect("logout");
    assert_eq!(bye.headers()[header::LOCATION], "http://127.0.0.1:9/bye?state=s1");
    let greeting = browser
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("greeting");
    assert_eq!(greeting.status(), StatusCode::UNAUTHORIZED);
    let unregistered = browser
        .get(server.url("/oauth2/logout"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .expect("logout");
    assert_eq!(
        unregistered.headers()[header::LOCATION],
        "/login",
        "an unregistered address is not followed"
    );
}

fn chrono_now() -> i64 {
    DateTime::now().timestamp_millis() / 1000
}

#[tokio::test]
async fn without_a_session_the_person_is_sent_to_log_in_or_the_client_is_told() {
    let (server, _dir) = start().await;
    let rp = relying_party(&server, SECRET, REDIRECT).await;
    let browser = browser();
    let silent = authorization(&rp, &[("prompt", "none")]);
    let back = returned(&visit(&browser, &silent.url).await);
    assert_eq!(back["error"], "login_required");
    assert_eq!(&back["state"], silent.state.secret());

    let normal = authorization(&rp, &[]);
    let login = visit(&browser, &normal.url).await;
    let return_to = returned(&login)["return_to"].clone();
    assert!(
        login.starts_with("/login?") && return_to.starts_with("/oauth2/authorize?"),
        "{login}"
    );
    assert!(
        return_to.contains("code_challenge=") && return_to.contains("nonce="),
        "the flow continues: {return_to}"
    );

    // An unknown client and a public-client request without PKCE are refused.
    let unknown = browser
        .get(server.url("/oauth2/authorize?client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&response_type=code&scope=openid"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let token = rp_http()
        .post(server.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "made-up"),
            ("redirect_uri", REDIRECT),
        ])
        .basic_auth(CLIENT_ID, Some(SECRET))
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), StatusCode::BAD_REQUEST);
    let body: Value = token.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant", "RFC 6749 §5.2 shape: {body}");
    assert!(body["error_description"].is_string());
}
