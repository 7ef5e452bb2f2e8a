//! The second factor through the real server and a real FerretDB: the PIN after the face, the
//! per-account lock (doubling, surviving a restart), the account history, export and delete.
//! Faces come from real photos through `allow-single-image` (the live check has its own tests);
//! what is under test here is what happens after the face matched.

mod support;

use std::time::Duration;

use mongodb::bson::{DateTime, doc};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{PIN, TestServer, client, count, get_json, photo_data_url, post};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];

async fn register_barack(server: &TestServer) -> String {
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg") });
    let (status, body) = post(&client(), server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["user_id"].as_str().expect("user_id").to_string()
}

/// The face step alone: returns the ticket of the 401 `second_factor_required`.
async fn face_step(browser: &Client, server: &TestServer) -> String {
    let (status, body) = post(
        browser,
        server,
        "/api/login",
        json!({ "image": photo_data_url("obama2.jpg") }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "second_factor_required", "{body}");
    assert_eq!(body["factors"], json!(["pin"]));
    body["ticket"].as_str().expect("ticket").to_string()
}

async fn pin_step(browser: &Client, server: &TestServer, ticket: &str, pin: &str) -> reqwest::Response {
    browser
        .post(server.url("/api/login/pin"))
        .json(&json!({ "ticket": ticket, "pin": pin }))
        .send()
        .await
        .expect("post")
}

/// One full attempt with `pin`: face, then PIN.
async fn attempt(server: &TestServer, pin: &str) -> reqwest::Response {
    let browser = client();
    let ticket = face_step(&browser, server).await;
    pin_step(&browser, server, &ticket, pin).await
}

/// Moves the last wrong PIN an hour back: any lock up to the longest has run out.
async fn run_out_the_lock(server: &TestServer, user_id: &str) {
    let user = mongodb::bson::oid::ObjectId::parse_str(user_id).expect("id");
    let an_hour_ago = DateTime::from_millis(DateTime::now().timestamp_millis() - 3_600_000);
    server
        .db()
        .pin_locks()
        .update_one(
            doc! { "_id": user },
            doc! { "$set": { "last_failure_at": an_hour_ago } },
        )
        .await
        .expect("update");
}

#[tokio::test]
async fn the_face_alone_does_not_sign_in_the_pin_does() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    let stored = support::only_user(&server).await;
    let hash = stored.pin_hash.expect("a PIN hash");
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PIN), "{hash}");

    let browser = client();
    let ticket = face_step(&browser, &server).await;
    assert_eq!(
        count(&server, "sessions").await,
        0,
        "no session after the face alone"
    );
    let response = pin_step(&browser, &server, &ticket, "730418").await;
    let (status, _, body) = support::error_of(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_pin")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap_or_default().contains("2 more"),
        "{body}"
    );

    // The same ticket takes the right PIN: signed in and greeted.
    let response = pin_step(&browser, &server, &ticket, PIN).await;
    assert_eq!(response.status(), StatusCode::OK);
    let greeting = get_json(&browser, &server, "/api/greeting").await;
    assert_eq!(greeting["username"], "Barack");
    // A ticket is single-use: it cannot open a second session.
    let again = pin_step(&client(), &server, &ticket, PIN).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&server, "sessions").await, 1);
    // The wrong PIN is counted; the good one cleared the count.
    assert_eq!(count(&server, "pin_locks").await, 0);
}

#[tokio::test]
async fn a_ticket_gives_three_tries_then_the_face_is_needed_again() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    let browser = client();
    let ticket = face_step(&browser, &server).await;
    for expected in ["wrong_pin", "wrong_pin", "wrong_pin_face_again"] {
        let (status, _, body) = support::error_of(pin_step(&browser, &server, &ticket, "730418").await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(expected)),
            "{body}"
        );
    }
    // Even the right PIN is refused on a used-up ticket.
    let response = pin_step(&browser, &server, &ticket, PIN).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&server, "sessions").await, 0);
}

#[tokio::test]
async fn guessing_locks_the_account_with_a_doubling_delay_that_survives_a_restart() {
    let mut server = TestServer::start(SINGLE_IMAGE).await;
    let user_id = register_barack(&server).await;
    let guesses = ["730418", "918273", "402913", "650172"];
    for guess in guesses {
        let (status, _, body) = support::error_of(attempt(&server, guess).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // The fifth wrong PIN in a row locks for 30 s.
    let (status, retry_after, body) = support::error_of(attempt(&server, "385016").await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("pin_locked")),
        "{body}"
    );
    let wait: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((28..=30).contains(&wait), "{wait}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Try again in"),
        "{body}"
    );

    // While locked, even the right PIN is refused — after a restart too (the lock is stored).
    server.restart(SINGLE_IMAGE).await;
    let (status, retry_after, body) = support::error_of(attempt(&server, PIN).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("pin_locked")),
        "{body}"
    );
    assert!(retry_after.is_some());
    assert_eq!(count(&server, "sessions").await, 0);

    // Let the lock run out (moved back in time rather than waited for), then one more wrong PIN
    // locks for twice as long.
    run_out_the_lock(&server, &user_id).await;
    let (status, retry_after, _) = support::error_of(attempt(&server, "730418").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((58..=60).contains(&wait), "doubled to 60 s: {wait}");

    // After that lock, the right PIN gets in and clears the count.
    run_out_the_lock(&server, &user_id).await;
    assert_eq!(attempt(&server, PIN).await.status(), StatusCode::OK);
    assert_eq!(count(&server, "pin_locks").await, 0);

    // The owner sees the failed attempts in the history.
    let browser = client();
    let ticket = face_step(&browser, &server).await;
    assert_eq!(
        pin_step(&browser, &server, &ticket, PIN).await.status(),
        StatusCode::OK
    );
    let history = get_json(&browser, &server, "/api/account/history").await;
    let history = history.as_array().expect("a list");
    let events: Vec<&str> = history.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        events.iter().filter(|e| **e == "pin_refused").count(),
        4,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| **e == "pin_locked").count(),
        2,
        "{events:?}"
    );
    assert_eq!(events.first(), Some(&"signed_in"), "newest first: {events:?}");
    assert!(
        history
            .iter()
            .all(|e| e["client_address"].as_str() == Some("127.0.0.1")),
        "{history:?}"
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_race_past_the_lock() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    // Twelve tickets, then all twelve guesses at once.
    let browser = client();
    let mut tickets = Vec::new();
    for _ in 0..12 {
        tickets.push(face_step(&browser, &server).await);
    }
    let guesses = tickets.iter().enumerate().map(|(i, ticket)| {
        let (browser, server) = (&browser, &server);
        async move {
            pin_step(browser, server, ticket, &format!("7304{:02}", 10 + i))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        checked <= 5,
        "at most 5 guesses were checked before the lock: {statuses:?}"
    );
    let lock = server
        .db()
        .pin_locks()
        .find_one(doc! {})
        .await
        .expect("find")
        .expect("a lock");
    assert!(lock.failures <= 5, "{lock:?}");
}

#[tokio::test]
async fn export_holds_everything_and_delete_leaves_nothing() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let user_id = register_barack(&server).await;
    // A wrong PIN first, so there is a refused attempt to export.
    let (status, _, _) = support::error_of(attempt(&server, "730418").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let browser = client();
    let ticket = face_step(&browser, &server).await;
    assert_eq!(
        pin_step(&browser, &server, &ticket, PIN).await.status(),
        StatusCode::OK
    );

    let export = browser
        .get(server.url("/api/account/export"))
        .send()
        .await
        .expect("get");
    assert_eq!(export.status(), StatusCode::OK);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains("attachment"),
        "a download"
    );
    let export: Value = export.json().await.expect("json");
    assert_eq!(export["user"]["user_id"], user_id.as_str());
    assert_eq!(export["user"]["email"], "barack@example.org");
    assert_eq!(export["user"]["pin_set"], true);
    let encodings = export["user"]["face_encodings"].as_array().expect("encodings");
    assert_eq!(encodings.len(), 1);
    assert_eq!(encodings[0].as_array().map(Vec::len), Some(128));
    assert!(
        !export.to_string().contains("argon2"),
        "the PIN hash is not exported"
    );
    assert_eq!(export["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(export["sessions"][0]["current"], true);
    let events: Vec<&str> = export["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    for event in ["registered", "pin_refused", "signed_in"] {
        assert!(events.contains(&event), "{event} in {events:?}");
    }

    let deleted = browser
        .delete(server.url("/api/account"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    support::assert_nothing_stored(&server).await;
    let gone = post(
        &client(),
        &server,
        "/api/login",
        json!({ "image": photo_data_url("obama2.jpg"), "pin": PIN }),
    )
    .await;
    assert_eq!(
        gone.0,
        StatusCode::UNAUTHORIZED,
        "the gallery forgot the face: {}",
        gone.1
    );
}

#[tokio::test]
async fn deleting_or_exporting_needs_a_login_under_five_minutes_old() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    let browser = client();
    let ticket = face_step(&browser, &server).await;
    assert_eq!(
        pin_step(&browser, &server, &ticket, PIN).await.status(),
        StatusCode::OK
    );
    // The session's login is made six minutes old.
    support::backdate_logins(&server, 6).await;
    for (what, response) in [
        (
            "delete",
            browser
                .delete(server.url("/api/account"))
                .send()
                .await
                .expect("delete"),
        ),
        (
            "export",
            browser
                .get(server.url("/api/account/export"))
                .send()
                .await
                .expect("get"),
        ),
    ] {
        let (status, _, body) = support::error_of(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("login_not_fresh")),
            "{what}: {body}"
        );
    }
    assert_eq!(count(&server, "users").await, 1, "nothing deleted");
    // Still signed in for everything else.
    let greeting = browser
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("get");
    assert_eq!(greeting.status(), StatusCode::OK);
}

#[tokio::test]
async fn both_factors_in_one_request_sign_in_and_history_purges_after_retention() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    let (status, body) = post(
        &client(),
        &server,
        "/api/login",
        json!({ "image": photo_data_url("obama3.jpg"), "pin": PIN }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(count(&server, "audit").await, 2, "registered + signed_in");
    // Entries older than the retention are purged by the background task.
    let old = DateTime::from_millis(DateTime::now().timestamp_millis() - 91 * 24 * 3_600_000);
    server
        .db()
        .audit()
        .update_many(doc! { "event": "registered" }, doc! { "$set": { "at": old } })
        .await
        .expect("update");
    let idle = server.state.config.accounts.session_idle();
    facegate::db::housekeeping::purge_once(server.db(), idle, Duration::from_secs(90 * 24 * 3600)).await;
    let left: Vec<String> = {
        use futures::TryStreamExt;
        server
            .db()
            .audit()
            .find(doc! {})
            .await
            .expect("find")
            .try_collect::<Vec<_>>()
            .await
            .expect("collect")
            .into_iter()
            .map(|e| e.event)
            .collect()
    };
    assert_eq!(left, vec!["signed_in".to_string()]);
}

#[tokio::test]
async fn an_account_from_before_pins_still_logs_in_by_face() {
    let mut server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    server
        .db()
        .users()
        .update_many(doc! {}, doc! { "$unset": { "pin_hash": "" } })
        .await
        .expect("unset");
    server.restart(SINGLE_IMAGE).await;
    let (status, body) = post(
        &client(),
        &server,
        "/api/login",
        json!({ "image": photo_data_url("obama2.jpg") }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "Barack");
}
