//! The live face check: the camera streams frames to the server over a WebSocket, the server
//! answers each with the face box, one hint and the progress, and checks liveness by a random
//! challenge (turn left/right, open the mouth, blink) bound to a single-use nonce.
//!
//! This file is the protocol, shared by the browser and the server (docs/api.md documents it for
//! other clients; docs/live.md explains the checks and their thresholds). The server side —
//! landmark signals, the verifier, the nonce and proof stores — is in [`ssr`].

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// The WebSocket route. Query: `purpose=login` (default) or `purpose=register`.
pub const LIVE_PATH: &str = "/api/live";

/// One challenge step: a movement a photo cannot make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Turn the head to the person's own left, then back.
    TurnLeft,
    /// Turn the head to the person's own right, then back.
    TurnRight,
    /// Open the mouth wide, then close it.
    OpenMouth,
    /// Close both eyes briefly.
    Blink,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::TurnLeft, Step::TurnRight, Step::OpenMouth, Step::Blink];

    /// The stable name used in settings, the protocol and hint codes.
    pub fn code(self) -> &'static str {
        match self {
            Step::TurnLeft => "turn_left",
            Step::TurnRight => "turn_right",
            Step::OpenMouth => "open_mouth",
            Step::Blink => "blink",
        }
    }

    pub fn from_code(code: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.code() == code.trim())
    }

    /// What the person is asked to do.
    pub fn instruction(self) -> &'static str {
        match self {
            Step::TurnLeft => "Turn your head to your left, then look back at the camera.",
            Step::TurnRight => "Turn your head to your right, then look back at the camera.",
            Step::OpenMouth => "Open your mouth wide, then close it.",
            Step::Blink => "Blink once.",
        }
    }
}

/// What a live check is for. A proof made for one purpose is refused for the other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    #[default]
    Login,
    Register,
}

impl Purpose {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Register => "register",
        }
    }
}

/// A face box in pixels of the frame that was sent (not mirrored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FaceBox {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// One hint: a stable `code` and the sentence shown (and announced) to the person.
///
/// Codes: `framing`, `no_face`, `multiple_faces`, `move_closer`, `more_light`, `less_light`,
/// `hold_still`, `face_camera`, `look_back`, a step's code (`turn_left`, `turn_right`,
/// `open_mouth`, `blink`), `checking`, `busy`, `bad_frame`, and `passed` on the frame that
/// completed the check (the `passed` message follows it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Hint {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// Checks passed so far: framing the face, then each challenge step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Progress {
    pub(crate) done: u32,
    pub(crate) total: u32,
}

/// A frame sent by the client as a WebSocket text message. (Binary messages are accepted too:
/// 8 bytes of little-endian f64 `t_ms`, then the JPEG bytes.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct ClientFrame {
    /// Capture time in milliseconds on the client's clock (e.g. `performance.now()`); must
    /// increase from frame to frame.
    pub(crate) t_ms: f64,
    /// A JPEG (or PNG/WebP) as base64 or a `data:` URL, about 320-480 px on its longest side.
    pub(crate) image: String,
}

/// Every message the server sends, as JSON text, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The first message: the steps to perform, in order, before the nonce expires.
    Challenge {
        nonce: String,
        steps: Vec<Step>,
        /// Milliseconds from now until the nonce expires: the time limit of this attempt.
        expires_in_ms: u64,
    },
    /// The answer to each frame.
    Frame {
        /// Number of frames answered so far in this session, starting at 1.
        seq: u64,
        /// Size of the frame that was sent.
        frame_width: u32,
        frame_height: u32,
        /// The face found, if exactly one was.
        face: Option<FaceBox>,
        hint: Hint,
        progress: Progress,
    },
    /// Every check passed. `proof` is single-use and short-lived: redeem it with the `log_in`
    /// or `register` server function (or `POST /api/login`/`/api/register` with `{proof}`).
    Passed { proof: String },
    /// The attempt is over and refused; `error` is a stable code, `message` says what to do.
    /// The server closes the socket after it.
    Failed { error: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_by_code() {
        for step in Step::ALL {
            assert_eq!(Step::from_code(step.code()), Some(step));
            assert_eq!(
                serde_json::to_string(&step).expect("json"),
                format!("\"{}\"", step.code())
            );
        }
        assert_eq!(Step::from_code("wink"), None);
    }

    #[test]
    fn messages_are_tagged_json() {
        let message = ServerMessage::Failed {
            error: "nonce_expired".into(),
            message: "Too slow".into(),
        };
        let json = serde_json::to_value(&message).expect("json");
        assert_eq!(json["type"], "failed");
        assert_eq!(json["error"], "nonce_expired");
    }
}
