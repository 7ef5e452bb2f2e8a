//! Load for the live socket: N concurrent sessions, each streaming real video frames at 5 per
//! second with at most one in flight (as the page does), for a bounded time, against a running
//! server on this machine. Prints frames answered, hint latency p50/p95/p99 and busy answers.
//!
//!     cargo run --release --features ssr --example live_load -- http://127.0.0.1:3000 8 20
//!
//! scripts/bench-live.sh starts a release server and runs this at growing N.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

#[path = "../tests/support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let sessions: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(4);
    let seconds: u64 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(20);
    let url = format!("{}/api/live?purpose=login", base.replacen("http", "ws", 1));
    let frames = std::sync::Arc::new(load_frames());
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let tasks: Vec<_> = (0..sessions)
        .map(|i| {
            let (url, frames) = (url.clone(), frames.clone());
            tokio::spawn(async move { run_session(&url, &frames, i * 37, deadline).await })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut busy = 0;
    for task in tasks {
        if let Ok((mut l, b)) = task.await {
            latencies.append(&mut l);
            busy += b;
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies
            .get(((q * latencies.len() as f64) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "sessions {sessions:3}  frames answered {:5} ({:6.1}/s)  hint latency p50 {:6.1} ms  p95 {:6.1} ms  p99 {:6.1} ms  busy {busy}",
        latencies.len(),
        latencies.len() as f64 / seconds as f64,
        pick(0.5),
        pick(0.95),
        pick(0.99)
    );
}

/// JPEG frames of the franck clip (scripts/make-live-media.sh), as data URLs.
fn load_frames() -> Vec<String> {
    use base64::Engine;
    support::frame_files("franck")
        .iter()
        .take(600)
        .map(|f| {
            let bytes = std::fs::read(f).unwrap_or_default();
            format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        })
        .collect()
}

/// One client: reconnects whenever the server ends a check, until the deadline. Returns the
/// reply latencies (ms) and the number of busy answers.
async fn run_session(url: &str, frames: &[String], offset: usize, deadline: Instant) -> (Vec<f64>, usize) {
    let (mut latencies, mut busy) = (Vec::new(), 0);
    let mut next = offset;
    let started = Instant::now();
    while Instant::now() < deadline {
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let _challenge = socket.next().await;
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        'check: while Instant::now() < deadline {
            tick.tick().await;
            let t_ms = started.elapsed().as_secs_f64() * 1000.0;
            let frame = serde_json::json!({ "t_ms": t_ms, "image": frames[next % frames.len()] });
            next += 2; // 5 of the clip's 10 frames per second
            let sent = Instant::now();
            if socket.send(Message::text(frame.to_string())).await.is_err() {
                break;
            }
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let reply: serde_json::Value =
                            serde_json::from_str(text.as_str()).unwrap_or_default();
                        match reply["type"].as_str() {
                            Some("frame") => {
                                if reply["hint"]["code"] == "busy" {
                                    busy += 1;
                                } else {
                                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                                }
                                continue 'check;
                            }
                            _ => break 'check, // passed or failed: start a new check
                        }
                    }
                    Some(Ok(_)) => continue,
                    _ => break 'check,
                }
            }
        }
    }
    (latencies, busy)
}
