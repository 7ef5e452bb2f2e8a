//! The second factor through the real server and a real FerretDB: the PIN after the face, the
//! per-account lock (doubling, surviving a restart), the account history, export and delete.
//! Faces come from real photos through `allow-single-image` (the live check has its own tests);
//! what is under test here is what happens after the face matched.

use crate::support;

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

/// Ends every client lock of the account now (moved back in time rather than waited for).
async fn run_out_the_lock(server: &TestServer, user_id: &str) {
    let user = mongodb::bson::oid::ObjectId::parse_str(user_id).expect("id");
    server
        .db()
        .pin_locks()
        .update_many(
            doc! { "user_ids": user, "lease": null },
            doc! { "$set": { "blocked_until": DateTime::now() } },
        )
        .await
        .expect("update");
}

/// The per-client lock documents (`<accounts>@<client>`) left.
async fn client_locks(server: &TestServer) -> Vec<facegate::db::pin_locks::PinLockDoc> {
    let all = support::all_of(&server.db().pin_locks()).await;
    all.into_iter().filter(|lock| lock.key.contains('@')).collect()
}

#[tokio::test]
async fn the_face_alone_does_not_sign_in_the_pin_does() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    let stored = support::only_user(&server).await;
    assert_eq!(stored.pin_hash, None, "no plain PIN hash is stored");
    let sealed = stored.pin_sealed.expect("a sealed PIN hash");
    let hash = server
        .state
        .templates
        .open_pin(&stored.id, &sealed)
        .expect("opens");
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
    // The wrong PIN was counted; the good one cleared this client's count.
    assert_eq!(client_locks(&server).await, []);
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
    assert_eq!(client_locks(&server).await, []);

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
            // 503: refused by admission before the handler (the machine is busy): not checked.
            .all(|s| [
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(s)),
        "{statuses:?}"
    );
    assert!(
        checked <= 5,
        "at most 5 guesses were checked before the lock: {statuses:?}"
    );
    let locks = client_locks(&server).await;
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert!(locks[0].failures <= 5, "{locks:?}");
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
        .update_many(doc! {}, doc! { "$unset": { "pin_hash": "", "pin_sealed": "" } })
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

/// A client at `address` (the server trusts 127.0.0.1 as its proxy, so `X-Forwarded-For` is the
/// client address the locks see).
fn client_at(address: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().expect("header"));
    Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Face then PIN from `browser`: the status and error code.
async fn attempt_from(browser: &Client, server: &TestServer, pin: &str) -> (StatusCode, String) {
    let ticket = face_step(browser, server).await;
    let (status, _, body) = support::error_of(pin_step(browser, server, &ticket, pin).await).await;
    (status, body["error"].as_str().unwrap_or_default().to_string())
}

const BEHIND_A_PROXY: &[&str] = &["--allow-single-image", "true", "--trusted-proxies", "127.0.0.1"];

#[tokio::test]
async fn a_stranger_guessing_from_elsewhere_does_not_keep_the_owner_out() {
    let server = TestServer::start(BEHIND_A_PROXY).await;
    // The owner registers at home.
    let home = client_at("198.51.100.4");
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg") });
    let (status, body) = post(&home, &server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // A stranger with the owner's face guesses from one address: after 5 wrong PINs in a row
    // that address is locked — and only it: the owner at home gets in meanwhile.
    let stranger = client_at("203.0.113.7");
    let mut outcomes = Vec::new();
    for i in 0..6 {
        outcomes.push(attempt_from(&stranger, &server, &format!("73041{i}")).await);
    }
    let codes: Vec<&str> = outcomes.iter().map(|(_, code)| code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "pin_locked",
            "pin_locked"
        ],
        "{outcomes:?}"
    );
    // Even the right PIN is refused from the locked address.
    assert_eq!(attempt_from(&stranger, &server, PIN).await.1, "pin_locked");
    let (status, _) = attempt_from(&home, &server, PIN).await;
    assert_eq!(status, StatusCode::OK, "the owner at home is not locked out");

    // The stranger moves on through more addresses (IPv6: each /64 a new one). The account
    // takes 10 wrong PINs a day from all of them together; then unknown addresses are refused
    // before any PIN is tried, while the owner's home still gets in.
    for network in 1..=4 {
        let elsewhere = client_at(&format!("2001:db8:{network}::1"));
        for i in 0..5 {
            attempt_from(&elsewhere, &server, &format!("91827{i}")).await;
        }
    }
    let user = support::only_user(&server).await.id;
    let daily = server
        .db()
        .pin_locks()
        .find_one(doc! { "_id": user.to_hex() })
        .await
        .expect("find")
        .expect("the day's count");
    assert_eq!(
        daily.failures, 10,
        "20 more tried, 10 checked in the day: {daily:?}"
    );
    // A new network is refused before its PIN is tried, the right one too.
    let (status, code) = attempt_from(&client_at("2001:db8:9::1"), &server, PIN).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "pin_locked")
    );
    let (status, _) = attempt_from(&home, &server, PIN).await;
    assert_eq!(status, StatusCode::OK, "the owner at home still gets in");
    assert_eq!(
        server
            .db()
            .pin_locks()
            .find_one(doc! { "_id": user.to_hex() })
            .await
            .expect("find")
            .map(|d| d.failures),
        Some(10),
        "the owner's right PIN is not a guess"
    );
}

#[tokio::test]
async fn parallel_pins_on_one_ticket_use_no_try_but_the_one_checked() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register_barack(&server).await;
    let browser = client();
    let ticket = face_step(&browser, &server).await;
    let guesses = ["730411", "730412", "730413"].map(|pin| {
        let (browser, server, ticket) = (&browser, &server, &ticket);
        async move { support::error_of(pin_step(browser, server, ticket, pin).await).await }
    });
    let answers = futures::future::join_all(guesses).await;
    let codes: Vec<(StatusCode, String)> = answers
        .iter()
        .map(|(status, _, body)| (*status, body["error"].as_str().unwrap_or_default().to_string()))
        .collect();
    let checked = codes
        .iter()
        .filter(|(_, code)| code.starts_with("wrong_pin"))
        .count();
    let running = codes
        .iter()
        .filter(|(_, code)| code == "pin_check_running")
        .count();
    assert_eq!(checked + running, 3, "{codes:?}");
    assert!(running >= 1, "the guesses overlapped: {codes:?}");
    // Only the checked PINs used tries: the right PIN still gets in on the same ticket.
    let response = pin_step(&browser, &server, &ticket, PIN).await;
    assert_eq!(response.status(), StatusCode::OK, "{codes:?}");
}

/// Barack, and "Twin" stored with Barack's own encodings (an identical twin), with `twin_pin`.
/// Registration refuses an enrolled face, so the twin goes into the database and the gallery
/// directly.
async fn barack_and_his_twin(twin_pin: &str) -> (TestServer, String, mongodb::bson::oid::ObjectId) {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let barack = register_barack(&server).await;
    let id = support::plant_twin(&server, twin_pin).await;
    (server, barack, id)
}

/// The face step of Barack's photo on a server where it is ambiguous: a ticket naming both.
async fn ambiguous_ticket(browser: &Client, server: &TestServer) -> String {
    face_step(browser, server).await
}

#[tokio::test]
async fn an_ambiguous_ticket_signs_in_only_the_owner_of_the_pin_and_never_on_a_shared_one() {
    // Different PINs: each PIN signs in its own owner.
    let (server, barack, twin) = barack_and_his_twin("730418").await;
    for (pin, expected) in [(PIN, barack.clone()), ("730418", twin.to_hex())] {
        let browser = client();
        let ticket = ambiguous_ticket(&browser, &server).await;
        let response = pin_step(&browser, &server, &ticket, pin).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["user_id"], expected.as_str(), "{body}");
    }
    drop(server);

    // The same PIN: the PIN cannot tell them apart, nobody is signed in.
    let (server, _, _) = barack_and_his_twin(PIN).await;
    let browser = client();
    let ticket = ambiguous_ticket(&browser, &server).await;
    let (status, _, body) = support::error_of(pin_step(&browser, &server, &ticket, PIN).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("ambiguous_match")),
        "{body}"
    );
    assert_eq!(count(&server, "sessions").await, 0);
}

#[tokio::test]
async fn wrong_pins_on_an_ambiguous_ticket_lock_neither_account_nor_write_their_history() {
    let (server, barack, twin) = barack_and_his_twin("730418").await;
    let browser = client();
    let mut codes = Vec::new();
    for i in 0..2 {
        let ticket = ambiguous_ticket(&browser, &server).await;
        for j in 0..3 {
            let (_, _, body) =
                support::error_of(pin_step(&browser, &server, &ticket, &format!("91827{i}{j}")).await).await;
            codes.push(body["error"].as_str().unwrap_or_default().to_string());
        }
    }
    // The guessing client is locked for this pair of accounts after 5…
    assert_eq!(codes[4], "pin_locked", "{codes:?}");
    // …but neither account is: no lock keyed by either alone, no wrong PIN in either history.
    let barack_id = mongodb::bson::oid::ObjectId::parse_str(&barack).expect("id");
    for id in [barack_id, twin] {
        let alone = server
            .db()
            .pin_locks()
            .count_documents(
                doc! { "$or": [ { "_id": id.to_hex() }, { "_id": format!("{}@127.0.0.1", id.to_hex()) } ] },
            )
            .await
            .expect("count");
        assert_eq!(alone, 0, "{id} is not locked by guesses on an ambiguous ticket");
        let history = server
            .db()
            .audit()
            .count_documents(doc! { "user_id": id, "success": false })
            .await
            .expect("count");
        assert_eq!(history, 0, "nothing written into {id}'s history");
    }
}
