//! Passkeys through the real server and a real FerretDB, with a software authenticator that
//! signs the server's real challenges (tests/support/authenticator.rs). The face comes from real
//! photos through `allow-single-image`; what is under test is the passkey after it.

use crate::support;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{PIN, TestServer, authenticator::SoftPasskey, client, count, photo_data_url, post};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];
/// The origin the browser would report: passkeys need a domain name, so `localhost`.
const ORIGIN: &str = "http://localhost:3000";

async fn register(server: &TestServer, name: &str, photo: &str) {
    let body = json!({ "username": name, "email": format!("{name}@example.org"), "pin": PIN, "image": photo_data_url(photo) });
    let (status, body) = post(&client(), server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Face and PIN: a signed-in browser.
async fn signed_in(server: &TestServer, photo: &str) -> Client {
    let browser = client();
    let (status, body) = post(
        &browser,
        server,
        "/api/login",
        json!({ "image": photo_data_url(photo), "pin": PIN }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    browser
}

async fn add_passkey(server: &TestServer, browser: &Client, device: &mut SoftPasskey) -> (StatusCode, Value) {
    let (status, options) = post(browser, server, "/api/account/passkeys/start", json!({})).await;
    if status != StatusCode::OK {
        return (status, options);
    }
    let credential = device.register(&options);
    post(
        browser,
        server,
        "/api/account/passkeys/finish",
        json!({ "ceremony": options["ceremony"], "credential": credential }),
    )
    .await
}

/// The face step: the ticket and the factors offered.
async fn face_step(server: &TestServer, browser: &Client, photo: &str) -> (String, Value) {
    let (status, body) = post(
        browser,
        server,
        "/api/login",
        json!({ "image": photo_data_url(photo) }),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("second_factor_required")),
        "{body}"
    );
    (
        body["ticket"].as_str().expect("ticket").to_string(),
        body["factors"].clone(),
    )
}

async fn start_passkey_login(server: &TestServer, browser: &Client, ticket: &str) -> (StatusCode, Value) {
    post(
        browser,
        server,
        "/api/login/passkey/start",
        json!({ "ticket": ticket }),
    )
    .await
}

async fn finish_passkey_login(
    server: &TestServer,
    browser: &Client,
    options: &Value,
    assertion: Value,
) -> (StatusCode, Value) {
    post(
        browser,
        server,
        "/api/login/passkey/finish",
        json!({ "ceremony": options["ceremony"], "credential": assertion }),
    )
    .await
}

#[tokio::test]
async fn a_passkey_added_after_login_replaces_the_pin() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    let mut phone = SoftPasskey::new(ORIGIN);
    let browser = signed_in(&server, "obama2.jpg").await;
    let (status, body) = add_passkey(&server, &browser, &mut phone).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(count(&server, "passkeys").await, 1);

    let other_browser = client();
    let (ticket, factors) = face_step(&server, &other_browser, "obama3.jpg").await;
    assert_eq!(factors, json!(["pin", "passkey"]));
    let (status, options) = start_passkey_login(&server, &other_browser, &ticket).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(options["options"]["publicKey"]["userVerification"], "required");
    let assertion = phone.assert(&options);
    let (status, body) = finish_passkey_login(&server, &other_browser, &options, assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "Barack");
    let greeting = support::get_json(&other_browser, &server, "/api/greeting").await;
    assert_eq!(greeting["username"], "Barack");
    // The stored counter moved on, and the export lists the passkey.
    let export = support::get_json(&other_browser, &server, "/api/account/export").await;
    assert_eq!(export["passkeys"].as_array().map(Vec::len), Some(1), "{export}");
    assert!(export["passkeys"][0]["last_used_at"].is_string(), "{export}");
}

#[tokio::test]
async fn forged_replayed_and_foreign_passkey_answers_are_refused() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    register(&server, "Joe", "biden.jpg").await;
    let mut barack_phone = SoftPasskey::new(ORIGIN);
    let mut joe_phone = SoftPasskey::new(ORIGIN);
    let barack = signed_in(&server, "obama2.jpg").await;
    assert_eq!(
        add_passkey(&server, &barack, &mut barack_phone).await.0,
        StatusCode::NO_CONTENT
    );
    let joe = signed_in(&server, "biden.jpg").await;
    assert_eq!(
        add_passkey(&server, &joe, &mut joe_phone).await.0,
        StatusCode::NO_CONTENT
    );
    let sessions_before = count(&server, "sessions").await;
    let mut tried = 0;

    // 1. Joe's own passkey after Barack's face: the ceremony only accepts Barack's credentials.
    let attacker = client();
    let (ticket, _) = face_step(&server, &attacker, "obama3.jpg").await;
    let (_, options) = start_passkey_login(&server, &attacker, &ticket).await;
    let (status, body) = finish_passkey_login(&server, &attacker, &options, joe_phone.assert(&options)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("passkey_refused")),
        "{body}"
    );
    tried += 1;

    // 2. Barack's key, but signed for another site (a phishing page relaying the challenge).
    let mut phished = SoftPasskey::new("https://facegate-login.example");
    let (ticket, _) = face_step(&server, &attacker, "obama3.jpg").await;
    let (_, options) = start_passkey_login(&server, &attacker, &ticket).await;
    let mut answer = barack_phone.assert(&options);
    let relayed = phished.assert(&options);
    answer["response"]["clientDataJSON"] = relayed["response"]["clientDataJSON"].clone();
    let (status, _) = finish_passkey_login(&server, &attacker, &options, answer).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    tried += 1;

    // 3. A good answer replayed against a new ceremony (its challenge is another).
    let (ticket, _) = face_step(&server, &attacker, "obama3.jpg").await;
    let (_, first) = start_passkey_login(&server, &attacker, &ticket).await;
    let recorded = barack_phone.assert(&first);
    let (ticket, _) = face_step(&server, &attacker, "obama2.jpg").await;
    let (_, second) = start_passkey_login(&server, &attacker, &ticket).await;
    let (status, _) = finish_passkey_login(&server, &attacker, &second, recorded.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    tried += 1;

    // 4. The same good answer used twice on its own ceremony: the ceremony is single-use.
    let (status, _) = finish_passkey_login(&server, &attacker, &first, recorded.clone()).await;
    assert_eq!(status, StatusCode::OK, "the genuine answer, once");
    let (status, _) = finish_passkey_login(&server, &attacker, &first, recorded).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a second use of the ceremony");
    tried += 1;

    // 5. A ticket spent on a passkey ceremony cannot also take a PIN.
    let (ticket, _) = face_step(&server, &attacker, "obama3.jpg").await;
    let _ = start_passkey_login(&server, &attacker, &ticket).await;
    let pin = attacker
        .post(server.url("/api/login/pin"))
        .json(&json!({ "ticket": ticket, "pin": PIN }))
        .send()
        .await
        .expect("post");
    assert_eq!(pin.status(), StatusCode::UNAUTHORIZED);
    tried += 1;

    assert_eq!(
        count(&server, "sessions").await,
        sessions_before + 1,
        "only the genuine answer got in ({tried} attacks)"
    );
}

#[tokio::test]
async fn adding_a_passkey_needs_a_fresh_login_and_an_account_without_one_is_told_so() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    let browser = client();
    let (ticket, factors) = face_step(&server, &browser, "obama2.jpg").await;
    assert_eq!(factors, json!(["pin"]));
    let (status, body) = start_passkey_login(&server, &browser, &ticket).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_passkey")),
        "{body}"
    );

    let browser = signed_in(&server, "obama3.jpg").await;
    support::backdate_logins(&server, 6).await;
    let (status, body) = add_passkey(&server, &browser, &mut SoftPasskey::new(ORIGIN)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("login_not_fresh")),
        "{body}"
    );
    assert_eq!(count(&server, "passkeys").await, 0);
}

#[tokio::test]
async fn with_a_public_origin_passkeys_belong_to_its_host_and_nowhere_else() {
    let server = TestServer::start(&[
        "--allow-single-image",
        "true",
        "--public-origin",
        "https://face.example.org",
    ])
    .await;
    register(&server, "Barack", "obama.jpg").await;
    let browser = signed_in(&server, "obama2.jpg").await;
    // A passkey made for localhost (the default without a public origin) is refused here.
    let (status, body) = add_passkey(&server, &browser, &mut SoftPasskey::new(ORIGIN)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("passkey_refused")),
        "{body}"
    );
    let (status, options) = post(&browser, &server, "/api/account/passkeys/start", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(options["options"]["publicKey"]["rp"]["id"], "face.example.org");
    let mut phone = SoftPasskey::new("https://face.example.org");
    let (status, body) = add_passkey(&server, &browser, &mut phone).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}
