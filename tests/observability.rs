//! `GET /metrics` as Prometheus scrapes it: the real server, a real FerretDB, real photos, the
//! text read by a Prometheus text-format parser. The recorder is process-wide, so every check
//! compares a scrape before with one after (and this binary runs one server at a time).

mod support;

use prometheus_parse::{Scrape, Value};
use reqwest::{StatusCode, header};
use serde_json::json;
use support::{PIN, TestServer, client, free_port, photo_data_url, post};

const TOKEN: &str = "a-long-random-metrics-token";

async fn scrape_at(url: &str, token: Option<&str>) -> Scrape {
    let mut request = client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET /metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("text");
    Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).expect("Prometheus text format")
}

/// The sum of the samples of `metric` whose labels include `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_count_logins_by_outcome_and_are_served_only_where_configured() {
    let mut server = TestServer::start(&["--allow-single-image", "true", "--metrics-token", TOKEN]).await;
    let metrics = server.url("/metrics");

    // The public port wants the token.
    let anonymous = client().get(&metrics).send().await.expect("GET");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = client()
        .get(&metrics)
        .bearer_auth("guess")
        .send()
        .await
        .expect("GET");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let before = scrape_at(&metrics, Some(TOKEN)).await;
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg") });
    let (status, answer) = post(&client(), &server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let login = |photo: &str| json!({ "image": photo_data_url(photo), "pin": PIN });
    let (status, answer) = post(&client(), &server, "/api/login", login("obama2.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = post(&client(), &server, "/api/login", login("biden.jpg")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let refused_code = answer["error"].as_str().expect("an error code").to_string();
    let after = scrape_at(&metrics, Some(TOKEN)).await;

    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert_eq!(
        moved("facegate_registrations_total", &[("outcome", "registered")]),
        1.0
    );
    assert_eq!(moved("facegate_logins_total", &[("outcome", "signed_in")]), 1.0);
    assert_eq!(moved("facegate_logins_total", &[("outcome", &refused_code)]), 1.0);
    // Three pictures went through every stage of the face engine.
    for stage in ["decode", "detect", "landmarks", "encode"] {
        assert!(
            moved("facegate_face_stage_seconds_count", &[("stage", stage)]) >= 3.0,
            "stage {stage}"
        );
    }
    // The registration and the login wrote to the database, and it was timed.
    assert!(moved("facegate_db_command_seconds_count", &[("command", "insert")]) >= 2.0);
    assert_eq!(value(&after, "facegate_gallery_users", &[]), 1.0);
    assert_eq!(value(&after, "facegate_sessions_open", &[]), 1.0);
    assert_eq!(value(&after, "facegate_face_queue_depth", &[]), 0.0);

    // Without a token the public port does not serve it at all; `metrics-listen` does, apart.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    server.restart(&["--metrics-listen", &listen]).await;
    let public = client().get(server.url("/metrics")).send().await.expect("GET");
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let apart = scrape_at(&format!("http://{listen}/metrics"), None).await;
    assert_eq!(value(&apart, "facegate_gallery_users", &[]), 1.0);
    assert!(value(&apart, "facegate_logins_total", &[("outcome", "signed_in")]) >= 1.0);
}
