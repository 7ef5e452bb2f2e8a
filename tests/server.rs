//! The server against a real FerretDB: health, the users collection and its unique indexes.

use crate::support;

use facegate::{
    db::{
        is_duplicate_key,
        users::{UserDoc, email_key, username_key},
    },
    face::Encoding,
};
use mongodb::bson::{DateTime, doc, oid::ObjectId};
use support::TestServer;

fn user(server: &TestServer, email: &str, username: &str) -> UserDoc {
    let encoding = Encoding(std::array::from_fn(|i| i as f32 / 128.0));
    let id = ObjectId::new();
    UserDoc {
        id,
        email: email.into(),
        email_key: email_key(email),
        username: username.into(),
        username_key: username_key(username),
        face_templates: server.state.templates.seal(&id, &[encoding]).expect("seal"),
        created_at: DateTime::now(),
        last_login_at: None,
        pin_sealed: None,
        pin_hash: None,
    }
}

#[tokio::test]
async fn healthz_reports_database_and_models() {
    let server = TestServer::start(&[]).await;
    let response = reqwest::get(server.url("/healthz")).await.expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["models"]["ok"], true);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn healthz_says_degraded_when_the_database_goes_away() {
    let mut server = TestServer::start(&[]).await;
    server.db.stop();
    // The database is checked in the background (every 2 s, 3 s timeout), not per request.
    let mut response = reqwest::get(server.url("/healthz")).await.expect("request");
    for _ in 0..40 {
        if response.status() == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        response = reqwest::get(server.url("/healthz")).await.expect("request");
    }
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"]["ok"], false);
}

#[tokio::test]
async fn a_user_round_trips_through_the_database() {
    let server = TestServer::start(&[]).await;
    let ada = user(&server, "Ada@Example.org", "Ada");
    server.db().users().insert_one(&ada).await.expect("insert");
    let found = server
        .db()
        .users()
        .find_one(doc! { "email_key": "ada@example.org" })
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(found, ada);
}

#[tokio::test]
async fn unique_indexes_refuse_a_second_email_or_username() {
    let server = TestServer::start(&[]).await;
    let users = server.db().users();
    users
        .insert_one(user(&server, "ada@example.org", "ada"))
        .await
        .expect("first insert");

    let same_email = users
        .insert_one(user(&server, "ADA@example.org ", "someone"))
        .await
        .expect_err("duplicate email");
    assert!(is_duplicate_key(&same_email), "{same_email}");
    let same_name = users
        .insert_one(user(&server, "other@example.org", "ADA"))
        .await
        .expect_err("duplicate username");
    assert!(is_duplicate_key(&same_name), "{same_name}");

    assert_eq!(users.count_documents(doc! {}).await.expect("count"), 1);
}

#[tokio::test]
async fn startup_names_the_missing_model_file() {
    let db = support::FerretDb::start();
    let config = support::test_config(&db, &["--models-dir", "/nonexistent-models"]);
    let options = leptos::config::LeptosOptions::builder()
        .output_name("facegate")
        .build();
    let error = facegate::state::AppState::start(config, options)
        .await
        .err()
        .expect("must fail");
    let message = error.to_string();
    assert!(
        message.contains("shape_predictor_68_face_landmarks.dat") && message.contains("make models"),
        "{message}"
    );
}

#[tokio::test]
async fn startup_gives_up_on_an_unreachable_database() {
    let db = support::FerretDb::start();
    let mut config = support::test_config(&db, &["--db-connect-timeout-secs", "1"]);
    // The database stays up (its folder holds the template key file); the app is sent elsewhere.
    config.mongodb_uri = "mongodb://127.0.0.1:9/".into();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("facegate")
        .build();
    let error = facegate::state::AppState::start(config, options)
        .await
        .err()
        .expect("must fail");
    let message = error.to_string();
    assert!(
        message.contains("did not answer") && message.contains("MONGODB_URI"),
        "{message}"
    );
}
