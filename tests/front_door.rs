//! One client cannot take the server away from everyone (issue 15, "Availability"), tried on the
//! real server: trickled uploads, idle and greedy live sockets, oversized and too-fast frames,
//! half-sent requests, a connection flood, and addresses rotated within one IPv6 /64. Several
//! client addresses are simulated through a trusted proxy's `X-Forwarded-For` (the test client
//! is 127.0.0.1). Figures under load: scripts/bench-front-door.sh.

use crate::support;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{PIN, TestServer, error_of, photo_data_url};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const ATTACKER: &str = "203.0.113.66";
const HONEST: &str = "198.51.100.7";

/// The throttle (and with it every per-client limit) on, 127.0.0.1 a trusted proxy, the
/// single-picture login for cheap honest requests.
async fn front_door_server(extra: &[&str]) -> TestServer {
    let mut args = vec![
        "--throttle",
        "true",
        "--trusted-proxies",
        "127.0.0.1",
        "--allow-single-image",
        "true",
    ];
    args.extend_from_slice(extra);
    TestServer::start(&args).await
}

fn address(server: &TestServer) -> String {
    server.base_url.trim_start_matches("http://").to_string()
}

/// A POST from `client` that announces a large JSON body, sends its first byte and then
/// nothing more: a slowloris upload.
async fn trickling_upload(server: &TestServer, path: &str, client: &str) -> TcpStream {
    let address = address(server);
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nX-Forwarded-For: {client}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

/// What the server sent on `stream`: `None` if nothing arrived within `first`; otherwise
/// everything until it closes or falls silent for half a second.
async fn answer_on(stream: &mut TcpStream, first: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut wait = first;
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
        }
        wait = Duration::from_millis(500);
    }
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

async fn post_from(
    server: &TestServer,
    client: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(server.url(path))
        .header("x-forwarded-for", client)
        .json(&body)
        .send()
        .await
        .expect("answer");
    error_of(response).await
}

fn registration(name: &str, photo: &str) -> Value {
    json!({ "username": name, "email": format!("{name}@example.org"), "pin": PIN,
            "image": photo_data_url(photo) })
}

#[tokio::test]
async fn trickling_uploads_from_one_address_leave_the_places_to_everyone_else() {
    let server = front_door_server(&[
        "--concurrent-logins",
        "4",
        "--concurrent-registrations",
        "2",
        "--upload-rate-window-secs",
        "5",
    ])
    .await;

    // The attacker trickles two registrations: one holds a place (its share: one of two), the
    // other is refused at once. An honest registration from elsewhere still gets the other.
    let mut registrations = Vec::new();
    for _ in 0..2 {
        registrations.push(trickling_upload(&server, "/api/register", ATTACKER).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, answer) = post_from(
        &server,
        HONEST,
        "/api/register",
        registration("barack", "obama.jpg"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "an honest registration beside the trickle: {answer}"
    );

    // Four trickled logins from one address, as in the issue: one place is its share.
    let mut logins = Vec::new();
    for _ in 0..4 {
        logins.push(trickling_upload(&server, "/api/login", ATTACKER).await);
    }
    let mut refused = 0;
    let mut holding = Vec::new();
    for mut login in logins {
        match answer_on(&mut login, Duration::from_millis(1500)).await {
            Some(answer) => {
                assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
                let lower = answer.to_ascii_lowercase();
                assert!(
                    lower.contains("too_many_at_once") && lower.contains("retry-after"),
                    "{answer}"
                );
                assert!(answer.contains("one login in progress"), "{answer}");
                refused += 1;
            }
            None => holding.push(login),
        }
    }
    assert_eq!(
        (refused, holding.len()),
        (3, 1),
        "three refused at once, one holding a place"
    );

    // Meanwhile the honest person logs in.
    let began = Instant::now();
    let body = json!({ "image": photo_data_url("obama2.jpg"), "pin": PIN });
    let (status, _, answer) = post_from(&server, HONEST, "/api/login", body).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an honest login beside the trickle: {answer}"
    );
    eprintln!("honest login beside 4 trickled uploads: {:?}", began.elapsed());

    // The trickle loses its place when its rate falls behind (after the 5 s window here), not at
    // a deadline restarted by each byte: 408 and a sentence.
    let began = Instant::now();
    let mut cut = holding.pop().expect("one");
    let answer = answer_on(&mut cut, Duration::from_secs(10))
        .await
        .expect("the trickle is cut");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("upload_too_slow") && answer.contains("too slow"),
        "{answer}"
    );
    eprintln!("trickled login cut after another {:?}", began.elapsed());
    for mut registration in registrations {
        let answer = answer_on(&mut registration, Duration::from_secs(10))
            .await
            .unwrap_or_default();
        assert!(
            answer.starts_with("HTTP/1.1 408") || answer.starts_with("HTTP/1.1 429"),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn addresses_of_one_ipv6_network_share_one_budget_and_one_share() {
    let server = front_door_server(&[
        "--throttle-login-per-minute",
        "1",
        "--throttle-login-burst",
        "3",
        "--concurrent-logins",
        "4",
    ])
    .await;
    let attempt = |client: String| {
        let server = &server;
        async move { post_from(server, &client, "/api/login", json!({})).await.0 }
    };
    for i in 1..=3 {
        assert_ne!(
            attempt(format!("2001:db8:5:5::{i}")).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // The attack: rotate through the /64, a fresh address each time.
    let mut accepted = 0;
    for i in 0..20u32 {
        let rotated = format!("2001:db8:5:5:{:x}:{:x}::1", i * 7919 % 65536, i + 1);
        if attempt(rotated).await != StatusCode::TOO_MANY_REQUESTS {
            accepted += 1;
        }
    }
    eprintln!("addresses rotated within one /64: 20 tried, {accepted} accepted");
    assert_eq!(accepted, 0);
    // The neighbouring /64 is someone else.
    assert_ne!(
        attempt("2001:db8:5:6::1".into()).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // The per-client share of the login places counts the /64 too.
    let mut holder = trickling_upload(&server, "/api/login", "2001:db8:9:9::1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut rotated = trickling_upload(&server, "/api/login", "2001:db8:9:9:1234::2").await;
    let answer = answer_on(&mut rotated, Duration::from_secs(2))
        .await
        .expect("refused");
    assert!(
        answer.starts_with("HTTP/1.1 429") && answer.contains("too_many_at_once"),
        "{answer}"
    );
    drop(holder.shutdown().await);
}

fn socket_request(
    server: &TestServer,
    client: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = server.url("/api/live?purpose=login").replacen("http", "ws", 1);
    let mut request = url.into_client_request().expect("ws request");
    if let Some(client) = client {
        request
            .headers_mut()
            .insert("x-forwarded-for", client.parse().expect("value"));
    }
    request
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn open_socket(server: &TestServer, client: Option<&str>) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(socket_request(server, client))
        .await
        .expect("connect");
    socket
}

/// The next JSON message, `Null` when the socket closed, within `within`.
async fn next_message(socket: &mut Socket, within: Duration) -> Value {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(text.as_str()).expect("json"),
                Some(Ok(Message::Close(frame))) => return json!({ "closed": format!("{frame:?}") }),
                None => return Value::Null,
                Some(Err(error)) => return json!({ "socket_error": error.to_string() }),
                Some(Ok(_)) => continue,
            }
        }
    };
    tokio::time::timeout(within, read).await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_idle_live_socket_is_closed_and_its_place_freed() {
    let server = front_door_server(&["--live-max-sessions", "1", "--live-idle-secs", "1"]).await;
    let mut idle = open_socket(&server, Some(ATTACKER)).await;
    assert_eq!(
        next_message(&mut idle, Duration::from_secs(5)).await["type"],
        "challenge"
    );
    // While it is open, the only place is taken.
    let mut other = open_socket(&server, Some(HONEST)).await;
    assert_eq!(
        next_message(&mut other, Duration::from_secs(5)).await["error"],
        "busy"
    );
    // It sends nothing: closed after a second, with the reason.
    let began = Instant::now();
    let ended = next_message(&mut idle, Duration::from_secs(10)).await;
    assert_eq!(
        (ended["type"].as_str(), ended["error"].as_str()),
        (Some("failed"), Some("idle")),
        "{ended}"
    );
    assert!(
        ended["message"]
            .as_str()
            .is_some_and(|m| m.contains("No frame arrived")),
        "{ended}"
    );
    eprintln!(
        "idle socket closed after {:?} (challenge expiry: 20 s)",
        began.elapsed()
    );
    assert!(began.elapsed() < Duration::from_secs(5));
    // The clients answer the server's Close, as a browser does; the place is then free.
    let _ = next_message(&mut idle, Duration::from_secs(3)).await;
    let _ = next_message(&mut other, Duration::from_secs(3)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut honest = open_socket(&server, Some(HONEST)).await;
    let answer = next_message(&mut honest, Duration::from_secs(5)).await;
    assert_eq!(answer["type"], "challenge", "the place is free again: {answer}");
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_the_live_sockets() {
    // Eight sockets in all: a quarter, two, per client (an IPv6 client: per /64).
    let server = front_door_server(&["--live-max-sessions", "8"]).await;
    let mut held = Vec::new();
    for client in ["2001:db8:3:3::1", "2001:db8:3:3::2"] {
        let mut socket = open_socket(&server, Some(client)).await;
        assert_eq!(
            next_message(&mut socket, Duration::from_secs(5)).await["type"],
            "challenge"
        );
        held.push(socket);
    }
    let mut tried = 0;
    for client in ["2001:db8:3:3::3", "2001:db8:3:3:ffff::9", "2001:db8:3:3::1"] {
        let mut third = open_socket(&server, Some(client)).await;
        let refused = next_message(&mut third, Duration::from_secs(5)).await;
        assert_eq!(
            (refused["type"].as_str(), refused["error"].as_str()),
            (Some("failed"), Some("too_many_sockets")),
            "{refused}"
        );
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains("2 face checks")),
            "{refused}"
        );
        tried += 1;
    }
    eprintln!("extra sockets from one /64: {tried} tried, 0 opened");
    let mut other = open_socket(&server, Some(HONEST)).await;
    assert_eq!(
        next_message(&mut other, Duration::from_secs(5)).await["type"],
        "challenge"
    );
    // Closing one gives the share back.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = open_socket(&server, Some("2001:db8:3:3::4")).await;
    assert_eq!(
        next_message(&mut again, Duration::from_secs(5)).await["type"],
        "challenge"
    );
}

fn black_jpeg(side: u32) -> Vec<u8> {
    let image = image::DynamicImage::ImageRgb8(image::RgbImage::new(side, side));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageOutputFormat::Jpeg(30))
        .expect("encode");
    bytes.into_inner()
}

fn frame_message(jpeg: &[u8], t_ms: f64) -> Message {
    use base64::Engine;
    let image = format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    );
    Message::text(json!({ "t_ms": t_ms, "image": image }).to_string())
}

#[tokio::test]
async fn a_4096_pixel_frame_is_refused_from_its_header() {
    let server = front_door_server(&[]).await;
    let huge = black_jpeg(4096);
    // Only the header: a decoder would call this damaged; the gate refuses it by its size.
    let header_only = &huge[..huge.len().min(2048)];
    for (what, jpeg) in [("whole", &huge[..]), ("header only", header_only)] {
        let mut socket = open_socket(&server, Some(HONEST)).await;
        assert_eq!(
            next_message(&mut socket, Duration::from_secs(5)).await["type"],
            "challenge"
        );
        let began = Instant::now();
        socket.send(frame_message(jpeg, 0.0)).await.expect("send");
        let refused = next_message(&mut socket, Duration::from_secs(10)).await;
        assert_eq!(
            (refused["type"].as_str(), refused["error"].as_str()),
            (Some("failed"), Some("image_dimensions_too_large")),
            "{what}: {refused}"
        );
        let message = refused["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("4096×4096") && message.contains("640"),
            "{message}"
        );
        eprintln!(
            "4096×4096 frame ({what}, {} bytes) refused in {:?}",
            jpeg.len(),
            began.elapsed()
        );
    }

    // The same frame in an uploaded clip: 413 before any frame is decoded.
    let (status, _, challenge) =
        post_from(&server, HONEST, "/api/liveness", json!({"purpose": "login"})).await;
    assert_eq!(status, StatusCode::CREATED, "{challenge}");
    let frame = |t_ms: f64, jpeg: &[u8]| {
        use base64::Engine;
        json!({ "t_ms": t_ms, "image": base64::engine::general_purpose::STANDARD.encode(jpeg) })
    };
    let body =
        json!({ "nonce": challenge["nonce"], "frames": [frame(0.0, &black_jpeg(320)), frame(100.0, &huge)] });
    let (status, _, answer) = post_from(&server, HONEST, "/api/login", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(
        answer["message"].as_str().is_some_and(|m| m.contains("640")),
        "{answer}"
    );
}

#[tokio::test]
async fn frames_faster_than_the_rate_are_skipped_then_the_check_ends() {
    let server = front_door_server(&["--live-max-fps", "2"]).await;
    let mut socket = open_socket(&server, Some(HONEST)).await;
    assert_eq!(
        next_message(&mut socket, Duration::from_secs(5)).await["type"],
        "challenge"
    );
    // The attack: frames as fast as the socket takes them, not waiting for answers.
    let frame = black_jpeg(64);
    for i in 0..40 {
        socket
            .send(frame_message(&frame, f64::from(i) * 100.0))
            .await
            .expect("send");
    }
    let (mut looked_at, mut skipped) = (0, 0);
    let ended = loop {
        let message = next_message(&mut socket, Duration::from_secs(30)).await;
        match (message["type"].as_str(), message["hint"]["code"].as_str()) {
            (Some("frame"), Some("too_fast")) => skipped += 1,
            (Some("frame"), _) => looked_at += 1,
            _ => break message,
        }
    };
    eprintln!("40 frames at once: {looked_at} looked at, {skipped} skipped, then: {ended}");
    assert_eq!(
        (ended["type"].as_str(), ended["error"].as_str()),
        (Some("failed"), Some("too_fast")),
        "{ended}"
    );
    assert!(
        looked_at <= 3,
        "about a second's worth reached the face engine: {looked_at}"
    );
}

#[tokio::test]
async fn a_half_sent_request_loses_its_connection_at_the_header_deadline() {
    let server = front_door_server(&["--header-read-timeout-secs", "1"]).await;
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    // The head is never finished.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let began = Instant::now();
    let mut buffer = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the half-sent request's connection stayed open");
    eprintln!("half-sent request closed after {:?}", began.elapsed());
    assert!(began.elapsed() >= Duration::from_millis(800));
    // A whole request on a fresh connection is served.
    let health = reqwest::get(server.url("/healthz")).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn connections_are_capped_in_all_and_per_address() {
    // In all: the throttle off (no per-client share), three connections.
    let server = TestServer::start(&["--max-connections", "3"]).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(address(&server)).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(address(&server)).await.expect("connect");
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let answer = answer_on(&mut fourth, Duration::from_secs(3))
        .await
        .expect("an answer");
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("connections open"),
        "{answer}"
    );
    drop(idle.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = reqwest::get(server.url("/healthz")).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK, "a place is free again");

    // Per address: with the throttle on, a quarter of eight connections from 127.0.0.1.
    let server = TestServer::start(&["--throttle", "true", "--max-connections", "8"]).await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(TcpStream::connect(address(&server)).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(address(&server)).await.expect("connect");
    let answer = answer_on(&mut third, Duration::from_secs(3))
        .await
        .expect("an answer");
    assert!(
        answer.starts_with("HTTP/1.1 429") && answer.contains("too_many_connections"),
        "{answer}"
    );
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = reqwest::get(server.url("/healthz")).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
}
