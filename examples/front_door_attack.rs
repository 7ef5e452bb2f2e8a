//! The availability attacks of issue 15, against a running server on this machine, for a bounded
//! time; scripts/bench-front-door.sh runs each beside honest logins (examples/login_load.rs).
//!
//!     cargo run --release --features ssr --example front_door_attack -- \
//!         http://127.0.0.1:3000 ATTACK COUNT SECONDS [LOCAL_IP]
//!
//! ATTACK is one of
//! - `trickle`: COUNT connections each POST a login announcing 100 kB and send one byte every
//!   20 s; a connection that is answered or closed is opened again after a second;
//! - `idle-sockets`: COUNT live sockets (`/api/live`) that never send a frame; reopened likewise;
//! - `half-open`: COUNT connections that send half a request head and nothing more; likewise;
//! - `rotate-v6`: COUNT workers, each sending ten times a second a challenge request
//!   (`POST /api/liveness`) and a login, each from a new address of one IPv6 /64 (via
//!   `X-Forwarded-For`: the server must trust 127.0.0.1 as a proxy).
//!
//! LOCAL_IP (default 127.0.0.2) is the attacker's own address for the first three: another
//! loopback address than the honest clients' proxy (127.0.0.1). Loopback only: the target must
//! be 127.0.0.1. Prints one line: what the attacker got.

use std::{
    collections::BTreeMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

/// Most connections any attack opens: the loopback has room, the file descriptors too.
const MAX_COUNT: usize = 2000;

#[derive(Default)]
struct Tally {
    outcomes: BTreeMap<String, usize>,
    holding: usize,
    most_held: usize,
}

type Shared = Arc<Mutex<Tally>>;

fn note(tally: &Shared, outcome: impl Into<String>) {
    let mut tally = tally.lock().expect("tally");
    *tally.outcomes.entry(outcome.into()).or_default() += 1;
}

fn hold(tally: &Shared, change: isize) {
    let mut tally = tally.lock().expect("tally");
    tally.holding = tally.holding.saturating_add_signed(change);
    tally.most_held = tally.most_held.max(tally.holding);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let attack = args.get(2).cloned().unwrap_or_else(|| "trickle".into());
    let count: usize = args
        .get(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(4)
        .min(MAX_COUNT);
    let seconds: u64 = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(30).min(600);
    let local: IpAddr = args
        .get(5)
        .and_then(|ip| ip.parse().ok())
        .unwrap_or_else(|| "127.0.0.2".parse().expect("ip"));
    let target: SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .expect("the target is http://127.0.0.1:PORT");
    assert!(target.ip().is_loopback() && local.is_loopback(), "loopback only");

    let tally: Shared = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..count)
        .map(|worker| {
            let (tally, attack, base) = (tally.clone(), attack.clone(), base.clone());
            tokio::spawn(async move {
                // Spread the first connections over a second.
                tokio::time::sleep(Duration::from_millis((worker * 1000 / count.max(1)) as u64)).await;
                while Instant::now() < deadline {
                    let round = match attack.as_str() {
                        "trickle" => trickle(target, local, &tally, deadline).await,
                        "idle-sockets" => idle_socket(target, local, &tally, deadline).await,
                        "half-open" => half_open(target, local, &tally, deadline).await,
                        "rotate-v6" => {
                            // Ten pairs a second per worker: a fast client, not a flood of
                            // bandwidth (which no server-side limit stops).
                            rotate_v6(&base, &tally).await;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                        other => panic!("unknown attack {other}"),
                    };
                    if round.is_err() {
                        note(&tally, "connect failed");
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = tokio::time::timeout_at((deadline + Duration::from_secs(5)).into(), worker).await;
    }
    let tally = tally.lock().expect("tally");
    let outcomes: Vec<String> = tally
        .outcomes
        .iter()
        .map(|(what, n)| format!("{what}: {n}"))
        .collect();
    println!(
        "attacker ({attack} ×{count}, {seconds} s): held at most {} at once; {}",
        tally.most_held,
        outcomes.join(", ")
    );
}

async fn connect(target: SocketAddr, local: IpAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(target).await
}

/// The status line's code, or what happened instead.
fn status_of(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    let code = text.split(' ').nth(1).unwrap_or("?").to_string();
    // The error code, when the body is our JSON.
    let error = text
        .split("\"error\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|e| format!(" {e}"))
        .unwrap_or_default();
    format!("{code}{error}")
}

/// Reads until the server answers or closes (or the run ends); the outcome.
async fn wait_for_answer(stream: &mut TcpStream, until: Instant) -> String {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 2048];
    loop {
        match tokio::time::timeout_at(until.into(), stream.read(&mut buffer)).await {
            Err(_) => return "still held at the end".into(),
            Ok(Ok(0)) | Ok(Err(_)) if answer.is_empty() => return "closed unanswered".into(),
            Ok(Ok(0)) | Ok(Err(_)) => return status_of(&answer),
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    return status_of(&answer);
                }
            }
        }
    }
}

async fn trickle(
    target: SocketAddr,
    local: IpAddr,
    tally: &Shared,
    deadline: Instant,
) -> std::io::Result<()> {
    let mut stream = connect(target, local).await?;
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await?;
    hold(tally, 1);
    let began = Instant::now();
    let outcome = loop {
        let next_byte = (Instant::now() + Duration::from_secs(20)).min(deadline);
        let outcome = wait_for_answer(&mut stream, next_byte).await;
        if outcome != "still held at the end" || Instant::now() >= deadline {
            break outcome;
        }
        if stream.write_all(b" ").await.is_err() {
            break "closed unanswered".into();
        }
    };
    hold(tally, -1);
    note(
        tally,
        format!("{outcome} (after {:.0} s)", began.elapsed().as_secs_f64().round()),
    );
    Ok(())
}

async fn half_open(
    target: SocketAddr,
    local: IpAddr,
    tally: &Shared,
    deadline: Instant,
) -> std::io::Result<()> {
    let mut stream = connect(target, local).await?;
    stream
        .write_all(format!("GET / HTTP/1.1\r\nHost: {target}\r\nX-Waiting: ").as_bytes())
        .await?;
    hold(tally, 1);
    let outcome = wait_for_answer(&mut stream, deadline).await;
    hold(tally, -1);
    note(tally, outcome);
    Ok(())
}

async fn idle_socket(
    target: SocketAddr,
    local: IpAddr,
    tally: &Shared,
    deadline: Instant,
) -> std::io::Result<()> {
    use tokio_tungstenite::tungstenite::{Error, Message};
    let stream = connect(target, local).await?;
    let url = format!("ws://{target}/api/live?purpose=login");
    let mut socket = match tokio_tungstenite::client_async(url, stream).await {
        Ok((socket, _)) => socket,
        Err(Error::Http(response)) => {
            note(tally, format!("{} at the upgrade", response.status().as_u16()));
            return Ok(());
        }
        Err(_) => {
            note(tally, "upgrade failed");
            return Ok(());
        }
    };
    hold(tally, 1);
    let mut outcome = "closed".to_string();
    loop {
        match tokio::time::timeout_at(deadline.into(), socket.next()).await {
            Err(_) => {
                outcome = "still held at the end".into();
                break;
            }
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                if message["type"] == "failed" {
                    outcome = format!("failed {}", message["error"].as_str().unwrap_or("?"));
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => break,
        }
    }
    hold(tally, -1);
    note(tally, outcome);
    Ok(())
}

/// One challenge and one login, each from a fresh address in 2001:db8:66:66::/64.
async fn rotate_v6(base: &str, tally: &Shared) {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(reqwest::Client::new);
    for path in ["/api/liveness", "/api/login"] {
        let address = format!(
            "2001:db8:66:66:{:x}:{:x}:{:x}:{:x}",
            rand::random::<u16>(),
            rand::random::<u16>(),
            rand::random::<u16>(),
            rand::random::<u16>()
        );
        let body = if path == "/api/liveness" {
            serde_json::json!({ "purpose": "login" })
        } else {
            serde_json::json!({ "nonce": "x", "frames": [{ "t_ms": 0, "image": "AAAA" }] })
        };
        let answer = client
            .post(format!("{base}{path}"))
            .header("x-forwarded-for", address)
            .json(&body)
            .send()
            .await;
        match answer {
            Ok(response) => note(tally, format!("{path} {}", response.status().as_u16())),
            Err(_) => note(tally, format!("{path} failed")),
        }
    }
}
