//! The three ways a client can show its face to `POST /api/login` and `POST /api/register`:
//! the `proof` of a passed live socket check, an uploaded clip (`nonce` + `frames`; only with
//! `allow-clip-upload`), or — only with `allow-single-image` — the old single `image`.

use serde::Deserialize;

use super::liveness::check_uploaded_frames;
use crate::{
    error::AppError,
    face::ImageInput,
    live::{ClientFrame, Purpose, ssr::PassedCheck},
    state::AppState,
};

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct FaceEvidence {
    /// From the live socket's `passed` message.
    #[serde(default)]
    proof: Option<String>,
    /// From `POST /api/liveness`, with the recorded frames.
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    frames: Option<Vec<ClientFrame>>,
    /// The old single picture (base64 or a `data:` URL).
    #[serde(default)]
    image: Option<String>,
}

/// What the evidence amounts to.
pub enum Face {
    /// A proof from the live socket, still to be redeemed (single use).
    Proof(String),
    /// A clip that passed the live check.
    Checked(PassedCheck),
    /// One picture, accepted because the operator allows it.
    SingleImage(ImageInput),
}

impl FaceEvidence {
    pub async fn into_face(self, state: &AppState, purpose: Purpose) -> Result<Face, AppError> {
        // The request's body has been read: the upload has arrived (admission refuses at once
        // rather than queue, so no wait lies between).
        let arrived = std::time::Instant::now();
        if let Some(proof) = self.proof {
            return Ok(Face::Proof(proof));
        }
        if let Some(nonce) = self.nonce {
            state.config.live.clip_upload_allowed()?;
            let frames = self.frames.unwrap_or_default();
            if frames.is_empty() {
                return Err(AppError::BadRequest {
                    code: "no_frames",
                    message: "Send the recorded frames with the nonce: {nonce, frames: [{image, t_ms}, …]}."
                        .into(),
                });
            }
            // The live frame size, from each picture's header, before any frame is decoded.
            super::live_gate::check_clip_frames(
                &frames,
                &state.config.http.front_door,
                state.config.face.max_image_bytes,
            )?;
            return check_uploaded_frames(state, &nonce, purpose, frames, arrived)
                .await
                .map(Face::Checked);
        }
        match self.image {
            Some(image) if state.config.live.allow_single_image => Ok(Face::SingleImage(ImageInput::Text(image))),
            Some(_) => Err(AppError::BadRequest {
                code: "liveness_required",
                message: "A single picture is not accepted: a photo could sign anyone in. Do the live check (the /api/live socket, or POST /api/liveness then send {nonce, frames}); see docs/api.md.".into(),
            }),
            None => Err(AppError::BadRequest {
                code: "liveness_required",
                message: "Send the proof of a live check (the /api/live socket); see docs/api.md.".into(),
            }),
        }
    }
}
