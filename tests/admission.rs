//! Past capacity: logins and registrations each have a fixed number of places; one more request
//! gets 503 with `Retry-After` at once, a registration wave cannot take the logins' places, a
//! client trickling its upload loses its place at the body-read deadline, and the server takes
//! requests again as soon as places free up. (Throughput figures: scripts/bench-logins.sh.)

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use support::{PIN, TestServer, client, error_of, photo_data_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMITS: &[&str] = &[
    "--allow-single-image",
    "true",
    "--concurrent-logins",
    "1",
    "--concurrent-registrations",
    "1",
    "--body-read-timeout-secs",
    "2",
];

/// Starts a POST to `path` that announces a large JSON body, sends its first byte and then
/// nothing: it holds a place until the body-read deadline. Returns the open connection.
async fn trickling_upload(server: &TestServer, path: &str) -> tokio::net::TcpStream {
    let address = server.base_url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

async fn post(
    server: &TestServer,
    path: &str,
    body: serde_json::Value,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = client()
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .expect("answer");
    error_of(response).await
}

fn login_body(photo: &str) -> serde_json::Value {
    json!({ "image": photo_data_url(photo), "pin": PIN })
}

#[tokio::test]
async fn past_capacity_requests_get_503_at_once_and_registrations_cannot_starve_logins() {
    let server = TestServer::start(LIMITS).await;
    let body = json!({ "username": "barack", "email": "barack@example.org", "pin": PIN,
                       "image": photo_data_url("obama.jpg") });
    let (status, _, answer) = post(&server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    // A slow client takes the one login place.
    let mut slow = trickling_upload(&server, "/api/login").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = Instant::now();
    let (status, retry_after, answer) = post(&server, "/api/login", login_body("obama2.jpg")).await;
    let refused_in = began.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["error"], "busy");
    assert_eq!(retry_after.as_deref(), Some("1"));
    println!("login past capacity: 503 after {refused_in:?}");

    // Registrations have their own place: one still gets through to its own checks (here: this
    // face is already registered).
    let body = json!({ "username": "barack2", "email": "barack2@example.org", "pin": PIN,
                       "image": photo_data_url("obama3.jpg") });
    let (status, _, answer) = post(&server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    // And a registration wave holding the registration place leaves logins alone.
    let mut slow_registration = trickling_upload(&server, "/api/register").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let body = json!({ "username": "joe", "email": "joe@example.org", "pin": PIN,
                       "image": photo_data_url("biden.jpg") });
    let (status, _, answer) = post(&server, "/api/register", body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");

    // The trickling upload is cut at the body-read deadline (2 s here), which frees its place.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the trickling upload was never cut off");
    let head = String::from_utf8_lossy(&answer);
    assert!(
        !head.starts_with("HTTP/1.1 2"),
        "a cut-off upload is not a success: {head}"
    );
    let (status, _, answer) = post(&server, "/api/login", login_body("obama2.jpg")).await;
    assert_eq!(status, StatusCode::OK, "the server takes logins again: {answer}");
    drop(slow_registration.shutdown().await);
}
