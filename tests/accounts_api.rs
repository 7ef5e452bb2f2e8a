//! The REST API end to end: the real server, a real FerretDB, real photos. These use the old
//! single-picture form, which a server accepts only with `allow-single-image` (trusted kiosks);
//! the live check is tested in tests/live_api.rs.

use crate::support;

use mongodb::bson::doc;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{PIN, TestServer, client, count, data_url_of, only_user, photo, photo_data_url, post};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];

async fn get(client: &Client, server: &TestServer, path: &str) -> reqwest::Response {
    client.get(server.url(path)).send().await.expect("GET")
}

async fn log_in(client: &Client, server: &TestServer, photo: &str) -> (StatusCode, Value) {
    post(
        client,
        server,
        "/api/login",
        json!({ "image": photo_data_url(photo), "pin": PIN }),
    )
    .await
}

async fn register(server: &TestServer, username: &str, email: &str, photo: &str) -> (StatusCode, Value) {
    let body = json!({ "username": username, "email": email, "pin": PIN, "image": photo_data_url(photo) });
    post(&client(), server, "/api/register", body).await
}

#[tokio::test]
async fn register_log_in_and_be_greeted() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let (status, body) = register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user_id = body["user_id"].as_str().expect("user_id").to_string();

    // No picture is stored: only the encrypted 512-byte encoding (+ the 16-byte tag).
    let stored = only_user(&server).await;
    assert_eq!(stored.face_templates.ciphertext.bytes.len(), 512 + 16);

    let browser = client();
    let (status, body) = log_in(&browser, &server, "obama2.jpg").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "Barack");
    assert_eq!(body["user_id"], user_id.as_str());

    let greeting = get(&browser, &server, &format!("/api/greeting?user_id={user_id}")).await;
    assert_eq!(greeting.status(), StatusCode::OK);
    let greeting: Value = greeting.json().await.expect("json");
    assert_eq!(greeting["username"], "Barack");

    // The original client's root paths work too.
    let root = get(&browser, &server, "/greeting").await;
    assert_eq!(root.status(), StatusCode::OK);

    // Another user's id is refused, and nobody is greeted without a session.
    let other = get(
        &browser,
        &server,
        "/api/greeting?user_id=0123456789abcdef01234567",
    )
    .await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let anonymous = get(&client(), &server, &format!("/api/greeting?user_id={user_id}")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // After logout the session is gone on the server, not only in the browser.
    let logout = browser
        .post(server.url("/api/logout"))
        .send()
        .await
        .expect("post");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(support::live_sessions(&server).await, 0, "the session has ended");
    let config = &server.state.config.accounts;
    facegate::db::housekeeping::purge_once(server.db(), config.session_idle(), config.audit_retention())
        .await;
    assert_eq!(
        count(&server, "sessions").await,
        0,
        "and its row is purged in the background"
    );
    let after = get(&browser, &server, "/api/greeting").await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_session_cookie_is_host_only_http_only_and_same_site() {
    // Over HTTPS (as a trusted proxy reports it; tests/http_security.rs tries untrusted ones).
    let server = TestServer::start(&["--allow-single-image", "true", "--trusted-proxies", "127.0.0.1"]).await;
    register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    let response = Client::new()
        .post(server.url("/api/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "image": photo_data_url("obama3.jpg"), "pin": PIN }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.starts_with("__Host-facegate_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    assert!(
        !cookie.contains("Domain"),
        "a __Host- cookie has no Domain: {cookie}"
    );
    let token = cookie["__Host-facegate_session=".len()..]
        .split(';')
        .next()
        .expect("value");
    assert!(token.len() >= 22, "token of at least 128 bits");
    // The database holds a hash of the token, never the token.
    let session = server
        .db()
        .sessions()
        .find_one(doc! {})
        .await
        .expect("find")
        .expect("session");
    assert_ne!(session.token_hash, token);
}

#[tokio::test]
async fn someone_else_is_not_recognised() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    let browser = client();
    let (status, body) = log_in(&browser, &server, "biden.jpg").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "not_recognised");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("not recognised")
    );
    assert_eq!(
        server
            .db()
            .sessions()
            .count_documents(doc! {})
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn an_empty_gallery_recognises_nobody() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let (status, _) = log_in(&client(), &server, "obama.jpg").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn duplicates_are_refused_with_409() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    assert_eq!(
        register(&server, "Barack", "barack@example.org", "obama.jpg")
            .await
            .0,
        StatusCode::CREATED
    );

    let (status, body) = register(&server, "someone", "BARACK@example.org", "biden.jpg").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("email_taken")),
        "{body}"
    );
    let (status, body) = register(&server, "barack", "other@example.org", "biden.jpg").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken")),
        "{body}"
    );
    assert_eq!(count(&server, "users").await, 1);
}

#[tokio::test]
async fn racing_registrations_of_one_username_store_exactly_one() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let image = photo_data_url("biden.jpg");
    let client = client();
    let attempts = (0..20).map(|i| {
        let body =
            json!({ "username": "joe", "email": format!("joe{i}@example.org"), "pin": PIN, "image": image });
        let request = client.post(server.url("/api/register")).json(&body).send();
        async move { request.await.expect("request").status() }
    });
    let statuses = futures::future::join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let conflicts = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    assert_eq!(
        created + conflicts + busy,
        20,
        "only 201, 409 or 503 (face workers saturated): {statuses:?}"
    );
    assert_eq!(
        server
            .db()
            .users()
            .count_documents(doc! { "username_key": "joe" })
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_the_right_status_and_nothing_is_written() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let obama = image::load_from_memory(&photo("obama.jpg")).expect("decode");
    let biden = image::load_from_memory(&photo("biden.jpg")).expect("decode");
    let mut two_faces =
        image::DynamicImage::new_rgb8(obama.width() + biden.width(), obama.height().max(biden.height()));
    image::imageops::overlay(&mut two_faces, &obama, 0, 0);
    image::imageops::overlay(&mut two_faces, &biden, i64::from(obama.width()), 0);
    let blank =
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(640, 480, image::Rgb([90, 120, 150])));
    let truncated = {
        let bytes = photo("obama.jpg");
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len() / 3])
    };
    let good = photo_data_url("obama.jpg");

    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "no face",
            json!({ "username": "user1", "email": "u1@example.org", "pin": PIN, "image": data_url_of(&blank) }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "two faces",
            json!({ "username": "user2", "email": "u2@example.org", "pin": PIN, "image": data_url_of(&two_faces) }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "bad base64",
            json!({ "username": "user3", "email": "u3@example.org", "pin": PIN, "image": "data:image/jpeg;base64,@@not base64@@" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "truncated JPEG",
            json!({ "username": "user4", "email": "u4@example.org", "pin": PIN, "image": truncated }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid email",
            json!({ "username": "user5", "email": "not-an-email", "pin": PIN, "image": good }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "invalid username",
            json!({ "username": "<b>x</b>", "email": "u6@example.org", "pin": PIN, "image": good }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "weak PIN",
            json!({ "username": "user9", "email": "u9@example.org", "pin": "123456", "image": good }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "no PIN",
            json!({ "username": "user10", "email": "u10@example.org", "image": good }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "missing image",
            json!({ "username": "user7", "email": "u7@example.org" }),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, body, expected) in cases {
        let (status, reply) = post(&client(), &server, "/api/register", body).await;
        assert_eq!(status, expected, "{what}: {reply}");
        assert!(
            reply["error"].is_string() && reply["message"].is_string(),
            "{what}: {reply}"
        );
    }

    // Not JSON at all.
    let response = client()
        .post(server.url("/api/register"))
        .body("image=1")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A body over the limit is refused from its Content-Length.
    let huge = "A".repeat(9 * 1024 * 1024);
    let response = client()
        .post(server.url("/api/register"))
        .json(&json!({ "username": "user8", "email": "u8@example.org", "pin": PIN, "image": huge }))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let reply: Value = response.json().await.expect("a JSON error");
    assert_eq!(reply["error"], "payload_too_large");

    assert_eq!(
        count(&server, "users").await,
        0,
        "nothing may be written on refused input"
    );
}

#[tokio::test]
async fn a_deleted_account_leaves_no_face_behind() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    let browser = client();
    let (status, _) = log_in(&browser, &server, "obama2.jpg").await;
    assert_eq!(status, StatusCode::OK);
    let deleted = browser
        .delete(server.url("/api/account"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    support::assert_nothing_stored(&server).await;
    let (status, _) = log_in(&client(), &server, "obama3.jpg").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the gallery forgot the face too"
    );
}

#[tokio::test]
async fn the_gallery_is_reloaded_from_the_database_at_start_up() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    let reloaded = facegate::gallery::Gallery::load(server.db(), &server.state.templates)
        .await
        .expect("load");
    assert_eq!(reloaded.len(), 1);
}

/// A session document `age` old whose last request was `idle` ago, with its cookie value.
async fn planted_session(
    server: &TestServer,
    user_id: &str,
    age_secs: i64,
    idle_secs: i64,
    lifetime_secs: i64,
) -> String {
    use facegate::db::sessions::SessionDoc;
    use mongodb::bson::{DateTime, oid::ObjectId};
    use sha2::Digest;
    let token = format!("planted-session-token-{}", ObjectId::new().to_hex());
    let ago = |secs: i64| DateTime::from_millis(DateTime::now().timestamp_millis() - secs * 1000);
    let session = SessionDoc {
        token_hash: format!("{:x}", sha2::Sha256::digest(token.as_bytes())),
        user_id: ObjectId::parse_str(user_id).expect("object id"),
        created_at: ago(age_secs),
        expires_at: ago(age_secs - lifetime_secs),
        last_seen_at: Some(ago(idle_secs)),
        previous_login_at: None,
        amr: vec!["face".into(), "pin".into()],
    };
    support::plant_session(server, session).await;
    token
}

async fn greeting_status(server: &TestServer, token: &str) -> StatusCode {
    Client::new()
        .get(server.url("/api/greeting"))
        .header("cookie", format!("facegate_session={token}"))
        .send()
        .await
        .expect("get")
        .status()
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_lifetime_and_are_purged() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let (_, body) = register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    let user = body["user_id"].as_str().expect("id");
    const HOUR: i64 = 3600;
    // Defaults: idle 30 minutes, lifetime 12 hours.
    let active = planted_session(&server, user, HOUR, 60, 12 * HOUR).await;
    let idle = planted_session(&server, user, HOUR, 31 * 60, 12 * HOUR).await;
    let too_old = planted_session(&server, user, 13 * HOUR, 60, 12 * HOUR).await;
    assert_eq!(greeting_status(&server, &active).await, StatusCode::OK);
    assert_eq!(
        greeting_status(&server, &idle).await,
        StatusCode::UNAUTHORIZED,
        "idle 31 min"
    );
    assert_eq!(
        greeting_status(&server, &too_old).await,
        StatusCode::UNAUTHORIZED,
        "13 h old"
    );

    // The background purge removes what a lookup has not already removed.
    let idle_again = planted_session(&server, user, HOUR, 31 * 60, 12 * HOUR).await;
    let _ = idle_again;
    let config = &server.state.config.accounts;
    facegate::db::housekeeping::purge_once(server.db(), config.session_idle(), config.audit_retention())
        .await;
    assert_eq!(
        count(&server, "sessions").await,
        1,
        "only the active session is left"
    );
    assert_eq!(greeting_status(&server, &active).await, StatusCode::OK);
}

#[tokio::test]
async fn a_new_login_ends_the_session_the_browser_had_and_sign_out_everywhere_ends_all() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "barack@example.org", "obama.jpg").await;
    let (phone, laptop) = (client(), client());
    assert_eq!(log_in(&phone, &server, "obama2.jpg").await.0, StatusCode::OK);
    assert_eq!(log_in(&laptop, &server, "obama3.jpg").await.0, StatusCode::OK);
    assert_eq!(count(&server, "sessions").await, 2);
    // The laptop logs in again: its old session goes (in the background), the phone's stays.
    assert_eq!(log_in(&laptop, &server, "obama2.jpg").await.0, StatusCode::OK);
    let started = std::time::Instant::now();
    while support::live_sessions(&server).await != 2 && started.elapsed().as_secs() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        support::live_sessions(&server).await,
        2,
        "the replaced session has ended"
    );

    let signed_out = phone
        .post(server.url("/api/account/sign-out-everywhere"))
        .send()
        .await
        .expect("post");
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&server, "sessions").await, 0);
    assert_eq!(
        get(&laptop, &server, "/api/greeting").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&phone, &server, "/api/greeting").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
