//! Managing passkeys through the real server and a real FerretDB: list, rename, remove; who may
//! add one; the ceremony routes throttled and capped. The authenticator is the software one that
//! signs the server's real challenges (tests/support/authenticator.rs); faces come from real
//! photos through `allow-single-image`.

use crate::support;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    PIN, TestServer, authenticator::SoftPasskey, backdate_logins, client, count, photo_data_url, post,
};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];
/// The origin the browser would report: passkeys need a domain name, so `localhost`.
const ORIGIN: &str = "http://localhost:3000";

async fn register(server: &TestServer, name: &str, photo: &str) {
    let body = json!({ "username": name, "email": format!("{name}@example.org"), "pin": PIN, "image": photo_data_url(photo) });
    let (status, body) = post(&client(), server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A signed-in browser; `pin`: whether the login sends the PIN with the face.
async fn signed_in(server: &TestServer, photo: &str, pin: bool) -> Client {
    let browser = client();
    let mut body = json!({ "image": photo_data_url(photo) });
    if pin {
        body["pin"] = json!(PIN);
    }
    let (status, body) = post(&browser, server, "/api/login", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    browser
}

async fn start_adding(server: &TestServer, browser: &Client) -> (StatusCode, Value) {
    post(browser, server, "/api/account/passkeys/start", json!({})).await
}

async fn finish_adding(
    server: &TestServer,
    browser: &Client,
    device: &mut SoftPasskey,
    options: &Value,
) -> (StatusCode, Value) {
    let credential = device.register(options);
    post(
        browser,
        server,
        "/api/account/passkeys/finish",
        json!({ "ceremony": options["ceremony"], "credential": credential }),
    )
    .await
}

async fn list(server: &TestServer, browser: &Client) -> Vec<Value> {
    let answer = support::get_json(browser, server, "/api/account/passkeys").await;
    answer
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("a list: {answer}"))
}

async fn status_of(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The factors the face step offers for `photo`.
async fn factors(server: &TestServer, photo: &str) -> Value {
    let (_, body) = post(
        &client(),
        server,
        "/api/login",
        json!({ "image": photo_data_url(photo) }),
    )
    .await;
    body["factors"].clone()
}

#[tokio::test]
async fn passkeys_are_listed_renamed_and_removed_only_by_their_owner_with_a_fresh_login() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    register(&server, "Joe", "biden.jpg").await;
    let barack = signed_in(&server, "obama2.jpg", true).await;
    let mut phone = SoftPasskey::new(ORIGIN);
    let (status, options) = start_adding(&server, &barack).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let (status, body) = finish_adding(&server, &barack, &mut phone, &options).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let passkeys = list(&server, &barack).await;
    assert_eq!(passkeys.len(), 1, "{passkeys:?}");
    let id = passkeys[0]["id"].as_str().expect("id").to_string();
    assert!(
        passkeys[0]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("Passkey added "))
    );
    assert!(passkeys[0]["created_at"].is_string());
    assert!(passkeys[0]["last_used_at"].is_null());

    // Rename; a name that is empty or too long is refused.
    let rename = |browser: &Client, id: &str, name: &str| {
        browser
            .patch(server.url(&format!("/api/account/passkeys/{id}")))
            .json(&json!({ "name": name }))
    };
    let (status, _) = status_of(rename(&barack, &id, "  Barack's phone ")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for bad in ["   ", &"x".repeat(65)] {
        let (status, body) = status_of(rename(&barack, &id, bad)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_passkey_name"))
        );
    }
    assert_eq!(list(&server, &barack).await[0]["name"], "Barack's phone");

    // Used at a login: "last used" appears.
    let other = client();
    let (_, prompt) = post(
        &other,
        &server,
        "/api/login",
        json!({ "image": photo_data_url("obama3.jpg") }),
    )
    .await;
    let (_, options) = post(
        &other,
        &server,
        "/api/login/passkey/start",
        json!({ "ticket": prompt["ticket"] }),
    )
    .await;
    let assertion = phone.assert(&options);
    let (status, body) = post(
        &other,
        &server,
        "/api/login/passkey/finish",
        json!({ "ceremony": options["ceremony"], "credential": assertion }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(list(&server, &barack).await[0]["last_used_at"].is_string());

    // Sign out everywhere ends sessions, not passkeys (they are credentials, like the PIN).
    let (status, _) = status_of(barack.post(server.url("/api/account/sign-out-everywhere"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(count(&server, "passkeys").await, 1);

    // The attacks: Joe renames or removes Barack's passkey; a stale session removes it.
    let joe = signed_in(&server, "biden.jpg", true).await;
    let (status, body) = status_of(rename(&joe, &id, "mine now")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_passkey"))
    );
    let remove =
        |browser: &Client, id: &str| browser.delete(server.url(&format!("/api/account/passkeys/{id}")));
    let (status, _) = status_of(remove(&joe, &id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let barack = signed_in(&server, "obama2.jpg", true).await;
    backdate_logins(&server, 6).await;
    let (status, body) = status_of(remove(&barack, &id)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("login_not_fresh"))
    );
    assert_eq!(
        count(&server, "passkeys").await,
        1,
        "nothing removed by the attacks"
    );
    assert_eq!(list(&server, &barack).await[0]["name"], "Barack's phone");

    // The owner, freshly logged in, removes it: logins stop offering a passkey.
    assert_eq!(factors(&server, "obama3.jpg").await, json!(["pin", "passkey"]));
    let barack = signed_in(&server, "obama2.jpg", true).await;
    let (status, _) = status_of(remove(&barack, &id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(list(&server, &barack).await.is_empty());
    assert_eq!(factors(&server, "obama3.jpg").await, json!(["pin"]));
    let history = support::get_json(&barack, &server, "/api/account/history").await;
    assert!(
        history
            .as_array()
            .is_some_and(|entries| entries.iter().any(|e| e["event"] == "passkey_removed")),
        "{history}"
    );
}

#[tokio::test]
async fn a_face_alone_cannot_add_a_passkey() {
    // `second-factor = ambiguous`: a clear-cut face signs in without the PIN.
    let server = TestServer::start(&["--allow-single-image", "true", "--second-factor", "ambiguous"]).await;
    register(&server, "Barack", "obama.jpg").await;
    let face_only = signed_in(&server, "obama2.jpg", false).await;
    let greeting = support::get_json(&face_only, &server, "/api/greeting").await;
    assert_eq!(greeting["username"], "Barack", "signed in by the face alone");
    // The attack: someone who passes the face check (a good photo of Barack) adds their own
    // passkey, a way in that skips the PIN for good.
    let (status, body) = start_adding(&server, &face_only).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("second_factor_needed")),
        "{body}"
    );
    assert_eq!(count(&server, "passkeys").await, 0);
    // (With face and PIN the same request passes: every other test here adds one that way.)
}

#[tokio::test]
async fn passkey_ceremonies_are_capped_per_account_and_throttled_per_address() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    let barack = signed_in(&server, "obama2.jpg", true).await;
    // The attack: pile up ceremonies (each holds server memory for 5 minutes).
    let mut started = Vec::new();
    for _ in 0..10 {
        let (status, options) = start_adding(&server, &barack).await;
        assert_eq!(status, StatusCode::OK, "{options}");
        started.push(options);
    }
    // Only the latest three wait; the oldest were dropped.
    let mut phone = SoftPasskey::new(ORIGIN);
    let (status, _) = finish_adding(&server, &barack, &mut phone, &started[6]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an old ceremony was still waiting"
    );
    let (status, body) = finish_adding(&server, &barack, &mut phone, &started[7]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Throttled like a second-factor step: a burst of 2, then 429.
    let throttled = TestServer::start(&[
        "--allow-single-image",
        "true",
        "--throttle",
        "true",
        "--throttle-second-factor-burst",
        "2",
        "--throttle-second-factor-per-minute",
        "1",
    ])
    .await;
    register(&throttled, "Barack", "obama.jpg").await;
    let barack = signed_in(&throttled, "obama2.jpg", true).await;
    let statuses = [
        start_adding(&throttled, &barack).await.0,
        start_adding(&throttled, &barack).await.0,
        start_adding(&throttled, &barack).await.0,
    ];
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]
    );
}
