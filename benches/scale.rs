//! Does a login or a signed-in page get slower as users and sessions pile up? For each size N,
//! a fresh FerretDB (the embedded default) is filled with N users (sealed synthetic encodings)
//! and N live sessions, the real server starts on it (loading them), and a real person
//! registered through the API logs in with a real photo and PIN, then reads a signed-in page.
//!
//!     cargo bench --features ssr --bench scale                  # N = 1k, 10k, 100k (~10 min)
//!     cargo bench --features ssr --bench scale -- 1000 30000    # other sizes
//!
//! Prints login and session-check latency (p50, p95) per N; docs/benchmarks.md has the figures.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use facegate::{
    accounts::ssr::second_factor::hash_pin,
    at_rest::TemplateCipher,
    db::{sessions::SessionDoc, users::UserDoc},
    face::{ENCODING_LEN, Encoding},
};
use mongodb::bson::{DateTime, oid::ObjectId};
use serde_json::json;
use support::{FerretDb, PIN, TestServer, client, photo_data_url, post, test_config};

const LOGINS: usize = 40;
const WARM_UP: usize = 3;
const SETTLE: Duration = Duration::from_secs(10);
const PAGE_VIEWS: usize = 300;
const BATCH: usize = 2_000;

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    println!(
        "| users and sessions stored | login p50 | login p95 | session check p50 | session check p95 | seeding | server start |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        measure(n).await;
    }
}

async fn measure(n: usize) {
    let db = FerretDb::start();
    let _ = test_config(&db, &[]); // creates the template key file the seeding seals with
    let seeding = Instant::now();
    seed(&db, n).await;
    let seeded = seeding.elapsed();

    let starting = Instant::now();
    let server = TestServer::start_on(db, &["--allow-single-image", "true"]).await;
    let started = starting.elapsed();

    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN,
                       "image": photo_data_url("obama.jpg") });
    let (status, answer) = post(&client(), &server, "/api/register", body).await;
    assert!(status.is_success(), "{status}: {answer}");

    // The start-up purge of expired sessions scans the collection in the background; let it end,
    // and warm up, so that what is timed is the steady state.
    tokio::time::sleep(SETTLE).await;
    let login = json!({ "image": photo_data_url("obama.jpg"), "pin": PIN });
    let browser = client();
    for _ in 0..WARM_UP {
        let (status, answer) = post(&browser, &server, "/api/login", login.clone()).await;
        assert!(status.is_success(), "{status}: {answer}");
    }
    let mut logins = Vec::with_capacity(LOGINS);
    for _ in 0..LOGINS {
        let began = Instant::now();
        let (status, answer) = post(&browser, &server, "/api/login", login.clone()).await;
        logins.push(began.elapsed());
        assert!(status.is_success(), "{status}: {answer}");
    }
    let mut checks = Vec::with_capacity(PAGE_VIEWS);
    for _ in 0..PAGE_VIEWS {
        let began = Instant::now();
        let response = browser
            .get(server.url("/api/greeting"))
            .send()
            .await
            .expect("GET");
        checks.push(began.elapsed());
        assert!(response.status().is_success(), "{}", response.status());
    }
    println!(
        "| {n} | {} | {} | {} | {} | {:.0} s | {:.1} s |",
        ms(percentile(&mut logins, 0.50)),
        ms(percentile(&mut logins, 0.95)),
        ms(percentile(&mut checks, 0.50)),
        ms(percentile(&mut checks, 0.95)),
        seeded.as_secs_f64(),
        started.as_secs_f64(),
    );
}

/// N users with one sealed synthetic encoding each and one shared PIN hash (hashing is not what
/// is measured), and N sessions spread over them, inserted in batches.
async fn seed(db: &FerretDb, n: usize) {
    let cipher = TemplateCipher::load(&db.key_file()).expect("template keys");
    let client = mongodb::Client::with_uri_str(&db.uri).await.expect("client");
    let database = client.database("facegate_test");
    let pin_hash = hash_pin("804127").await.expect("hash");
    let mut random = xorshift(n as u64);
    let now = DateTime::now();
    let mut user_ids = Vec::with_capacity(n);
    for start in (0..n).step_by(BATCH) {
        let users: Vec<UserDoc> = (start..n.min(start + BATCH))
            .map(|i| {
                let id = ObjectId::new();
                user_ids.push(id);
                let encoding = Encoding(std::array::from_fn::<f32, ENCODING_LEN, _>(|_| random()));
                UserDoc {
                    id,
                    email: format!("user{i}@example.org"),
                    email_key: format!("user{i}@example.org"),
                    username: format!("user{i}"),
                    username_key: format!("user{i}"),
                    face_templates: cipher.seal(&id, &[encoding]).expect("seal"),
                    created_at: now,
                    last_login_at: None,
                    pin_sealed: Some(cipher.seal_pin(&id, &pin_hash).expect("seal")),
                    pin_hash: None,
                }
            })
            .collect();
        database
            .collection::<UserDoc>("users")
            .insert_many(users)
            .await
            .expect("insert users");
    }
    let expires_at = DateTime::from_millis(now.timestamp_millis() + 3_600_000);
    for start in (0..n).step_by(BATCH) {
        let sessions: Vec<SessionDoc> = (start..n.min(start + BATCH))
            .map(|i| SessionDoc {
                token_hash: format!("{:064x}", i as u128 * 0x9E37_79B9_7F4A_7C15 + 1),
                user_id: user_ids[i],
                created_at: now,
                expires_at,
                last_seen_at: Some(now),
                previous_login_at: None,
                amr: vec!["face".into(), "pin".into()],
            })
            .collect();
        database
            .collection::<SessionDoc>("sessions")
            .insert_many(sessions)
            .await
            .expect("insert sessions");
    }
}

/// Components of ~±0.085, like real encodings: unrelated faces end up ~0.8 apart.
fn xorshift(seed: u64) -> impl FnMut() -> f32 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.17
    }
}

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
