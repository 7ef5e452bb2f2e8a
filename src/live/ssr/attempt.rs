//! One live check from challenge to verdict, whatever carries the frames (the live socket or an
//! uploaded clip): each frame is checked against the nonce's lifetime and the replay memory,
//! observed on a face worker, and judged by the [`Verifier`].

use std::time::{Duration, Instant};

use super::store::{FrameFingerprint, IssuedChallenge, LiveStore, PassedCheck, fingerprint};
use super::verifier::{FrameReply, LiveFailure, Tuning, Verifier};
use crate::face::{FaceEngine, FaceError, ImageInput};

/// How much longer than the time since the challenge was issued the frames' capture times may
/// span (clock granularity, the first frame captured while the challenge was on its way).
const CLOCK_SLACK: Duration = Duration::from_millis(1500);

/// Why a frame ended an attempt.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    #[error(transparent)]
    Live(#[from] LiveFailure),
    /// The frame could not be read, or the face engine could not take it.
    #[error(transparent)]
    Face(#[from] FaceError),
}

/// The answer to one frame, with the frame's size (for drawing the box).
#[derive(Debug, Clone)]
pub struct FrameOutcome {
    pub frame_width: u32,
    pub frame_height: u32,
    pub reply: FrameReply,
}

pub struct LiveAttempt {
    challenge: IssuedChallenge,
    verifier: Verifier,
    prints: Vec<FrameFingerprint>,
    max_frames: usize,
}

impl LiveAttempt {
    pub fn new(challenge: IssuedChallenge, tuning: Tuning, max_frames: usize) -> Self {
        Self {
            verifier: Verifier::new(challenge.steps.clone(), tuning),
            challenge,
            prints: Vec::new(),
            max_frames,
        }
    }

    pub fn challenge(&self) -> &IssuedChallenge {
        &self.challenge
    }

    pub fn progress(&self) -> crate::live::Progress {
        self.verifier.progress()
    }

    /// Frames received so far.
    pub fn frames(&self) -> usize {
        self.prints.len()
    }

    /// Checks and judges one frame captured at `t_ms` (client clock).
    pub async fn on_frame(
        &mut self,
        engine: &FaceEngine,
        store: &LiveStore,
        t_ms: f64,
        image: ImageInput,
    ) -> Result<FrameOutcome, AttemptError> {
        if self.prints.len() >= self.max_frames {
            return Err(LiveFailure::TooManyFrames { max: self.max_frames }.into());
        }
        if Instant::now() >= self.challenge.expires_at {
            return Err(self.timed_out().into());
        }
        let print = match &image {
            ImageInput::Bytes(bytes) => fingerprint(bytes),
            ImageInput::Text(text) => fingerprint(text.trim().as_bytes()),
        };
        if store.is_replay(&print) {
            return Err(LiveFailure::Replayed.into());
        }
        // Before the face engine: an implausible frame must not cost a worker's time.
        let allowed = self.challenge.issued_at.elapsed() + CLOCK_SLACK;
        if self.verifier.span_until(t_ms) > allowed.as_secs_f64() * 1000.0 {
            return Err(LiveFailure::BadTimestamps.into());
        }
        self.prints.push(print);

        let want_encoding = self.verifier.wants_encoding(t_ms);
        let observation = engine.observe(image, want_encoding).await?;
        let reply = self.verifier.on_frame(t_ms, &observation)?;
        Ok(FrameOutcome {
            frame_width: observation.frame_width,
            frame_height: observation.frame_height,
            reply,
        })
    }

    /// The reason to give when the frames or the time ran out before the check passed.
    pub fn timed_out(&self) -> LiveFailure {
        match self.verifier.incomplete() {
            LiveFailure::NotCompleted if Instant::now() >= self.challenge.expires_at => {
                LiveFailure::NonceExpired
            }
            other => other,
        }
    }

    /// After the verifier said `passed`: remembers the frames (so a replay fails) and returns the
    /// result to log in or enrol with.
    pub fn into_passed(self, store: &LiveStore) -> PassedCheck {
        store.remember_passed_frames(&self.prints);
        PassedCheck {
            purpose: self.challenge.purpose,
            encodings: self.verifier.samples().cloned().collect(),
        }
    }
}
