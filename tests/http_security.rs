//! The HTTP front door through the real server: security headers, cross-site requests refused
//! on every state-changing route (with the database unchanged), throttling per client address.

use crate::support;

use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use support::{PIN, TestServer, count, photo_data_url};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];

fn plain_client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------------
// Response headers

fn assert_security_headers(what: &str, headers: &HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_str()
            .expect("ascii")
            .to_string()
    };
    let csp = header("content-security-policy");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("{what}: no script-src in {csp}"));
    assert!(
        !script_src.contains("unsafe-inline") && !script_src.contains(" 'unsafe-eval'"),
        "{what}: {script_src}"
    );
    assert!(
        script_src.contains("'nonce-") && script_src.contains("'wasm-unsafe-eval'"),
        "{what}: {script_src}"
    );
    for directive in [
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {directive} missing from {csp}");
    }
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header("cross-origin-opener-policy"), "same-origin", "{what}");
    let permissions = header("permissions-policy");
    assert!(
        permissions.contains("camera=(self)") && permissions.contains("microphone=()"),
        "{what}: {permissions}"
    );
    assert!(permissions.contains("geolocation=()"), "{what}: {permissions}");
}

fn csp_nonce(headers: &HeaderMap) -> String {
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    let start = csp.find("'nonce-").expect("nonce") + "'nonce-".len();
    csp[start..].split('\'').next().expect("nonce end").to_string()
}

/// Every `<script>` of `html` carries `nonce` (and there is at least the hydration script).
fn assert_scripts_carry(html: &str, nonce: &str) {
    let scripts: Vec<&str> = html
        .split("<script")
        .skip(1)
        .map(|s| &s[..s.find('>').unwrap_or(s.len())])
        .collect();
    assert!(!scripts.is_empty(), "the page has its hydration script");
    for script in &scripts {
        assert!(
            script.contains(&format!("nonce=\"{nonce}\"")),
            "script without this response's nonce: <script{script}>"
        );
    }
}

fn cache_control(headers: &HeaderMap) -> Option<&str> {
    headers.get("cache-control").and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let site = tempfile::tempdir().expect("site root");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
    std::fs::write(site.path().join("pkg/facegate.css"), "body { margin: 0 }").expect("css");
    let server = TestServer::start_with_site_root(&[], site.path()).await;
    let client = plain_client();

    // A page: no-store (it shows who is signed in), and every <script> carries this response's nonce.
    let page = client.get(server.url("/login")).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_security_headers("page", &headers);
    assert_eq!(cache_control(&headers), Some("no-store"));
    let nonce = csp_nonce(&headers);
    assert_scripts_carry(&page.text().await.expect("html"), &nonce);
    // A new nonce per response.
    let again = client.get(server.url("/login")).send().await.expect("page");
    assert_ne!(csp_nonce(again.headers()), nonce);

    // An API answer and an API error.
    let health = client.get(server.url("/healthz")).send().await.expect("healthz");
    assert_security_headers("healthz", health.headers());
    let refused = client
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("greeting");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers("API error", refused.headers());
    assert_eq!(cache_control(refused.headers()), Some("no-store"));

    // The not-found page.
    let missing = client.get(server.url("/no/such/page")).send().await.expect("404");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_security_headers("404", missing.headers());
    let nonce = csp_nonce(missing.headers());
    assert_scripts_carry(&missing.text().await.expect("html"), &nonce);

    // A static file: the same headers, and it may be cached.
    let css = client
        .get(server.url("/pkg/facegate.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), StatusCode::OK);
    assert_security_headers("static file", css.headers());
    assert_ne!(cache_control(css.headers()), Some("no-store"));
}

// ---------------------------------------------------------------------------------------------
// Cross-site requests

/// How a forged request looks: what a cross-site page makes the victim's browser send.
const FORGERIES: &[(&str, &[(&str, &str)])] = &[
    (
        "evil origin",
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    ),
    (
        "evil origin, no fetch metadata",
        &[("origin", "https://evil.example")],
    ),
    (
        "cross-site fetch metadata alone",
        &[("sec-fetch-site", "cross-site")],
    ),
    // Another port on the same host is the same *site* but another origin.
    (
        "same-site sibling",
        &[("origin", "http://127.0.0.1:1"), ("sec-fetch-site", "same-site")],
    ),
    ("sandboxed page", &[("origin", "null")]),
    ("https twin of the origin", &[("origin", "https://{host}")]),
];

/// Every state-changing route, with a body that would succeed if it got through.
fn state_changing_requests(
    client: &Client,
    server: &TestServer,
    cookie: &str,
) -> Vec<(&'static str, RequestBuilder)> {
    let url = |path: &str| server.url(path);
    let register = json!({ "username": "Joe", "email": "joe@example.org", "pin": PIN, "image": photo_data_url("biden.jpg") });
    let login = json!({ "image": photo_data_url("obama2.jpg"), "pin": PIN });
    let ticket = json!({ "ticket": "x", "pin": PIN });
    let ceremony = json!({ "ceremony": "x", "credential": {} });
    vec![
        (
            "POST /api/register",
            client.post(url("/api/register")).json(&register),
        ),
        ("POST /register", client.post(url("/register")).json(&register)),
        ("POST /api/login", client.post(url("/api/login")).json(&login)),
        ("POST /login", client.post(url("/login")).json(&login)),
        (
            "POST /api/liveness",
            client.post(url("/api/liveness")).json(&json!({})),
        ),
        (
            "POST /api/logout",
            client.post(url("/api/logout")).header("cookie", cookie),
        ),
        (
            "DELETE /api/account",
            client.delete(url("/api/account")).header("cookie", cookie),
        ),
        (
            "POST /api/login/pin",
            client.post(url("/api/login/pin")).json(&ticket),
        ),
        (
            "POST /api/login/passkey/start",
            client.post(url("/api/login/passkey/start")).json(&ticket),
        ),
        (
            "POST /api/login/passkey/finish",
            client.post(url("/api/login/passkey/finish")).json(&ceremony),
        ),
        (
            "POST /api/account/sign-out-everywhere",
            client
                .post(url("/api/account/sign-out-everywhere"))
                .header("cookie", cookie),
        ),
        (
            "POST /api/account/passkeys/start",
            client
                .post(url("/api/account/passkeys/start"))
                .header("cookie", cookie),
        ),
        (
            "POST /api/account/passkeys/finish",
            client
                .post(url("/api/account/passkeys/finish"))
                .header("cookie", cookie)
                .json(&ceremony),
        ),
        (
            "server fn register",
            client.post(url("/fn/register")).form(&[
                ("username", "Joe"),
                ("email", "joe@example.org"),
                ("pin", PIN),
                ("proof", "x"),
            ]),
        ),
        (
            "server fn log_in",
            client.post(url("/fn/log_in")).form(&[("proof", "x")]),
        ),
        (
            "server fn log_out",
            client.post(url("/fn/log_out")).header("cookie", cookie),
        ),
        (
            "server fn delete_account",
            client.post(url("/fn/delete_account")).header("cookie", cookie),
        ),
        (
            "server fn current_user",
            client.post(url("/fn/current_user")).header("cookie", cookie),
        ),
        (
            "server fn confirm_pin",
            client
                .post(url("/fn/confirm_pin"))
                .form(&[("ticket", "x"), ("pin", PIN)]),
        ),
        (
            "server fn sign_out_everywhere",
            client
                .post(url("/fn/sign_out_everywhere"))
                .header("cookie", cookie),
        ),
        (
            "server fn start_adding_passkey",
            client
                .post(url("/fn/start_adding_passkey"))
                .header("cookie", cookie),
        ),
        (
            "server fn finish_adding_passkey",
            client
                .post(url("/fn/finish_adding_passkey"))
                .header("cookie", cookie)
                .form(&[("ceremony", "x"), ("credential", "{}")]),
        ),
        (
            "server fn start_passkey_login",
            client
                .post(url("/fn/start_passkey_login"))
                .form(&[("ticket", "x")]),
        ),
        (
            "server fn finish_passkey_login",
            client
                .post(url("/fn/finish_passkey_login"))
                .form(&[("ceremony", "x"), ("credential", "{}")]),
        ),
    ]
}

fn host_of(server: &TestServer) -> String {
    server.base_url.trim_start_matches("http://").to_string()
}

async fn register_and_log_in(server: &TestServer) -> String {
    let client = plain_client();
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg") });
    let registered = client
        .post(server.url("/api/register"))
        .json(&body)
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login = client
        .post(server.url("/api/login"))
        .json(&json!({ "image": photo_data_url("obama3.jpg"), "pin": PIN }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()["set-cookie"].to_str().expect("ascii");
    cookie.split(';').next().expect("pair").to_string()
}

async fn websocket_status(server: &TestServer, headers: &[(&str, &str)]) -> u16 {
    use tokio_tungstenite::tungstenite::{Error, client::IntoClientRequest};
    let url = format!(
        "{}/api/live?purpose=login",
        server.base_url.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().expect("ws request");
    for (name, value) in headers {
        let value = value.replace("{host}", &host_of(server));
        request.headers_mut().insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_socket, response)) => response.status().as_u16(),
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("websocket: {other}"),
    }
}

#[tokio::test]
async fn forged_cross_site_requests_are_refused_and_change_nothing() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let cookie = register_and_log_in(&server).await;
    let before = (count(&server, "users").await, count(&server, "sessions").await);
    assert_eq!(before, (1, 1));
    let client = plain_client();
    let host = host_of(&server);

    let mut tried = 0;
    let routes = state_changing_requests(&client, &server, &cookie).len() + 1; // + the live socket
    for (forgery, headers) in FORGERIES {
        for (route, request) in state_changing_requests(&client, &server, &cookie) {
            let request = headers.iter().fold(request, |request, (name, value)| {
                request.header(*name, value.replace("{host}", &host))
            });
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{route} with {forgery}");
            assert_security_headers(route, response.headers());
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["error"], "forbidden", "{route} with {forgery}: {body}");
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("another website")),
                "{body}"
            );
            tried += 1;
        }
        assert_eq!(
            websocket_status(&server, headers).await,
            403,
            "live socket with {forgery}"
        );
        tried += 1;
    }
    assert_eq!(tried, FORGERIES.len() * routes);
    // Nobody registered, logged in, out or deleted.
    assert_eq!(
        (count(&server, "users").await, count(&server, "sessions").await),
        before
    );
    eprintln!("cross-site forgeries tried: {tried}, accepted: 0");
}

#[tokio::test]
async fn the_same_requests_from_the_apps_own_pages_pass_the_check() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let cookie = register_and_log_in(&server).await;
    let client = plain_client();
    let own = format!("http://{}", host_of(&server));
    let same_origin: &[(&str, &str)] = &[("origin", &own), ("sec-fetch-site", "same-origin")];

    let mut passed = Vec::new();
    for (route, request) in state_changing_requests(&client, &server, &cookie) {
        let ends_session = ["logout", "log_out", "delete", "sign-out", "sign_out"]
            .iter()
            .any(|w| route.to_lowercase().contains(w));
        if ends_session {
            continue; // below, last: they end the session
        }
        let request = same_origin.iter().fold(request, |r, (n, v)| r.header(*n, *v));
        let response = request.send().await.expect("request");
        assert_ne!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{route} from the app itself"
        );
        passed.push((route, response.status()));
    }
    // They really ran: the registration and the login went through.
    assert_eq!(count(&server, "users").await, 2, "{passed:?}");
    assert!(count(&server, "sessions").await >= 2, "{passed:?}");
    assert_eq!(websocket_status(&server, same_origin).await, 101);
    // A typed-in address (`none`) and a client that sends neither header (curl) pass too.
    let typed = client
        .post(server.url("/api/liveness"))
        .header("sec-fetch-site", "none")
        .json(&json!({}))
        .send()
        .await
        .expect("typed");
    assert_eq!(typed.status(), StatusCode::CREATED);
    let curl = client
        .post(server.url("/api/liveness"))
        .json(&json!({}))
        .send()
        .await
        .expect("curl");
    assert_eq!(curl.status(), StatusCode::CREATED);

    let delete = client
        .delete(server.url("/api/account"))
        .header("cookie", &cookie)
        .header("origin", &own)
        .send()
        .await
        .expect("delete");
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&server, "users").await, 1, "Barack deleted himself");
}

#[tokio::test]
async fn with_a_public_origin_only_that_origin_is_accepted() {
    let server = TestServer::start(&["--public-origin", "https://face.example.org"]).await;
    let client = plain_client();
    let logout = |origin: &'static str| {
        client
            .post(server.url("/api/logout"))
            .header("origin", origin)
            .send()
    };
    assert_eq!(
        logout("https://face.example.org").await.expect("post").status(),
        StatusCode::NO_CONTENT
    );
    // The request's own Host is not enough once the public origin is known (DNS rebinding).
    let own = format!("http://{}", host_of(&server));
    let response = client
        .post(server.url("/api/logout"))
        .header("origin", own)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        logout("http://face.example.org").await.expect("post").status(),
        StatusCode::FORBIDDEN
    );
}

// ---------------------------------------------------------------------------------------------
// The Secure cookie attribute

async fn login_cookie(server: &TestServer, headers: &[(&str, &str)]) -> String {
    let request = plain_client()
        .post(server.url("/api/login"))
        .json(&json!({ "image": photo_data_url("obama3.jpg"), "pin": PIN }));
    let response = headers
        .iter()
        .fold(request, |r, (n, v)| r.header(*n, *v))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string()
}

#[tokio::test]
async fn only_a_trusted_proxy_can_turn_on_secure_cookies() {
    let untrusted = TestServer::start(SINGLE_IMAGE).await;
    register_and_log_in(&untrusted).await;
    let cookie = login_cookie(&untrusted, &[("x-forwarded-proto", "https")]).await;
    assert!(
        !cookie.contains("Secure"),
        "a client's own X-Forwarded-Proto was believed: {cookie}"
    );

    let behind_proxy =
        TestServer::start(&["--allow-single-image", "true", "--trusted-proxies", "127.0.0.1"]).await;
    register_and_log_in(&behind_proxy).await;
    let cookie = login_cookie(&behind_proxy, &[("x-forwarded-proto", "https")]).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie = login_cookie(&behind_proxy, &[("x-forwarded-proto", "http")]).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
}

// ---------------------------------------------------------------------------------------------
// Throttling

/// The test support switches the throttle off for the other test files; here it is on.
async fn throttled_server(extra: &[&str]) -> TestServer {
    let mut args = vec!["--throttle", "true"];
    args.extend_from_slice(extra);
    TestServer::start(&args).await
}

async fn attempt(server: &TestServer, path: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let request = plain_client().post(server.url(path)).json(&json!({}));
    let request = match forwarded_for {
        Some(ip) => request.header("x-forwarded-for", ip),
        None => request,
    };
    request.send().await.expect("request")
}

async fn assert_throttled(response: reqwest::Response, max_wait: u64) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_security_headers("429", response.headers());
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=max_wait).contains(&retry_after), "Retry-After {retry_after}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "too_many_requests");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("Try again in {retry_after} second")),
        "{message}"
    );
    retry_after
}

#[tokio::test]
async fn a_spent_burst_is_refused_per_client_address() {
    let server = throttled_server(&[
        "--trusted-proxies",
        "127.0.0.1",
        "--throttle-login-per-minute",
        "1",
        "--throttle-login-burst",
        "3",
    ])
    .await;
    let alice = Some("203.0.113.10");
    for _ in 0..3 {
        assert_ne!(
            attempt(&server, "/api/login", alice).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let retry_after = assert_throttled(attempt(&server, "/api/login", alice).await, 60).await;
    assert!(
        retry_after > 50,
        "one login a minute: wait most of it, not {retry_after}"
    );
    let message: Value = attempt(&server, "/login", alice)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        message["message"]
            .as_str()
            .is_some_and(|m| m.contains("Too many login attempts")),
        "{message}"
    );
    // The page's server function shares the login budget.
    let server_fn = plain_client()
        .post(server.url("/fn/log_in"))
        .header("x-forwarded-for", "203.0.113.10")
        .form(&[("proof", "x")])
        .send()
        .await
        .expect("server fn");
    assert_eq!(server_fn.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address behind the same proxy, and another class, are unaffected.
    let bob = Some("198.51.100.20");
    assert_ne!(
        attempt(&server, "/api/login", bob).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_ne!(
        attempt(&server, "/api/liveness", alice).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Pages are not throttled.
    let page = plain_client()
        .get(server.url("/login"))
        .header("x-forwarded-for", "203.0.113.10")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_untrusted_client_cannot_dodge_the_limit_with_x_forwarded_for() {
    let server = throttled_server(&[
        "--throttle-register-per-minute",
        "1",
        "--throttle-register-burst",
        "2",
    ])
    .await;
    for _ in 0..2 {
        assert_ne!(
            attempt(&server, "/api/register", None).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let mut dodges = 0;
    for i in 0..20 {
        let fake = format!("192.0.2.{i}");
        assert_throttled(attempt(&server, "/api/register", Some(&fake)).await, 60).await;
        dodges += 1;
    }
    eprintln!("X-Forwarded-For dodges tried: {dodges}, accepted: 0");
}

#[tokio::test]
async fn the_budget_comes_back_after_the_wait() {
    let server = throttled_server(&["--throttle-live-per-minute", "60", "--throttle-live-burst", "1"]).await;
    assert_eq!(
        attempt(&server, "/api/liveness", None).await.status(),
        StatusCode::CREATED
    );
    let retry_after = assert_throttled(attempt(&server, "/api/liveness", None).await, 1).await;
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(100)).await;
    assert_eq!(
        attempt(&server, "/api/liveness", None).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn throttling_can_be_switched_off() {
    let server = throttled_server(&["--throttle-live-burst", "1", "--throttle", "false"]).await;
    for _ in 0..5 {
        assert_eq!(
            attempt(&server, "/api/liveness", None).await.status(),
            StatusCode::CREATED
        );
    }
}

#[tokio::test]
async fn the_live_socket_is_throttled() {
    let server = throttled_server(&["--throttle-live-per-minute", "1", "--throttle-live-burst", "2"]).await;
    assert_eq!(websocket_status(&server, &[]).await, 101);
    assert_eq!(websocket_status(&server, &[]).await, 101);
    assert_eq!(websocket_status(&server, &[]).await, 429);
}
