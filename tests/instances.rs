//! Several app instances on one database: two (then three) real `facegate` processes on one
//! FerretDB. What one instance does — a registration, a login, a logout, a deletion — reaches
//! the others through the change feed (src/changes.rs), within the 2 s the deployment guide
//! promises, with no request ever reading the users or sessions collection.

mod support;

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

#[tokio::test]
async fn what_one_instance_does_reaches_the_other_within_two_seconds() {
    let db = FerretDb::start();
    let (a, b) = tokio::join!(
        AppProcess::start(&db, SINGLE_IMAGE),
        AppProcess::start(&db, SINGLE_IMAGE)
    );

    // Register on A; log in on B.
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN,
                       "image": photo_data_url("obama.jpg") });
    let (status, answer) = post(&client(), &a, "/api/register", body).await;
    assert!(status.is_success(), "{status}: {answer}");
    let registered = Instant::now();
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
