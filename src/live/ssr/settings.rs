//! Settings of the live check, flattened into [`crate::config::Config`]: each is a flag, a
//! `FACEGATE_*` variable and a key of the `[facegate]` table of Leptos.toml.

use std::time::Duration;

use clap::builder::TypedValueParser;

use crate::live::Step;

pub mod defaults {
    pub(crate) const STEPS: &str = "turn_left,turn_right,open_mouth,blink";
    pub(crate) const STEP_COUNT: usize = 2;
    pub(crate) const NONCE_TTL_SECS: u64 = 20;
    /// 0: [`SESSIONS_PER_WORKER`] per face worker.
    pub(crate) const MAX_SESSIONS: usize = 0;
    /// Measured: 2 face workers answer ~50 frames a second, ten 5-fps sessions; at 8 the hint
    /// latency p95 is ~110 ms (docs/benchmarks.md, "Live sessions").
    pub const SESSIONS_PER_WORKER: usize = 4;
    pub(crate) const MAX_FRAMES: usize = 300;
}

fn parse_step(value: &str) -> Result<Step, String> {
    Step::from_code(value).ok_or_else(|| {
        format!("unknown challenge step `{value}`; use turn_left, turn_right, open_mouth or blink")
    })
}

#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct LiveSettings {
    /// Challenge steps to draw from, comma-separated: turn_left, turn_right, open_mouth, blink.
    #[arg(long, env = "FACEGATE_LIVENESS_STEPS", default_value = defaults::STEPS,
          value_delimiter = ',', value_parser = parse_step)]
    pub(crate) liveness_steps: Vec<Step>,

    /// Steps per challenge, drawn at random (no step twice in a row).
    #[arg(long, env = "FACEGATE_LIVENESS_STEP_COUNT", default_value_t = defaults::STEP_COUNT,
          value_parser = clap::value_parser!(u64).range(1..=6).map(|n| n as usize))]
    pub(crate) liveness_step_count: usize,

    /// Seconds a challenge nonce lives: the time limit of one live check.
    #[arg(long, env = "FACEGATE_LIVENESS_NONCE_TTL_SECS", default_value_t = defaults::NONCE_TTL_SECS,
          value_parser = clap::value_parser!(u64).range(5..=600))]
    pub(crate) liveness_nonce_ttl_secs: u64,

    /// FOR TESTS AND RECORDED VIDEO ONLY: always ask these steps, in this order. It makes the
    /// challenge predictable, so a recording can pass; a warning is logged at start-up.
    #[arg(long, env = "FACEGATE_LIVENESS_CHALLENGE", value_delimiter = ',', value_parser = parse_step)]
    pub(crate) liveness_challenge: Option<Vec<Step>>,

    /// Live sessions (open camera sockets) served at once; the next is told "busy". 0 = four
    /// per face worker.
    #[arg(long, env = "FACEGATE_LIVE_MAX_SESSIONS", default_value_t = defaults::MAX_SESSIONS)]
    pub(crate) live_max_sessions: usize,

    /// Most frames one live check may send (socket or upload).
    #[arg(long, env = "FACEGATE_LIVE_MAX_FRAMES", default_value_t = defaults::MAX_FRAMES,
          value_parser = clap::value_parser!(u64).range(10..).map(|n| n as usize))]
    pub(crate) live_max_frames: usize,

    /// Accept the old single-picture `{image}` form of /api/register and /api/login, with no
    /// liveness check. A photo then signs its owner in: only for trusted kiosks and old clients.
    #[arg(long, env = "FACEGATE_ALLOW_SINGLE_IMAGE", default_value_t = false, action = clap::ArgAction::Set)]
    pub(crate) allow_single_image: bool,

    /// Accept live checks that the client records and uploads whole (`POST /api/liveness`, then
    /// `{nonce, frames}` to /api/login or /api/register). There the client chooses every frame
    /// and its time: a photo animated to perform the challenge and a spliced recording of the
    /// person both passed it in our tests (docs/live.md). Off: the live socket only, where the
    /// server sees the frames arrive and draws which ones it encodes.
    #[arg(long, env = "FACEGATE_ALLOW_CLIP_UPLOAD", default_value_t = false, action = clap::ArgAction::Set)]
    pub(crate) allow_clip_upload: bool,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            liveness_steps: Step::ALL.to_vec(),
            liveness_step_count: defaults::STEP_COUNT,
            liveness_nonce_ttl_secs: defaults::NONCE_TTL_SECS,
            liveness_challenge: None,
            live_max_sessions: defaults::MAX_SESSIONS,
            live_max_frames: defaults::MAX_FRAMES,
            allow_single_image: false,
            allow_clip_upload: false,
        }
    }
}

/// How a client whose server refuses uploaded clips learns what to do instead.
pub(crate) const CLIP_UPLOAD_DISABLED: &str = "This server does not accept uploaded clips: a recording can be forged frame by frame. Do the live check over the /api/live socket and send its proof (docs/api.md).";

impl LiveSettings {
    /// Refuses the upload path unless the operator turned it on.
    pub(crate) fn clip_upload_allowed(&self) -> Result<(), crate::error::AppError> {
        if self.allow_clip_upload {
            return Ok(());
        }
        Err(crate::error::AppError::Forbidden {
            code: "clip_upload_disabled",
            message: CLIP_UPLOAD_DISABLED.into(),
        })
    }

    /// The session cap: the setting, or four per face worker when it is 0.
    pub fn session_cap(&self, face_workers: usize) -> usize {
        match self.live_max_sessions {
            0 => defaults::SESSIONS_PER_WORKER * face_workers.max(1),
            n => n,
        }
    }

    pub fn nonce_ttl(&self) -> Duration {
        Duration::from_secs(self.liveness_nonce_ttl_secs)
    }

    /// Start-up checks and warnings; an `Err` is a message for the operator.
    pub fn validate(&self) -> Result<(), String> {
        if self.liveness_steps.is_empty() {
            return Err("FACEGATE_LIVENESS_STEPS must name at least one step".into());
        }
        if self.liveness_step_count > 1 && self.liveness_steps.len() < 2 {
            return Err("FACEGATE_LIVENESS_STEPS needs two different steps when FACEGATE_LIVENESS_STEP_COUNT > 1 (no step is asked twice in a row)".into());
        }
        if let Some(fixed) = &self.liveness_challenge {
            if fixed.is_empty() {
                return Err("FACEGATE_LIVENESS_CHALLENGE is set but names no step".into());
            }
            tracing::warn!(
                challenge = ?fixed,
                "FACEGATE_LIVENESS_CHALLENGE pins the liveness challenge: a recording of these steps passes. Use it only for tests and recorded video"
            );
        }
        if self.allow_clip_upload {
            tracing::warn!(
                "FACEGATE_ALLOW_CLIP_UPLOAD is on: uploaded clips are accepted as live checks; the client controls their frames and times, and an animated photo passed that path in testing"
            );
        }
        if self.allow_single_image {
            tracing::warn!(
                "FACEGATE_ALLOW_SINGLE_IMAGE is on: /api/register and /api/login accept one still picture with no liveness check, so a photo can sign its owner in"
            );
        }
        Ok(())
    }
}
