//! The live face check end to end: the real server, a real FerretDB, frames cut from real video.
//! The challenge is pinned to what the clips show (`--liveness-challenge turn_left,blink`:
//! franck turns to his left and blinks at 20-27 s, 40-50 s and 55-61 s of his clip). Clips are
//! uploaded the way a recording client would: after waiting as long as the recording lasts,
//! because frames may not span more time than has passed since the challenge was issued.

use crate::support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{PIN, TestServer, client, clip_frames, count, only_user_encodings, post};
use tokio_tungstenite::tungstenite::Message;

const PINNED: &[&str] = &["--liveness-challenge", "turn_left,blink"];

async fn nonce(server: &TestServer, purpose: &str) -> Value {
    let (status, body) = post(&client(), server, "/api/liveness", json!({ "purpose": purpose })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Waits as long as the frames span, as a client recording them would.
async fn record(frames: &[Value]) {
    let span = frames.last().and_then(|f| f["t_ms"].as_f64()).unwrap_or(0.0);
    tokio::time::sleep(Duration::from_millis(span as u64)).await;
}

/// Registers with a clip: challenge, "recording", upload.
async fn register_clip(server: &TestServer, username: &str, frames: Vec<Value>) -> (StatusCode, Value) {
    let challenge = nonce(server, "register").await;
    record(&frames).await;
    let body = json!({
        "username": username,
        "email": format!("{}@example.org", username.to_lowercase()),
        "pin": PIN,
        "nonce": challenge["nonce"],
        "frames": frames,
    });
    post(&client(), server, "/api/register", body).await
}

async fn login_clip(client: &Client, server: &TestServer, frames: &[Value]) -> (StatusCode, Value, String) {
    let challenge = nonce(server, "login").await;
    record(frames).await;
    let nonce = challenge["nonce"].as_str().expect("nonce").to_string();
    let (status, body) = post(
        client,
        server,
        "/api/login",
        json!({ "nonce": nonce, "frames": frames, "pin": PIN }),
    )
    .await;
    (status, body, nonce)
}

/// Asserts a refusal with this status and error code.
fn assert_refused((status, body): &(StatusCode, Value), expected: StatusCode, code: &str) {
    assert_eq!(
        (*status, body["error"].as_str()),
        (expected, Some(code)),
        "{body}"
    );
}

/// By default a server takes live checks over the socket only: an uploaded clip is refused with
/// its own code before any frame is looked at, and nothing is written.
#[tokio::test]
async fn uploaded_clips_are_refused_by_default() {
    // A later flag wins: this is the shipped default, which the test configuration turns on.
    let server = TestServer::start(&["--allow-clip-upload", "false"]).await;
    let asked = post(&client(), &server, "/api/liveness", json!({ "purpose": "login" })).await;
    assert_refused(&asked, StatusCode::FORBIDDEN, "clip_upload_disabled");
    let message = asked.1["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("/api/live"),
        "says what to do instead: {message}"
    );

    let frames = clip_frames("franck", 20.0, 7.0);
    let registered = post(
        &client(),
        &server,
        "/api/register",
        json!({
            "username": "Franck",
            "email": "franck@example.org",
            "pin": PIN,
            "nonce": "a-nonce-from-elsewhere",
            "frames": frames,
        }),
    )
    .await;
    assert_refused(&registered, StatusCode::FORBIDDEN, "clip_upload_disabled");
    let logged_in = post(
        &client(),
        &server,
        "/api/login",
        json!({ "nonce": "a-nonce-from-elsewhere", "frames": frames, "pin": PIN }),
    )
    .await;
    assert_refused(&logged_in, StatusCode::FORBIDDEN, "clip_upload_disabled");
    assert_eq!(count(&server, "users").await, 0, "nothing written");
}

#[tokio::test]
async fn a_live_person_registers_logs_in_and_cannot_be_replayed() {
    let server = TestServer::start(PINNED).await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, encodings) = only_user_encodings(&server).await;
    assert!(
        (3..=5).contains(&encodings.len()),
        "several encodings from different moments: {}",
        encodings.len()
    );

    // Another moment of the same video logs in; the greeting knows it is the first sign-in.
    let browser = client();
    let login_frames = clip_frames("franck", 55.0, 6.0);
    let (status, body, used_nonce) = login_clip(&browser, &server, &login_frames).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "Franck");
    assert_eq!(body["message"], "Welcome, Franck!");
    let greeting: Value = browser
        .get(server.url("/api/greeting"))
        .send()
        .await
        .expect("greeting")
        .json()
        .await
        .expect("json");
    assert_eq!(greeting["username"], "Franck");

    // (d) The same nonce again, and the same frames against a new nonce: both refused.
    let reply = post(
        &client(),
        &server,
        "/api/login",
        json!({ "nonce": used_nonce, "frames": login_frames }),
    )
    .await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "nonce_used");
    let (status, body, _) = login_clip(&client(), &server, &login_frames).await;
    assert_refused(&(status, body), StatusCode::UNPROCESSABLE_ENTITY, "replayed");

    // The same face under another name: refused, nothing written.
    let reply = register_clip(&server, "Franck2", clip_frames("franck", 40.0, 10.0)).await;
    assert_refused(&reply, StatusCode::CONFLICT, "face_already_registered");
    assert_eq!(count(&server, "users").await, 1);
    assert_eq!(count(&server, "sessions").await, 1, "only the one real login");
}

#[tokio::test]
async fn a_photo_of_an_enrolled_person_does_not_log_in() {
    let server = TestServer::start(PINNED).await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // (a) his photo held still, (b) moved, turned and tilted as a whole.
    for attack in ["still", "zoom", "rotate", "tilt"] {
        let frames = clip_frames(&format!("attack_franck12_{attack}"), 0.0, 8.0);
        let (status, body, _) = login_clip(&client(), &server, &frames).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{attack}: {body}");
        let code = body["error"].as_str().unwrap_or_default();
        assert!(
            ["no_live_motion", "challenge_not_completed"].contains(&code),
            "{attack}: {body}"
        );
    }
    assert_eq!(count(&server, "sessions").await, 0);
}

#[tokio::test]
async fn another_person_part_way_is_refused_and_nothing_is_written() {
    let server = TestServer::start(PINNED).await;
    let mut frames = clip_frames("franck", 20.0, 4.0);
    let other = clip_frames("cap12_edit", 25.0, 8.0);
    frames.extend(other.into_iter().enumerate().map(|(i, mut frame)| {
        frame["t_ms"] = json!(4000.0 + i as f64 * 100.0);
        frame
    }));
    let (status, body) = register_clip(&server, "Mixed", frames).await;
    // The other man's face jumps into view (`discontinuous`), or, placed where Franck's was,
    // its encoding differs (`face_changed`).
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        ["discontinuous", "face_changed"].contains(&body["error"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(count(&server, "users").await, 0);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let server = TestServer::start(&[
        "--liveness-challenge",
        "turn_left,blink",
        "--liveness-nonce-ttl-secs",
        "5",
    ])
    .await;
    let challenge = nonce(&server, "login").await;
    assert_eq!(challenge["challenge"], json!(["turn_left", "blink"]));
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let frames = clip_frames("franck", 55.0, 4.0);
    let reply = post(
        &client(),
        &server,
        "/api/login",
        json!({ "nonce": challenge["nonce"], "frames": frames }),
    )
    .await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "nonce_expired");
}

#[tokio::test]
async fn frames_spanning_more_time_than_has_passed_are_refused() {
    let server = TestServer::start(PINNED).await;
    let challenge = nonce(&server, "register").await;
    // Sent at once, stretched tenfold: claims 70 s of capture moments after the challenge was
    // issued (however slowly a loaded machine works through the frames, it is not 70 s).
    let mut frames = clip_frames("franck", 20.0, 7.0);
    for frame in &mut frames {
        let t_ms = frame["t_ms"].as_f64().unwrap_or(0.0);
        frame["t_ms"] = json!(t_ms * 10.0);
    }
    let body = json!({
        "username": "Hasty",
        "email": "hasty@example.org",
        "pin": PIN,
        "nonce": challenge["nonce"],
        "frames": frames,
    });
    let reply = post(&client(), &server, "/api/register", body).await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "bad_timestamps");
    assert_eq!(count(&server, "users").await, 0);
}

#[tokio::test]
async fn a_single_picture_is_refused_by_default() {
    let server = TestServer::start(&[]).await;
    let image = support::photo_data_url("obama.jpg");
    let reply = post(&client(), &server, "/api/login", json!({ "image": image })).await;
    assert_refused(&reply, StatusCode::BAD_REQUEST, "liveness_required");
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap_or_default()
            .contains("docs/api.md")
    );
    let register = json!({ "username": "ada", "email": "ada@example.org", "image": image });
    let reply = post(&client(), &server, "/api/register", register).await;
    assert_refused(&reply, StatusCode::BAD_REQUEST, "liveness_required");
    assert_eq!(count(&server, "users").await, 0);
}

/// Two people enrolled with one face, so every match is ambiguous whatever the margin (at most
/// 0.2, a start-up guard rail): Franck registers from a clip; "Twin" is stored with Franck's own
/// encodings, as an identical twin would be. Registration refuses an enrolled face, so the twin
/// is written to the database and the gallery directly.
async fn two_near_equal_people(policy: &str) -> TestServer {
    let server = TestServer::start(&[
        "--liveness-challenge",
        "turn_left,blink",
        "--second-factor",
        policy,
    ])
    .await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    support::plant_twin(&server, "730418").await;
    server
}

#[tokio::test]
async fn without_a_second_factor_an_ambiguous_face_is_refused() {
    let server = two_near_equal_people("off").await;
    let (status, body, _) = login_clip(&client(), &server, &clip_frames("franck", 55.0, 6.0)).await;
    assert_refused(&(status, body), StatusCode::UNAUTHORIZED, "ambiguous_match");
    assert_eq!(count(&server, "sessions").await, 0);
}

#[tokio::test]
async fn with_a_second_factor_the_pin_tells_two_near_equal_faces_apart() {
    let server = two_near_equal_people("ambiguous").await;
    let (status, body, _) = login_clip(&client(), &server, &clip_frames("franck", 55.0, 6.0)).await;
    assert_eq!(status, StatusCode::OK, "Franck's PIN picks Franck: {body}");
    assert_eq!(body["username"], "Franck");
}

/// Reads the next server message as JSON.
async fn next_message<S>(socket: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(text.as_str()).expect("json"),
            Some(Ok(Message::Close(_))) | None => return Value::Null,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("socket: {e}"),
        }
    }
}

#[tokio::test]
async fn the_live_socket_guides_frame_by_frame_and_its_proof_registers() {
    let server = TestServer::start(PINNED).await;
    let url = server.url("/api/live?purpose=register").replacen("http", "ws", 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let challenge = next_message(&mut socket).await;
    assert_eq!(challenge["type"], "challenge", "{challenge}");
    assert_eq!(challenge["steps"], json!(["turn_left", "blink"]));

    let mut hints = Vec::new();
    let mut proof = None;
    for frame in clip_frames("franck", 20.0, 9.0) {
        let started = std::time::Instant::now();
        socket.send(Message::text(frame.to_string())).await.expect("send");
        let reply = next_message(&mut socket).await;
        match reply["type"].as_str() {
            Some("frame") => {
                assert!(
                    reply["face"]["width"].as_u64().unwrap_or(0) > 50,
                    "a face box: {reply}"
                );
                hints.push(reply["hint"]["code"].as_str().unwrap_or_default().to_string());
                if reply["hint"]["code"] == "passed" {
                    let passed = next_message(&mut socket).await;
                    assert_eq!(passed["type"], "passed", "{passed}");
                    proof = passed["proof"].as_str().map(str::to_string);
                    break;
                }
            }
            other => panic!("unexpected {other:?}: {reply}"),
        }
        // Real time: frames may not arrive faster than they were captured.
        tokio::time::sleep(Duration::from_millis(100).saturating_sub(started.elapsed())).await;
    }
    assert!(hints.iter().any(|h| h == "turn_left"), "{hints:?}");
    assert!(hints.iter().any(|h| h == "blink"), "{hints:?}");
    let proof = proof.unwrap_or_else(|| panic!("no proof; hints {hints:?}"));

    let register = json!({ "username": "Franck", "email": "franck@example.org", "pin": PIN, "proof": proof });
    let (status, body) = post(&client(), &server, "/api/register", register.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A proof is single-use.
    let (status, body) = post(&client(), &server, "/api/register", register).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(count(&server, "users").await, 1);
}

#[tokio::test]
async fn live_sessions_are_capped_and_the_next_is_told_busy() {
    let server = TestServer::start(&["--live-max-sessions", "1"]).await;
    let url = server.url("/api/live").replacen("http", "ws", 1);
    let (mut first, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    assert_eq!(next_message(&mut first).await["type"], "challenge");
    let (mut second, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    let refused = next_message(&mut second).await;
    assert_eq!(
        (refused["type"].as_str(), refused["error"].as_str()),
        (Some("failed"), Some("busy")),
        "{refused}"
    );
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut third, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    assert_eq!(
        next_message(&mut third).await["type"],
        "challenge",
        "a place is free again"
    );
}

/// Franck turns to his left (20-25 s of his clip), then opens his mouth (0-6 s): the same frames
/// pass a challenge in that order and fail the reverse one.
fn turn_then_mouth() -> Vec<Value> {
    let mut frames = clip_frames("franck", 20.0, 5.0);
    let offset = frames.len() as f64 * 100.0;
    frames.extend(
        clip_frames("franck", 0.0, 6.0)
            .into_iter()
            .enumerate()
            .map(|(i, mut frame)| {
                frame["t_ms"] = json!(offset + i as f64 * 100.0);
                frame
            }),
    );
    frames
}

#[tokio::test]
async fn movements_in_the_wrong_order_are_refused() {
    let reversed = TestServer::start(&["--liveness-challenge", "open_mouth,turn_left"]).await;
    let reply = register_clip(&reversed, "Franck", turn_then_mouth()).await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "wrong_order");
    assert_eq!(count(&reversed, "users").await, 0);

    // The control: the same frames, asked in the order they show.
    let in_order = TestServer::start(&["--liveness-challenge", "turn_left,open_mouth"]).await;
    let (status, body) = register_clip(&in_order, "Franck", turn_then_mouth()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

// Issue 14: the attacks that got through, performed against the real server.

/// A live socket for `purpose`, and its challenge message.
async fn open_socket(
    server: &TestServer,
    purpose: &str,
) -> (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Value,
) {
    let url = server
        .url(&format!("/api/live?purpose={purpose}"))
        .replacen("http", "ws", 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let challenge = next_message(&mut socket).await;
    assert_eq!(challenge["type"], "challenge", "{challenge}");
    (socket, challenge)
}

/// Sends frames over a live socket in real time (a frame no earlier than its capture time after
/// the first); the final message: `passed` (with the proof) or `failed`.
async fn perform_on_socket(server: &TestServer, purpose: &str, frames: &[Value]) -> Value {
    let (mut socket, _) = open_socket(server, purpose).await;
    let started = std::time::Instant::now();
    for frame in frames {
        let due = Duration::from_millis(frame["t_ms"].as_f64().unwrap_or(0.0) as u64);
        tokio::time::sleep(due.saturating_sub(started.elapsed())).await;
        socket.send(Message::text(frame.to_string())).await.expect("send");
        let reply = next_message(&mut socket).await;
        match reply["type"].as_str() {
            Some("frame") if reply["hint"]["code"] == "passed" => return next_message(&mut socket).await,
            Some("frame") => {}
            _ => return reply,
        }
    }
    Value::Null
}

/// Frames `start_s`… of a clip with capture times from `t0_ms`, 100 ms apart.
fn frames_from(clip: &str, start_s: f64, seconds: f64, t0_ms: f64) -> Vec<Value> {
    clip_frames(clip, start_s, seconds)
        .into_iter()
        .map(|mut frame| {
            let t = frame["t_ms"].as_f64().unwrap_or(0.0);
            frame["t_ms"] = json!(t0_ms + t);
            frame
        })
        .collect()
}

/// Species 2, the borrowed face: the victim's photo on the frames the old schedule encoded
/// (every 400 ms of declared time), another person performing the movements on the others, over
/// the real socket. Refused; the other person's frames alone do perform the challenge (they
/// pass the live check, and then match nobody), and the victim himself passes.
#[tokio::test]
async fn a_borrowed_face_is_refused_over_the_socket() {
    let mut server = TestServer::start(PINNED).await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Control: Franck himself, live on the socket.
    let passed = perform_on_socket(&server, "login", &clip_frames("franck", 55.0, 6.0)).await;
    assert_eq!(passed["type"], "passed", "{passed}");
    let (status, body) = post(
        &client(),
        &server,
        "/api/login",
        json!({ "proof": passed["proof"], "pin": PIN }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sessions_before = count(&server, "sessions").await;

    // cap12 opens his mouth and turns to his right in his clip.
    server
        .restart(&["--liveness-challenge", "open_mouth,turn_right"])
        .await;
    // 15-23 s: he opens his mouth, then turns to his right (live_eval::scan_segments: done 5.8 s in).
    let mover = clip_frames("cap12_edit", 15.0, 8.0);
    let victim = clip_frames("attack_franck12_still", 0.0, 8.0);
    let mut refusals = Vec::new();
    for offset in [0usize, 1, 2, 3] {
        let borrowed: Vec<Value> = mover
            .iter()
            .enumerate()
            .map(|(i, frame)| {
                if i % 4 == offset {
                    let mut photo = victim[(i / 4) % victim.len()].clone();
                    photo["t_ms"] = frame["t_ms"].clone();
                    photo
                } else {
                    frame.clone()
                }
            })
            .collect();
        let reply = perform_on_socket(&server, "login", &borrowed).await;
        assert_eq!(reply["type"], "failed", "offset {offset}: {reply}");
        refusals.push(reply["error"].as_str().unwrap_or_default().to_string());
    }
    assert!(
        refusals
            .iter()
            .all(|code| ["discontinuous", "face_changed"].contains(&code.as_str())),
        "{refusals:?}"
    );
    // Control, after the attacks (a passed check's frames are refused as replays afterwards): the
    // movement frames alone do perform the challenge.
    let mover_alone = perform_on_socket(&server, "login", &mover).await;
    assert_eq!(
        mover_alone["type"], "passed",
        "the movement frames perform the challenge: {mover_alone}"
    );
    assert_eq!(
        count(&server, "sessions").await,
        sessions_before,
        "nothing written"
    );
}

/// Species 3, the spliced video: segments of Franck's own clip joined, reordered, or a frame
/// sent twice. Each is refused `discontinuous`; the continuous clip passes (the control,
/// `a_live_person_registers_logs_in_and_cannot_be_replayed`).
#[tokio::test]
#[ignore = "issue 14: species 3 still passes: a spliced clip registered (201); the continuity bounds are not yet fitted to measured live motion (live_eval::continuity_measures); run with --ignored"]
async fn spliced_reordered_and_duplicated_frames_are_refused() {
    let server = TestServer::start(PINNED).await;
    // He turns to his left at 20-25 s and blinks in 40-50 s.
    let mut spliced = frames_from("franck", 20.0, 5.0, 0.0);
    spliced.extend(frames_from("franck", 42.0, 6.0, 5000.0));
    let mut reordered = clip_frames("franck", 20.0, 7.0);
    let times: Vec<Value> = reordered.iter().map(|f| f["t_ms"].clone()).collect();
    reordered.swap(10, 40);
    reordered.swap(25, 55);
    for (frame, t) in reordered.iter_mut().zip(times) {
        frame["t_ms"] = t;
    }
    // A frame sent again later (a looped recording). (The same frame twice in a row is a page
    // grabbing a slow camera's frame twice: answered again, not judged.)
    let mut duplicated = clip_frames("franck", 20.0, 7.0);
    let copy = duplicated[29].clone();
    duplicated.insert(31, copy);
    for (i, frame) in duplicated.iter_mut().enumerate() {
        frame["t_ms"] = json!(i as f64 * 100.0);
    }
    for (name, frames) in [
        ("spliced", spliced),
        ("reordered", reordered),
        ("duplicated", duplicated),
    ] {
        let reply = register_clip(&server, "Franck", frames).await;
        assert_eq!(
            (reply.0, reply.1["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("discontinuous")),
            "{name}: {}",
            reply.1
        );
    }
    // Over the socket, a splice ends the attempt at the splice.
    let mut spliced = frames_from("franck", 20.0, 5.0, 0.0);
    spliced.extend(frames_from("franck", 42.0, 6.0, 5000.0));
    let reply = perform_on_socket(&server, "register", &spliced).await;
    assert_eq!(
        (reply["type"].as_str(), reply["error"].as_str()),
        (Some("failed"), Some("discontinuous")),
        "{reply}"
    );
    support::assert_nothing_stored(&server).await;
}

/// Capture times that run ahead of the frames' arrival: a movement "recorded" faster than
/// the frames came. Refused on the socket.
#[tokio::test]
async fn capture_times_ahead_of_arrival_are_refused_on_the_socket() {
    let server = TestServer::start(PINNED).await;
    let (mut socket, _) = open_socket(&server, "login").await;
    let mut last = Value::Null;
    // Back to back, claiming 400 ms between frames: a 6 s movement "recorded" four times slower
    // than the frames come (the server answers a frame in 30-150 ms here, so claiming only the
    // clip's own 100 ms would not run ahead of a slow debug build).
    for (i, mut frame) in clip_frames("franck", 20.0, 6.0).into_iter().enumerate() {
        frame["t_ms"] = json!(i as f64 * 400.0);
        socket.send(Message::text(frame.to_string())).await.expect("send");
        last = next_message(&mut socket).await;
        if last["type"] != "frame" {
            break;
        }
    }
    assert_eq!(
        (last["type"].as_str(), last["error"].as_str()),
        (Some("failed"), Some("bad_timestamps")),
        "{last}"
    );
    assert_eq!(count(&server, "sessions").await, 0);
}

/// The same frames in another wrapper of the same JPEG bytes.
fn rewrap(frames: &[Value], style: usize) -> Vec<Value> {
    frames
        .iter()
        .map(|frame| {
            let image = frame["image"].as_str().unwrap_or_default();
            let payload = image.split_once(',').map_or(image, |(_, p)| p);
            let wrapped = match style {
                0 => format!("data:image/png;base64,{payload}"),
                1 => payload.to_string(),
                2 => format!("DATA:image/jpeg;base64,{payload}"),
                _ => format!(
                    "data:image/jpeg;base64,{}",
                    payload
                        .as_bytes()
                        .chunks(76)
                        .map(|line| String::from_utf8_lossy(line).into_owned())
                        .collect::<Vec<_>>()
                        .join("\r\n")
                ),
            };
            json!({ "t_ms": frame["t_ms"], "image": wrapped })
        })
        .collect()
}

/// Species 4, the re-wrapped replay: an accepted login's frames resent as `data:image/png`, raw
/// base64, `DATA:` and line-wrapped base64 — refused `replayed`, also after a restart (the
/// replay memory is in the database).
#[tokio::test]
async fn a_rewrapped_replay_is_refused_also_after_a_restart() {
    let mut server = TestServer::start(PINNED).await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let login_frames = clip_frames("franck", 55.0, 6.0);
    let (status, body, _) = login_clip(&client(), &server, &login_frames).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sessions = count(&server, "sessions").await;
    for style in 0..4 {
        let (status, body, _) = login_clip(&client(), &server, &rewrap(&login_frames, style)).await;
        assert_refused(&(status, body), StatusCode::UNPROCESSABLE_ENTITY, "replayed");
    }
    // The prints reach the database in the background.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart(PINNED).await;
    for style in 0..4 {
        let (status, body, _) = login_clip(&client(), &server, &rewrap(&login_frames, style)).await;
        assert_refused(&(status, body), StatusCode::UNPROCESSABLE_ENTITY, "replayed");
    }
    assert_eq!(count(&server, "sessions").await, sessions, "nothing written");
}

/// Species 5: the live socket's nonce redeemed on the upload path. Refused `nonce_used`.
#[tokio::test]
async fn a_socket_nonce_cannot_be_redeemed_by_an_upload() {
    let server = TestServer::start(PINNED).await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_socket, challenge) = open_socket(&server, "login").await;
    let frames = clip_frames("franck", 55.0, 6.0);
    record(&frames).await;
    let reply = post(
        &client(),
        &server,
        "/api/login",
        json!({ "nonce": challenge["nonce"], "frames": frames, "pin": PIN }),
    )
    .await;
    assert_refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "nonce_used");
    assert_eq!(count(&server, "sessions").await, 0);
}

/// Species 6: an honest upload that arrives in time passes even when the server takes longer
/// over its frames than the nonce has left (one face worker, 7 s nonce, a 6 s clip uploaded at
/// 6.9 s).
#[tokio::test]
async fn an_upload_that_arrived_in_time_passes_however_long_it_takes() {
    let server = TestServer::start(&[
        "--liveness-challenge",
        "turn_left,blink",
        "--liveness-nonce-ttl-secs",
        "7",
        "--face-workers",
        "1",
    ])
    .await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 6.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let challenge = nonce(&server, "login").await;
    tokio::time::sleep(Duration::from_millis(6900)).await;
    let started = std::time::Instant::now();
    let (status, body) = post(
        &client(),
        &server,
        "/api/login",
        json!({ "nonce": challenge["nonce"], "frames": clip_frames("franck", 55.0, 6.0), "pin": PIN }),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body} (after {took:?})");
    assert!(
        took > Duration::from_millis(100),
        "the processing outlasted the nonce: {took:?}"
    );
}

/// Species 1 over the real socket, as a measurement: photos animated to perform the pinned
/// challenge, streamed at their own capture times (10 frames a second, in real time). Prints
/// each socket's verdict and the tally; asserts nothing (the species is open, docs/live.md).
#[tokio::test]
#[ignore = "measurement (issue 14, species 1): run with --ignored --nocapture; ANIMATION_SEEDS=n (default 1)"]
async fn animated_photos_over_the_socket_measure() {
    use facegate::face::{FacePipeline, FaceSettings};
    use facegate::live::Step;
    use rand::SeedableRng;
    use support::animate::{Photo, TurnStyle, animate, as_json};

    let server = TestServer::start(PINNED).await;
    let pipeline =
        FacePipeline::load(&support::repo_path("models"), &FaceSettings::default()).expect("models");
    let seeds: u64 = std::env::var("ANIMATION_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let steps = [Step::TurnLeft, Step::Blink];
    let (mut tried, mut passed) = (0, 0);
    let mut refused: std::collections::BTreeMap<String, usize> = Default::default();
    for name in ["franck12", "franck60", "cap12", "obama", "biden"] {
        let photo = Photo::open(
            &support::repo_path(&format!(".cache/media/stills/{name}.png")),
            &pipeline,
        )
        .expect("a face in the photo");
        for seed in 0..seeds {
            let mut rng = rand::rngs::StdRng::seed_from_u64(1400 + seed);
            let frames = as_json(&animate(&photo, &steps, TurnStyle::Slide, &mut rng));
            let ended = perform_on_socket(&server, "login", &frames).await;
            tried += 1;
            let verdict = match ended["type"].as_str() {
                Some("passed") => {
                    passed += 1;
                    "PASSED".to_string()
                }
                Some("failed") => ended["error"].as_str().unwrap_or("?").to_string(),
                _ => "no verdict when the frames ran out".to_string(),
            };
            println!("{name} seed {seed}: {verdict}");
            if verdict != "PASSED" {
                *refused.entry(verdict).or_default() += 1;
            }
        }
    }
    println!(
        "animated photos over the socket: tried {tried}, live check passed {passed}, refused {refused:?}"
    );
}

/// Issue 14, species 1: a photo of the enrolled man (franck60, a still of his own video)
/// animated in 2D to perform the pinned challenge (tests/support/animate.rs: the inner face slid
/// against the jaw for the turn, the upper lids pulled down for the blink, with hand-held drift,
/// sensor noise and JPEG recompression), uploaded and over the live socket, must be refused with
/// no session written; the control — the man himself — logs in afterwards. Ignored while
/// species 1 is open: no check in the product refuses it yet (docs/live.md, "Animated photos").
/// When a check lands, assert its code here.
#[tokio::test]
#[ignore = "issue 14 species 1 open: run 2026-12-03, the uploaded animation logged in (200, Welcome, Franck!); run with --ignored"]
async fn an_animated_photo_of_an_enrolled_person_is_refused() {
    use facegate::face::{FacePipeline, FaceSettings};
    use facegate::live::Step;
    use rand::SeedableRng;
    use support::animate::{Photo, TurnStyle, animate, as_json};

    let server = TestServer::start(PINNED).await;
    let (status, body) = register_clip(&server, "Franck", clip_frames("franck", 20.0, 7.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let pipeline =
        FacePipeline::load(&support::repo_path("models"), &FaceSettings::default()).expect("models");
    let photo = Photo::open(&support::repo_path(".cache/media/stills/franck60.png"), &pipeline)
        .expect("a face in the photo");
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    let steps = [Step::TurnLeft, Step::Blink];

    let uploaded = as_json(&animate(&photo, &steps, TurnStyle::Slide, &mut rng));
    let (status, body, _) = login_clip(&client(), &server, &uploaded).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "uploaded animation: {body}"
    );

    let streamed = as_json(&animate(&photo, &steps, TurnStyle::Slide, &mut rng));
    let ended = perform_on_socket(&server, "login", &streamed).await;
    assert_eq!(
        ended["type"].as_str(),
        Some("failed"),
        "streamed animation: {ended}"
    );
    assert_eq!(count(&server, "sessions").await, 0, "nothing written");

    let (status, body, _) = login_clip(&client(), &server, &clip_frames("franck", 55.0, 6.0)).await;
    assert_eq!(status, StatusCode::OK, "the man himself: {body}");
    assert_eq!(count(&server, "sessions").await, 1);
}
