//! Several app instances on one database: two (then three) real `facegate` processes on one
//! FerretDB. What one instance does — a registration, a login, a logout, a deletion — reaches
//! the others through the change feed (src/changes.rs), within the 2 s the deployment guide
//! promises, with no request ever reading the users or sessions collection.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{
    Client, StatusCode,
    cookie::{CookieStore, Jar},
};
use serde_json::{Value, json};
use support::{AppProcess, FerretDb, PIN, Served, client, photo_data_url, post};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];
/// How fast a change must reach another instance (docs/deploy.md).
const PROPAGATION: Duration = Duration::from_secs(2);

async fn log_in(client: &Client, server: &impl Served, photo: &str) -> (StatusCode, Value) {
    let body = json!({ "image": photo_data_url(photo), "pin": PIN });
    post(client, server, "/api/login", body).await
}

async fn greeting(client: &Client, server: &impl Served) -> StatusCode {
    client
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("GET /api/greeting")
        .status()
}

/// Repeats `attempt` until it gives `wanted` or [`PROPAGATION`] has passed since `since`;
/// returns the last status and when it was seen.
async fn within_propagation<F, Fut>(
    since: Instant,
    wanted: StatusCode,
    mut attempt: F,
) -> (StatusCode, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    loop {
        let status = attempt().await;
        if status == wanted || since.elapsed() > PROPAGATION {
            return (status, since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two instances on `db`; Barack registered (photo, PIN) on the first. Returns both and when the
/// registration was answered (the other instance learns of it through the change feed).
async fn barack_registered_on_a(db: &FerretDb) -> (AppProcess, AppProcess, Instant) {
    let (a, b) = tokio::join!(
        AppProcess::start(db, SINGLE_IMAGE),
        AppProcess::start(db, SINGLE_IMAGE)
    );
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN,
                       "image": photo_data_url("obama.jpg") });
    let (status, answer) = post(&client(), &a, "/api/register", body).await;
    assert!(status.is_success(), "{status}: {answer}");
    (a, b, Instant::now())
}

#[tokio::test]
async fn what_one_instance_does_reaches_the_other_within_two_seconds() {
    let db = FerretDb::start();
    // Register on A; log in on B.
    let (a, b, registered) = barack_registered_on_a(&db).await;
    let (browser, jar) = browser();
    let (status, took) = within_propagation(registered, StatusCode::OK, || async {
        log_in(&browser, &b, "obama.jpg").await.0
    })
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "B did not recognise A's registration within {took:?}"
    );
    println!("registration on A → login on B: {took:?}");

    // The session opened on B is good on A at once (A reads the log when a cookie is new to it).
    assert_eq!(greeting(&browser, &a).await, StatusCode::OK);
    assert_eq!(greeting(&browser, &b).await, StatusCode::OK);

    // Log out on A.
    let logout = browser.post(a.url("/api/logout")).send().await.expect("logout");
    assert!(logout.status().is_success(), "{}", logout.status());
    // The jar dropped the cookie at that logout. Again, logging out on B this time, while
    // someone holds a copy of the cookie: A must stop honouring it too.
    let (status, answer) = log_in(&browser, &b, "obama.jpg").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let stolen = cookie_of(&jar, &b);
    let logout = browser.post(b.url("/api/logout")).send().await.expect("logout");
    assert!(logout.status().is_success());
    let logged_out = Instant::now();
    let thief = Client::new();
    let (status, took) = within_propagation(logged_out, StatusCode::UNAUTHORIZED, || {
        let request = thief.get(a.url("/api/greeting")).header("cookie", &stolen).send();
        async move { request.await.expect("GET").status() }
    })
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "A still honoured B's ended session after {took:?}"
    );

    // Delete on A (with a fresh login there); B refuses the face.
    let owner = client();
    let (status, answer) = log_in(&owner, &a, "obama.jpg").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let deleted = owner.delete(a.url("/api/account")).send().await.expect("delete");
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let deleted = Instant::now();
    let (status, took) = within_propagation(deleted, StatusCode::UNAUTHORIZED, || async {
        log_in(&client(), &b, "obama.jpg").await.0
    })
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "B still recognised a deleted account after {took:?}"
    );
    println!("deletion on A → refused on B: {took:?}");

    // A third instance started now loads the same state: nobody enrolled.
    let c = AppProcess::start(&db, SINGLE_IMAGE).await;
    let (status, answer) = log_in(&client(), &c, "obama.jpg").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
}

/// A client with a cookie jar the test can read, like a browser's.
fn browser() -> (Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .expect("client");
    (client, jar)
}

/// The `Cookie` header the jar would send to `server`.
fn cookie_of(jar: &Jar, server: &impl Served) -> String {
    let url = server.url("/").parse().expect("url");
    jar.cookies(&url)
        .and_then(|value| value.to_str().ok().map(str::to_string))
        .expect("a session cookie")
}

/// Face step on `server` with Barack's photo: the ticket (redeemed on the same instance).
async fn ticket_on(browser: &Client, server: &impl Served) -> String {
    let body = json!({ "image": photo_data_url("obama2.jpg") });
    let (status, answer) = post(browser, server, "/api/login", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    answer["ticket"].as_str().expect("ticket").to_string()
}

async fn pin_on(browser: &Client, server: &impl Served, ticket: &str, pin: &str) -> (StatusCode, String) {
    let (status, answer) = post(
        browser,
        server,
        "/api/login/pin",
        json!({ "ticket": ticket, "pin": pin }),
    )
    .await;
    (status, answer["error"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn two_instances_give_no_more_guesses_than_one() {
    let db = FerretDb::start();
    let (a, b, registered) = barack_registered_on_a(&db).await;
    let (status, took) = within_propagation(registered, StatusCode::UNAUTHORIZED, || async {
        post(
            &client(),
            &b,
            "/api/login",
            json!({ "image": photo_data_url("obama2.jpg") }),
        )
        .await
        .0
    })
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "B did not learn of the account within {took:?}"
    );

    // Guesses alternate between the instances: the 5th wrong PIN in all locks, on both.
    let browser = client();
    let mut codes = Vec::new();
    for i in 0..8 {
        let pin = format!("73041{i}");
        let (_, code) = if i % 2 == 0 {
            pin_on(&browser, &a, &ticket_on(&browser, &a).await, &pin).await
        } else {
            pin_on(&browser, &b, &ticket_on(&browser, &b).await, &pin).await
        };
        codes.push(code);
    }
    assert_eq!(
        codes,
        [
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "pin_locked",
            "pin_locked",
            "pin_locked",
            "pin_locked"
        ],
        "two instances, one count"
    );

    // Ten guesses sent to both at once (five tickets each) after the lock ran out: one check at
    // a time for this client on all instances, so at most one more is tried.
    let mongo = mongodb::Client::with_uri_str(&db.uri).await.expect("client");
    let locks = mongo
        .database("facegate_test")
        .collection::<facegate::db::pin_locks::PinLockDoc>("pin_locks");
    locks
        .update_many(
            mongodb::bson::doc! {},
            mongodb::bson::doc! { "$set": { "blocked_until": mongodb::bson::DateTime::now() } },
        )
        .await
        .expect("run out the lock");
    let mut tickets = Vec::new();
    for _ in 0..5 {
        tickets.push((true, ticket_on(&browser, &a).await));
        tickets.push((false, ticket_on(&browser, &b).await));
    }
    let guesses = tickets.iter().enumerate().map(|(i, (on_a, ticket))| {
        let browser = &browser;
        let (a, b) = (&a, &b);
        async move {
            let pin = format!("9182{:02}", 10 + i);
            if *on_a {
                pin_on(browser, a, ticket, &pin).await
            } else {
                pin_on(browser, b, ticket, &pin).await
            }
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let tried = answers
        .iter()
        .filter(|(status, code)| {
            *status == StatusCode::TOO_MANY_REQUESTS && code == "pin_locked"
                || *status == StatusCode::UNAUTHORIZED
        })
        .count();
    let client_lock = locks
        .find_one(mongodb::bson::doc! { "_id": { "$regex": "@" } })
        .await
        .expect("find")
        .expect("the client's lock");
    assert_eq!(
        client_lock.failures, 6,
        "one more PIN checked, not {tried}: {answers:?} {client_lock:?}"
    );
}
