//! `GET /api/live?purpose=login|register`: the live face check over a WebSocket (protocol in
//! `crate::live` and docs/api.md). One challenge per connection; the socket closes after the
//! `passed` or `failed` message. One client holds at most its share of the sockets, a socket
//! that sends no frame for `live-idle-secs` is closed, and every frame passes the gate of
//! [`super::live_gate`] (rate, size) before a face worker sees it.

use axum::{
    Extension,
    extract::{
        Query, State,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code},
    },
    response::Response,
};
use serde::Deserialize;

use super::live_gate::{FrameGate, Gate};
use crate::{
    face::{FaceError, ImageInput},
    http::{ClientInfo, LiveSocketShares},
    live::{
        ClientFrame, Progress, Purpose, ServerMessage,
        ssr::{Arrival, AttemptError, Channel, LiveAttempt, LiveFailure, Tuning},
    },
    state::AppState,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    #[serde(default)]
    purpose: Purpose,
}

pub async fn live_socket(
    State(state): State<AppState>,
    Query(query): Query<LiveQuery>,
    Extension(shares): Extension<LiveSocketShares>,
    client: ClientInfo,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A frame is one picture (base64 adds a third) plus its capture time.
    let max_message = state.config.face.max_image_bytes / 3 * 4 + 4096;
    // Taken before the upgrade, held for the whole session; refused after it, so that the page
    // can show why.
    let share = shares.try_take(&client);
    upgrade
        .max_message_size(max_message)
        .on_upgrade(move |socket| async move {
            match share {
                Ok(_share) => run(state, query.purpose, &shares, socket).await,
                Err(share) => refuse(socket, "too_many_sockets", too_many_sockets(share)).await,
            }
        })
}

fn too_many_sockets(share: usize) -> String {
    format!(
        "Your network already has {share} face checks open here, the most one network may have at once. Close other facegate tabs or wait for them to finish, then try again."
    )
}

async fn run(state: AppState, purpose: Purpose, shares: &LiveSocketShares, mut socket: WebSocket) {
    // Held for the whole session: the cap on concurrent live sessions.
    let Some(place) = state.live.try_open_session() else {
        return refuse(socket, "busy", FaceError::Busy.to_string()).await;
    };
    let Some(challenge) = state.live.issue(purpose, Channel::Socket) else {
        return refuse(socket, "busy", FaceError::Busy.to_string()).await;
    };
    let hello = ServerMessage::Challenge {
        nonce: challenge.nonce.clone(),
        steps: challenge.steps.clone(),
        expires_in_ms: challenge.expires_in().as_millis() as u64,
    };
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    let deadline = tokio::time::Instant::from_std(challenge.expires_at);
    let max_frames = state.config.live.live_max_frames;
    let mut attempt = LiveAttempt::new(challenge, Tuning::default(), max_frames, Arrival::Live);
    let mut gate = FrameGate::new(shares.settings(), state.config.face.max_image_bytes);
    let idle = shares.settings().live_idle();
    let mut idle_until = tokio::time::Instant::now() + idle;
    let mut seq = 0u64;
    let mut answered = 0u64;
    let outcome: Result<(), Ending> = loop {
        // Idle is counted from the last frame's answer; pings do not count as frames.
        if answered != seq {
            answered = seq;
            idle_until = tokio::time::Instant::now() + idle;
        }
        let message = tokio::select! {
            () = tokio::time::sleep_until(deadline) => break Err(attempt.timed_out().into()),
            () = tokio::time::sleep_until(idle_until) => break Err(idle_ending(idle)),
            message = socket.recv() => message,
        };
        let (t_ms, image) = match message {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return, // the client left
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientFrame>(text.as_str()) {
                Ok(frame) => (frame.t_ms, ImageInput::Text(frame.image)),
                Err(_) => return refuse(socket, "bad_frame", BAD_FRAME.into()).await,
            },
            Some(Ok(Message::Binary(bytes))) if bytes.len() > 8 => {
                let mut clock = [0u8; 8];
                clock.copy_from_slice(&bytes[..8]);
                (f64::from_le_bytes(clock), ImageInput::Bytes(bytes[8..].to_vec()))
            }
            Some(Ok(Message::Binary(_))) => return refuse(socket, "bad_frame", BAD_FRAME.into()).await,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
        };
        seq += 1;
        match gate.check(&image, std::time::Instant::now()) {
            Ok(Gate::Pass) => {}
            Ok(Gate::TooFast) => {
                let skipped = hint_reply(seq, attempt.progress(), "too_fast", gate.too_fast_message());
                if send(&mut socket, &skipped).await.is_err() {
                    return;
                }
                continue;
            }
            Err(refused) => break Err(Ending(refused.0, refused.1)),
        }
        let reply = match attempt.on_frame(&state.faces, &state.live, t_ms, image).await {
            Ok(outcome) => outcome,
            // Workers saturated: say so and let the client send its next frame.
            Err(AttemptError::Face(FaceError::Busy)) => {
                let busy = busy_reply(seq, attempt.progress());
                if send(&mut socket, &busy).await.is_err() {
                    return;
                }
                continue;
            }
            Err(AttemptError::Face(error)) => {
                if matches!(error, FaceError::Internal(_)) {
                    tracing::error!(%error, "live frame failed");
                }
                break Err(Ending(error.code(), error.to_string()));
            }
            Err(AttemptError::Live(failure)) => break Err(failure.into()),
        };
        let passed = reply.reply.passed;
        let frame = ServerMessage::Frame {
            seq,
            frame_width: reply.frame_width,
            frame_height: reply.frame_height,
            face: reply.reply.face,
            hint: reply.reply.hint,
            progress: reply.reply.progress,
        };
        if send(&mut socket, &frame).await.is_err() {
            return;
        }
        if passed {
            break Ok(());
        }
    };
    // No more frames: the place is free before the closing handshake.
    drop(place);
    match outcome {
        Ok(()) => {
            let check = attempt.into_passed(&state.live);
            tracing::info!(
                purpose = purpose.code(),
                samples = check.encodings.len(),
                "live check passed"
            );
            let proof = state.live.mint_proof(check);
            crate::metrics::live_check(None);
            let _ = send(&mut socket, &ServerMessage::Passed { proof }).await;
            close(socket, close_code::NORMAL, "passed").await;
        }
        Err(Ending(code, message)) => {
            tracing::info!(
                purpose = purpose.code(),
                code,
                frames = attempt.frames(),
                "live check refused"
            );
            refuse(socket, code, message).await;
        }
    }
}

const BAD_FRAME: &str = "A frame could not be read. Send {t_ms, image} as JSON text, or 8 bytes of f64 time then a JPEG as binary.";

/// Why a session ended: a code and the sentence for the person.
struct Ending(&'static str, String);

impl From<LiveFailure> for Ending {
    fn from(failure: LiveFailure) -> Self {
        Ending(failure.code(), failure.to_string())
    }
}

fn idle_ending(idle: std::time::Duration) -> Ending {
    Ending(
        "idle",
        format!(
            "No frame arrived for {} seconds, so the face check was stopped. Keep the camera on and try again.",
            idle.as_secs()
        ),
    )
}

fn busy_reply(seq: u64, progress: Progress) -> ServerMessage {
    hint_reply(seq, progress, "busy", FaceError::Busy.to_string())
}

/// A `frame` answer that only carries a hint (the frame was not looked at).
fn hint_reply(seq: u64, progress: Progress, code: &str, message: String) -> ServerMessage {
    ServerMessage::Frame {
        seq,
        frame_width: 0,
        frame_height: 0,
        face: None,
        hint: crate::live::Hint {
            code: code.into(),
            message,
        },
        progress,
    }
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).map_err(axum::Error::new)?;
    socket.send(Message::Text(Utf8Bytes::from(text))).await
}

async fn refuse(mut socket: WebSocket, code: &str, message: String) {
    crate::metrics::live_check(Some(code));
    let failed = ServerMessage::Failed {
        error: code.to_string(),
        message,
    };
    let _ = send(&mut socket, &failed).await;
    let close_with = if code == "busy" {
        close_code::AGAIN
    } else {
        close_code::POLICY
    };
    close(socket, close_with, code).await;
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    // The closing handshake, bounded: read what the client still sends until its Close, so that
    // dropping the socket does not reset it with our last answer unread (frames sent ahead).
    let drained = async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drained).await;
}
