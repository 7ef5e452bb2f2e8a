//! When the database breaks: a hung database (frozen process) and a dead one (killed, then
//! started again on the same data). Requests that need it get 503 with `Retry-After` instead
//! of hanging, nothing is half-written, and the app picks up again by itself.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{PIN, TestServer, client, count, photo_data_url};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];

/// A client that gives up after 60 s: a request still waiting then is a hang, and fails the test.
fn patient_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn send(
    client: &Client,
    server: &TestServer,
    path: &str,
    body: Value,
) -> (StatusCode, Option<String>, Value, Duration) {
    let began = Instant::now();
    let response = client
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .expect("an answer, not a hang");
    let took = began.elapsed();
    let (status, retry_after, body) = support::error_of(response).await;
    (status, retry_after, body, took)
}

fn login_body(photo: &str) -> Value {
    json!({ "image": photo_data_url(photo), "pin": PIN })
}

fn register_body(name: &str, photo: &str) -> Value {
    json!({ "username": name, "email": format!("{name}@example.org"), "pin": PIN, "image": photo_data_url(photo) })
}

/// Retries a login until it succeeds (the app reconnecting) or a minute has passed.
async fn logs_in_again(server: &TestServer, photo: &str) -> Duration {
    let began = Instant::now();
    loop {
        let (status, _, body, _) = send(&patient_client(), server, "/api/login", login_body(photo)).await;
        if status == StatusCode::OK {
            return began.elapsed();
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "no login a minute after the database came back: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_hung_database_gets_503_with_retry_after_and_the_app_recovers() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let (status, _, body, _) = send(
        &client(),
        &server,
        "/api/register",
        register_body("barack", "obama.jpg"),
    )
    .await;
    assert!(status.is_success(), "{status}: {body}");
    let browser = patient_client();
    let (status, _, body, _) = send(&browser, &server, "/api/login", login_body("obama2.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    server.db.freeze();
    // A login needs the database (PIN lock, session, history): refused, quickly, with a reason.
    let (status, retry_after, body, took) =
        send(&patient_client(), &server, "/api/login", login_body("obama3.jpg")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "database_unavailable");
    assert!(retry_after.is_some(), "503 without Retry-After");
    println!("login while the database hangs: 503 after {took:?}");
    // A registration too, and it leaves nothing behind.
    let (status, retry_after, body, took) = send(
        &client(),
        &server,
        "/api/register",
        register_body("joe", "biden.jpg"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(retry_after.is_some());
    println!("registration while the database hangs: 503 after {took:?}");
    // A signed-in page reads memory only: it still answers.
    let greeting = browser
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("greeting");
    assert_eq!(greeting.status(), StatusCode::OK);

    server.db.resume();
    let took = logs_in_again(&server, "obama3.jpg").await;
    println!("first login after the database thawed: {took:?}");
    assert_eq!(
        count(&server, "users").await,
        1,
        "the refused registration left no user"
    );
    assert!(!server.state.gallery.is_empty());
    assert_eq!(server.state.gallery.len(), 1, "nor a face in the gallery");
}

#[tokio::test]
async fn a_database_that_dies_and_comes_back_is_reconnected_and_everyone_still_logs_in() {
    let mut server = TestServer::start(SINGLE_IMAGE).await;
    for (name, photo) in [("barack", "obama.jpg"), ("joe", "biden.jpg")] {
        let (status, _, body, _) =
            send(&client(), &server, "/api/register", register_body(name, photo)).await;
        assert!(status.is_success(), "{status}: {body}");
    }

    server.db.stop();
    let (status, retry_after, body, took) =
        send(&patient_client(), &server, "/api/login", login_body("obama2.jpg")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(retry_after.is_some());
    println!("login while the database is down: 503 after {took:?}");

    server.db.restart();
    let took = logs_in_again(&server, "obama2.jpg").await;
    println!("first login after the database restarted: {took:?}");
    let (status, _, body, _) = send(&client(), &server, "/api/login", login_body("biden.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        count(&server, "users").await,
        2,
        "nothing half-written while it was down"
    );

    // And an app restart on that database: users and sessions are still there.
    let browser = patient_client();
    let (status, _, body, _) = send(&browser, &server, "/api/login", login_body("obama3.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.restart(SINGLE_IMAGE).await;
    let greeting = browser
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("greeting");
    assert_eq!(
        greeting.status(),
        StatusCode::OK,
        "the session survived the app's restart"
    );
}
