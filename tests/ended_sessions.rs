//! What ended stays ended, and outsiders get no free database work or information: each test
//! performs the attack against the real server (in-process, or the real binary as a second
//! instance) on a real FerretDB, and shows it fail next to a control that succeeds.

use crate::support;

use std::time::{Duration, Instant};

use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};
use reqwest::{Client, StatusCode, header::SET_COOKIE};
use serde_json::{Value, json};
use support::{AppProcess, PIN, Served, TestServer, client, photo, photo_data_url, post};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];
/// How fast a change must reach another instance (docs/deploy.md).
const PROPAGATION: Duration = Duration::from_secs(2);

async fn register(server: &impl Served, name: &str, photo: &str) {
    let body = json!({ "username": name, "email": format!("{name}@example.org"), "pin": PIN,
                       "image": photo_data_url(photo) });
    let (status, answer) = post(&client(), server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// Face and PIN through a client without a cookie store; returns the `Set-Cookie` pair
/// (`name=token`) the server answered with.
async fn log_in(server: &impl Served, photo: &str) -> String {
    let response = Client::new()
        .post(server.url("/api/login"))
        .json(&json!({ "image": photo_data_url(photo), "pin": PIN }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie");
    set_cookie.split(';').next().expect("name=value").to_string()
}

async fn greeting(server: &impl Served, cookie: &str) -> StatusCode {
    Client::new()
        .get(server.url("/api/greeting"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET /api/greeting")
        .status()
}

/// Repeats `attempt` until it gives `wanted` or [`PROPAGATION`] has passed.
async fn within_propagation<F, Fut>(wanted: StatusCode, mut attempt: F) -> (StatusCode, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let since = Instant::now();
    loop {
        let status = attempt().await;
        if status == wanted || since.elapsed() > PROPAGATION {
            return (status, since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_logged_out_session_stays_ended_across_a_restart_and_on_a_new_instance() {
    let mut server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    let ended = log_in(&server, "obama.jpg").await;
    let kept = log_in(&server, "obama.jpg").await;
    assert_eq!(greeting(&server, &ended).await, StatusCode::OK);

    // Log out; someone keeps a copy of the cookie.
    let logout = Client::new()
        .post(server.url("/api/logout"))
        .header("cookie", &ended)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(greeting(&server, &ended).await, StatusCode::UNAUTHORIZED);

    // The attack: replay it after a restart (the row stays until the background purge).
    server.restart(SINGLE_IMAGE).await;
    assert_eq!(
        greeting(&server, &ended).await,
        StatusCode::UNAUTHORIZED,
        "a logged-out session came back after a restart"
    );
    // Control: the session that was not ended survives the restart.
    assert_eq!(greeting(&server, &kept).await, StatusCode::OK);

    // And on an instance that joins now.
    let joining = AppProcess::start(&server.db, SINGLE_IMAGE).await;
    assert_eq!(
        greeting(&joining, &ended).await,
        StatusCode::UNAUTHORIZED,
        "a logged-out session came back on a new instance"
    );
    assert_eq!(greeting(&joining, &kept).await, StatusCode::OK);
}

/// Takes a change number and writes `change` under it, as another (newer, or broken) instance
/// would.
async fn append_raw(server: &TestServer, origin: &str, change: Document) -> i64 {
    let seq = facegate::db::changes::next_seq(server.db()).await.expect("seq");
    server
        .db()
        .database()
        .collection::<Document>("changes")
        .insert_one(doc! { "_id": seq, "at": DateTime::now(), "origin": origin, "change": change })
        .await
        .expect("insert");
    seq
}

#[tokio::test]
async fn an_unreadable_change_and_an_unknown_kind_do_not_stop_the_other_instances() {
    let a = TestServer::start(SINGLE_IMAGE).await;
    let b = AppProcess::start(&a.db, SINGLE_IMAGE).await;
    register(&a, "Barack", "obama.jpg").await;
    let cookie = log_in(&a, "obama.jpg").await;
    let (status, took) = within_propagation(StatusCode::OK, || greeting(&b, &cookie)).await;
    assert_eq!(status, StatusCode::OK, "B did not learn A's login in {took:?}");

    // The attack (or a newer version): a damaged entry and a kind this version does not know.
    append_raw(&a, "broken", doc! { "session_ended": { "token_hash": 42 } }).await;
    append_raw(
        &a,
        "newer",
        doc! { "device_trusted": { "user_id": ObjectId::new(), "until": DateTime::now() } },
    )
    .await;

    // Later changes still reach B: a logout…
    let logout = Client::new()
        .post(a.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let (status, took) = within_propagation(StatusCode::UNAUTHORIZED, || greeting(&b, &cookie)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "B still honoured a session ended on A {took:?} after the unreadable entries"
    );
    // …and a registration.
    register(&a, "Joe", "biden.jpg").await;
    let (status, took) = within_propagation(StatusCode::OK, || async {
        let body = json!({ "image": photo_data_url("biden.jpg"), "pin": PIN });
        post(&client(), &b, "/api/login", body).await.0
    })
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "B did not learn a registration in {took:?}"
    );
}

#[tokio::test]
async fn made_up_cookies_are_answered_from_memory_even_with_the_database_frozen() {
    let server = TestServer::start(&[]).await;
    let made_up: Vec<String> = (0..20)
        .map(|i| format!("facegate_session=made-up-token-{i:02}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
        .collect();
    // The database hangs: any request that waited for it would wait for the driver's timeout
    // (seconds). A made-up cookie must cost none of that.
    server.db.freeze();
    let started = Instant::now();
    let answers = futures::future::join_all(made_up.iter().map(|cookie| greeting(&server, cookie))).await;
    let took = started.elapsed();
    server.db.resume();
    assert!(
        answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{answers:?}"
    );
    // Two polls of the change follower at most (1.5 s), never the database's timeout.
    assert!(
        took < Duration::from_millis(2500),
        "20 made-up cookies took {took:?} with the database frozen: they waited for it"
    );
    println!("20 made-up cookies, database frozen: all 401 in {took:?}");
}

#[tokio::test]
async fn healthz_reads_a_cached_check_and_tells_outsiders_nothing_about_the_machine() {
    let server = TestServer::start(&[]).await;
    let response = Client::new()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    let models_dir = support::repo_path("models").display().to_string();
    assert!(!text.contains(&models_dir), "the models path leaked: {text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["models"], json!({ "ok": true }));
    assert_eq!(body["database"], json!({ "ok": true }));

    // With the database frozen, 50 health checks answer at once from the last background
    // check (a ping per request would hang each of them).
    server.db.freeze();
    let started = Instant::now();
    let statuses = futures::future::join_all((0..50).map(|_| async {
        Client::new()
            .get(server.url("/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .map(|r| r.status())
    }))
    .await;
    assert!(
        statuses.iter().all(|s| s.is_ok()),
        "health checks waited for the frozen database: {statuses:?}"
    );
    println!("50 /healthz with the database frozen: {:?}", started.elapsed());
    // The background check notices within its period plus its ping timeout.
    let mut degraded = false;
    for _ in 0..40 {
        let response = Client::new()
            .get(server.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            degraded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    server.db.resume();
    assert!(degraded, "the frozen database was never reported");
}

#[tokio::test]
async fn over_https_only_the_host_prefixed_cookie_counts_and_hsts_is_sent_when_on() {
    let server = TestServer::start(&[
        "--allow-single-image",
        "true",
        "--secure-cookies",
        "true",
        "--hsts",
        "true",
    ])
    .await;
    register(&server, "Barack", "obama.jpg").await;
    let cookie = log_in(&server, "obama.jpg").await;
    let token = cookie
        .strip_prefix("__Host-facegate_session=")
        .unwrap_or_else(|| panic!("over HTTPS the cookie is __Host-: {cookie}"));
    assert_eq!(greeting(&server, &cookie).await, StatusCode::OK);
    // The attack: the same token under the plain name, as a sibling subdomain or a plain-HTTP
    // attacker can plant it (session fixation).
    let planted = format!("facegate_session={token}");
    assert_eq!(
        greeting(&server, &planted).await,
        StatusCode::UNAUTHORIZED,
        "over HTTPS the unprefixed cookie was accepted"
    );

    let response = Client::new()
        .get(server.url("/login"))
        .send()
        .await
        .expect("page");
    assert_eq!(
        response
            .headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let refusal = Client::new()
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("401");
    assert!(refusal.headers().contains_key("strict-transport-security"));

    // Off by default, and never over plain HTTP.
    for flags in [&["--secure-cookies", "true"][..], &["--hsts", "true"][..]] {
        let plain = TestServer::start(flags).await;
        let response = Client::new().get(plain.url("/login")).send().await.expect("page");
        assert!(
            !response.headers().contains_key("strict-transport-security"),
            "{flags:?}"
        );
    }
}

async fn exported_entries(server: &TestServer) -> u64 {
    server
        .db()
        .audit()
        .count_documents(doc! { "event": "exported" })
        .await
        .expect("count")
}

#[tokio::test]
async fn the_export_cannot_be_triggered_from_another_site() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    let cookie = log_in(&server, "obama.jpg").await;
    let export = |site: Option<&'static str>| {
        let mut request = Client::new()
            .get(server.url("/api/account/export"))
            .header("cookie", &cookie);
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        async move { request.send().await.expect("export").status() }
    };
    // The attack: a link or a redirect on another site (a top-level navigation, which carries
    // the SameSite=Lax cookie), and one from a sibling subdomain.
    for site in ["cross-site", "same-site"] {
        assert_eq!(export(Some(site)).await, StatusCode::FORBIDDEN, "{site}");
    }
    let forged_origin = Client::new()
        .get(server.url("/api/account/export"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("export");
    assert_eq!(forged_origin.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        exported_entries(&server).await,
        0,
        "a refused export left a trace"
    );
    // Controls: the welcome page's own link, an address typed in, an API client.
    for site in [Some("same-origin"), Some("none"), None] {
        assert_eq!(export(site).await, StatusCode::OK, "{site:?}");
    }
    assert_eq!(exported_entries(&server).await, 3);
}

#[tokio::test]
async fn one_registration_proof_probes_at_most_three_addresses() {
    use facegate::{
        face::ImageInput,
        live::{Purpose, ssr::PassedCheck},
    };
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    // A passed live check of a face not yet enrolled, as the live socket would mint it.
    let analysis = server
        .state
        .faces
        .analyze(ImageInput::Bytes(photo("biden.jpg")))
        .await
        .expect("a face");
    let proof = server.state.live.mint_proof(PassedCheck {
        purpose: Purpose::Register,
        encodings: vec![analysis.encoding.clone()],
    });
    // The attack: one face check, a list of addresses to find out who has an account.
    let mut answers = Vec::new();
    for email in [
        "barack@example.org",
        "Barack@Example.org",
        "barack@example.org",
        "barack@example.org",
    ] {
        let body = json!({ "username": "Joe", "email": email, "pin": PIN, "proof": proof });
        let (status, answer) = post(&client(), &server, "/api/register", body).await;
        answers.push((status, answer["error"].as_str().unwrap_or_default().to_string()));
    }
    let conflict = (StatusCode::CONFLICT, "email_taken".to_string());
    assert_eq!(answers[..3], [conflict.clone(), conflict.clone(), conflict]);
    assert_eq!(
        answers[3],
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_proof".to_string()),
        "the proof outlived three collisions"
    );
    // Control: a fresh proof with a free address registers.
    let proof = server.state.live.mint_proof(PassedCheck {
        purpose: Purpose::Register,
        encodings: vec![analysis.encoding],
    });
    let body = json!({ "username": "Joe", "email": "joe@example.org", "pin": PIN, "proof": proof });
    let (status, answer) = post(&client(), &server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}
