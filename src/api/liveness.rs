//! `POST /api/liveness`: a challenge for clients that record a short clip and upload it with
//! `POST /api/login` / `POST /api/register` as `{nonce, frames: [{image, t_ms}, …]}`.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    face::{FaceError, ImageInput},
    live::{
        ClientFrame, Purpose, Step,
        ssr::{Arrival, Channel, LiveAttempt, LiveFailure, PassedCheck, Tuning},
    },
    state::AppState,
};

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct LivenessRequest {
    #[serde(default)]
    purpose: Purpose,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LivenessResponse {
    nonce: String,
    purpose: Purpose,
    /// The steps to perform, in order, while recording.
    challenge: Vec<Step>,
    /// Upload the frames before this many milliseconds have passed.
    expires_in_ms: u64,
    /// The same moment as an RFC 3339 time.
    expires_at: String,
}

/// An empty body asks for a login challenge.
pub async fn start(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<LivenessResponse>), AppError> {
    let request: LivenessRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LivenessRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest {
            code: "invalid_json",
            message: format!("The request body is not valid: {e}. Send {{\"purpose\": \"login\"}} or {{\"purpose\": \"register\"}}."),
        })?
    };
    state.config.live.clip_upload_allowed()?;
    let purpose = request.purpose;
    let challenge = state
        .live
        .issue(purpose, Channel::Upload)
        .ok_or_else(|| AppError::Busy(FaceError::Busy.to_string()))?;
    let expires_in = challenge.expires_in();
    let expires_at = mongodb::bson::DateTime::from_millis(
        mongodb::bson::DateTime::now().timestamp_millis() + expires_in.as_millis() as i64,
    )
    .try_to_rfc3339_string()
    .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(LivenessResponse {
            nonce: challenge.nonce,
            purpose,
            challenge: challenge.steps,
            expires_in_ms: expires_in.as_millis() as u64,
            expires_at,
        }),
    ))
}

/// Runs an uploaded clip through the same check as the live socket. The nonce is used up by
/// this call whatever the outcome. Its lifetime ends when the upload arrived (`arrived`, taken
/// when the request's body was in), not when the server is done with the frames.
pub async fn check_uploaded_frames(
    state: &AppState,
    nonce: &str,
    purpose: Purpose,
    frames: Vec<ClientFrame>,
    arrived: std::time::Instant,
) -> Result<PassedCheck, AppError> {
    let challenge = state.live.redeem_nonce(nonce.trim(), purpose, arrived)?;
    let max_frames = state.config.live.live_max_frames;
    if frames.len() > max_frames {
        return Err(LiveFailure::TooManyFrames { max: max_frames }.into());
    }
    let mut attempt = LiveAttempt::new(
        challenge,
        Tuning::default(),
        max_frames,
        Arrival::Uploaded(arrived),
    );
    for frame in frames {
        let outcome = attempt
            .on_frame(
                &state.faces,
                &state.live,
                frame.t_ms,
                ImageInput::Text(frame.image),
            )
            .await?;
        if outcome.reply.passed {
            return Ok(attempt.into_passed(&state.live));
        }
    }
    Err(attempt.timed_out().into())
}
