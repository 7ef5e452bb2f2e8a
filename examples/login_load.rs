//! Load for complete logins: C concurrent clients, each looping challenge → "recording" → upload
//! of real video frames with the PIN (`POST /api/liveness`, then `POST /api/login {nonce,
//! frames, pin}`), for a bounded time against a running server on this machine. Every login
//! sends pictures of its own — its number drawn into the top-left corner of each frame, then
//! encoded again — as a camera would: the server refuses decoded pixels it has already accepted.
//!
//!     cargo run --release --features ssr --example login_load -- http://127.0.0.1:3000 4 60
//!
//! The server must pin the challenge the clip performs (`FACEGATE_LIVENESS_CHALLENGE=
//! turn_left,blink`) and have its throttle off (every client here is 127.0.0.1).
//! scripts/bench-logins.sh starts such a server and runs this at growing C. Prints one table row:
//! logins/s, upload-to-answer latency p50/p95/p99, and the answers that were not a login.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use image::RgbImage;
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;

/// The clip moment that performs `turn_left, blink` (tests/live_api.rs logs in with it).
const CLIP: (&str, f64, f64) = ("franck", 55.0, 6.0);
/// Where Franck registers from (another moment of the same video).
const ENROL: (&str, f64, f64) = ("franck", 20.0, 7.0);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let clients: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2);
    let seconds: u64 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(60);
    let http = http_client(None);

    let frames = Arc::new(frame_bytes(CLIP));
    register(&http, &base).await;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (base, frames) = (base.clone(), frames.clone());
            let http = http_client(Some(worker));
            // People do not all start at the same moment: spread the first arrivals over one
            // clip's length, so the load is steady rather than in waves.
            let stagger = Duration::from_secs_f64(CLIP.2 * worker as f64 / clients as f64);
            tokio::spawn(async move {
                tokio::time::sleep(stagger).await;
                let mut results = Vec::new();
                let mut round = 0u64;
                while Instant::now() < deadline {
                    round += 1;
                    results.push(log_in_once(&http, &base, &frames, worker as u64 * 1_000_000 + round).await);
                }
                results
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut retry_after_missing = 0;
    for worker in workers {
        for result in worker.await.expect("worker") {
            *answers.entry(result.answer.clone()).or_default() += 1;
            if result.answer == "200" {
                latencies.push(result.took);
            }
            if result.answer.starts_with("503") && !result.retry_after {
                retry_after_missing += 1;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .map_or("-".to_string(), |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
    };
    let others: Vec<String> = answers
        .iter()
        .filter(|(answer, _)| *answer != "200")
        .map(|(answer, n)| format!("{answer}: {n}"))
        .collect();
    println!(
        "| {clients} | {} | {:.2} | {} | {} | {} | {} |{}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        at(0.50),
        at(0.95),
        at(0.99),
        if others.is_empty() {
            "none".into()
        } else {
            others.join(", ")
        },
        if retry_after_missing > 0 {
            format!(" {retry_after_missing} × 503 WITHOUT Retry-After")
        } else {
            String::new()
        }
    );
}

struct Outcome {
    /// "200", or status and error code.
    answer: String,
    took: Duration,
    retry_after: bool,
}

async fn log_in_once(http: &reqwest::Client, base: &str, frames: &[(f64, RgbImage)], round: u64) -> Outcome {
    let challenge = match post(http, base, "/api/liveness", json!({ "purpose": "login" })).await {
        Ok((201, body, _)) => body,
        Ok((status, body, retry_after)) => return refused(status, &body, retry_after, Duration::ZERO).await,
        Err(e) => return transport(e),
    };
    // A person in front of the camera takes as long as the clip lasts (the frames are made
    // meanwhile, as a camera makes them).
    let span = frames.last().map_or(0.0, |(t, _)| *t);
    let recording = Instant::now();
    let frames = frames_json(frames, round);
    tokio::time::sleep(Duration::from_millis(span as u64).saturating_sub(recording.elapsed())).await;
    let body = json!({ "nonce": challenge["nonce"], "frames": frames, "pin": support::PIN });
    let began = Instant::now();
    match post(http, base, "/api/login", body).await {
        Ok((200, _, _)) => Outcome {
            answer: "200".into(),
            took: began.elapsed(),
            retry_after: false,
        },
        Ok((status, body, retry_after)) => refused(status, &body, retry_after, began.elapsed()).await,
        Err(e) => transport(e),
    }
}

async fn refused(status: u16, body: &Value, retry_after: bool, took: Duration) -> Outcome {
    if status == 503 || status == 429 {
        // Do what a client is told: wait, then try again.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Outcome {
        answer: format!("{status} {}", body["error"].as_str().unwrap_or("")),
        took,
        retry_after,
    }
}

fn transport(e: reqwest::Error) -> Outcome {
    Outcome {
        answer: if e.is_timeout() {
            "timeout".into()
        } else {
            "connection error".into()
        },
        took: Duration::ZERO,
        retry_after: false,
    }
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
) -> Result<(u16, Value, bool), reqwest::Error> {
    let response = http.post(format!("{base}{path}")).json(&body).send().await?;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    Ok((status, response.json().await.unwrap_or(Value::Null), retry_after))
}

/// The clip's frames, decoded, with their times (10 per second).
fn frame_bytes((clip, start, seconds): (&str, f64, f64)) -> Vec<(f64, RgbImage)> {
    support::frame_files(clip)
        .iter()
        .skip((start * 10.0) as usize)
        .take((seconds * 10.0) as usize)
        .enumerate()
        .map(|(i, file)| {
            let picture = image::open(file).expect("frame").to_rgb8();
            (i as f64 * 100.0, picture)
        })
        .collect()
}

/// The frames as the page sends them: 64 bits unique to this login (and run: the server
/// remembers accepted frames for an hour) drawn as black and white pixels into the top-left
/// 8×8 block, far from the face, then each frame encoded as a JPEG again.
fn frames_json(frames: &[(f64, RgbImage)], round: u64) -> Vec<Value> {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // Distinct rounds give distinct tags (an odd multiplier is a bijection).
    let tag = run ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    frames
        .iter()
        .map(|(t_ms, picture)| {
            let mut marked = picture.clone();
            for bit in 0..64u32 {
                let level = if tag >> bit & 1 == 1 { 255 } else { 0 };
                marked.put_pixel(bit % 8, bit / 8, image::Rgb([level, level, level]));
            }
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
                .encode_image(&marked)
                .expect("jpeg");
            json!({
                "t_ms": t_ms,
                "image": format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg)),
            })
        })
        .collect()
}

/// A client with a 120 s timeout. With `LOGIN_LOAD_FORWARDED_FOR=198.51.100.` set (and the
/// server trusting 127.0.0.1 as a proxy), worker N says it is `198.51.100.N+1` and the
/// registration `….250`: each person their own address, as behind a real proxy.
fn http_client(worker: Option<usize>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(120));
    if let Ok(prefix) = std::env::var("LOGIN_LOAD_FORWARDED_FOR") {
        let host = worker.map_or(250, |n| n % 249 + 1);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            format!("{prefix}{host}").parse().expect("an address"),
        );
        builder = builder.default_headers(headers);
    }
    builder.build().expect("client")
}

async fn register(http: &reqwest::Client, base: &str) {
    let frames = frame_bytes(ENROL);
    let (status, challenge, _) = post(http, base, "/api/liveness", json!({ "purpose": "register" }))
        .await
        .expect("liveness");
    assert_eq!(status, 201, "{challenge}");
    let span = frames.last().map_or(0.0, |(t, _)| *t);
    tokio::time::sleep(Duration::from_millis(span as u64)).await;
    let body = json!({ "username": "Franck", "email": "franck@example.org", "pin": support::PIN,
                       "nonce": challenge["nonce"], "frames": frames_json(&frames, 0) });
    let (status, answer, _) = post(http, base, "/api/register", body).await.expect("register");
    assert!(
        status == 201 || answer["error"] == "face_already_registered",
        "registration for the load test: {status} {answer}"
    );
}
