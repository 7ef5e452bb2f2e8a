//! One live check from challenge to verdict, whatever carries the frames (the live socket or an
//! uploaded clip): each frame is checked against the nonce's lifetime and the replay memory,
//! observed on a face worker, and judged by the [`Verifier`].

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::store::{FrameFingerprint, IssuedChallenge, LiveStore, PassedCheck};
use super::verifier::{FrameReply, LiveFailure, Tuning, Verifier};
use crate::face::{FaceEngine, FaceError, ImageInput, Look};
use crate::live::FaceBox;

/// How much longer than the time since the challenge was issued the frames' capture times may
/// span (clock granularity, the first frame captured while the challenge was on its way).
const CLOCK_SLACK: Duration = Duration::from_millis(1500);

/// On the live socket, how far the declared capture times may run ahead of the frames' arrival
/// times (measured from the first frame): the capture-to-arrival latency of one frame may vary
/// by this much. Beyond it, the client is inventing time (a movement "recorded" faster than the
/// frames came).
const AHEAD_OF_ARRIVAL: Duration = Duration::from_millis(500);

/// Whose clock says when frames were taken.
#[derive(Debug, Clone, Copy)]
pub enum Arrival {
    /// Frames arrive one by one (the live socket): each frame's arrival time is known, and the
    /// nonce must not expire while they come.
    Live,
    /// The whole clip arrived at this moment (an upload): the nonce had to be valid then, and
    /// however long the server then takes over the frames does not count against it.
    Uploaded(Instant),
}

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
    pub(crate) frame_width: u32,
    pub(crate) frame_height: u32,
    pub(crate) reply: FrameReply,
}

pub struct LiveAttempt {
    challenge: IssuedChallenge,
    verifier: Verifier,
    prints: Vec<FrameFingerprint>,
    /// The same prints, to find a frame sent twice.
    seen: HashSet<FrameFingerprint>,
    frames: usize,
    max_frames: usize,
    arrival: Arrival,
    /// The first frame's arrival and capture time (live socket).
    first_arrival: Option<(Instant, f64)>,
    /// The answer to the last frame judged.
    last_outcome: Option<FrameOutcome>,
    /// Where the last frame's face was: the next frame's detector looks around it.
    last_face: Option<FaceBox>,
}

impl LiveAttempt {
    pub fn new(challenge: IssuedChallenge, tuning: Tuning, max_frames: usize, arrival: Arrival) -> Self {
        Self {
            verifier: Verifier::new(challenge.steps.clone(), tuning),
            challenge,
            prints: Vec::new(),
            seen: HashSet::new(),
            frames: 0,
            max_frames,
            arrival,
            first_arrival: None,
            last_outcome: None,
            last_face: None,
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
        self.frames
    }

    /// Checks and judges one frame captured at `t_ms` (client clock).
    pub async fn on_frame(
        &mut self,
        engine: &FaceEngine,
        store: &LiveStore,
        t_ms: f64,
        image: ImageInput,
    ) -> Result<FrameOutcome, AttemptError> {
        if self.frames >= self.max_frames {
            return Err(LiveFailure::TooManyFrames { max: self.max_frames }.into());
        }
        // Before the face engine: an implausible frame must not cost a worker's time.
        let now = Instant::now();
        let received = match self.arrival {
            Arrival::Live => {
                if now >= self.challenge.expires_at {
                    return Err(self.timed_out().into());
                }
                let (first_at, first_t) = *self.first_arrival.get_or_insert((now, t_ms));
                let declared = t_ms - first_t;
                let arrived = now.duration_since(first_at) + AHEAD_OF_ARRIVAL;
                if declared > arrived.as_secs_f64() * 1000.0 {
                    return Err(LiveFailure::BadTimestamps.into());
                }
                now
            }
            Arrival::Uploaded(at) => at,
        };
        let allowed = received.duration_since(self.challenge.issued_at) + CLOCK_SLACK;
        if self.verifier.span_until(t_ms) > allowed.as_secs_f64() * 1000.0 {
            return Err(LiveFailure::BadTimestamps.into());
        }
        self.frames += 1;

        // The frames the server draws at random are searched whole, so "exactly one face"
        // holds where the client cannot predict it; the others follow the face in a window
        // around where it was, at a fraction of the cost.
        let look = Look {
            near: if self.verifier.wants_whole_frame() {
                None
            } else {
                self.last_face
            },
            encode: self.verifier.wants_encoding(),
        };
        let (observation, print) = engine.observe_with_print(image, look).await?;
        // Fingerprints of what was decoded, not of the wrapper it came in.
        if store.is_replay(&print) {
            return Err(LiveFailure::Replayed.into());
        }
        // A camera never delivers the same pixels twice. The page may grab one camera frame
        // twice (a slow camera): that repeat is answered as before and not judged again. Any
        // other repeat was spliced in (a looped or reordered recording).
        if !self.seen.insert(print) {
            return match (self.prints.last(), &self.last_outcome) {
                (Some(last), Some(outcome)) if *last == print => Ok(outcome.clone()),
                _ => Err(LiveFailure::Discontinuous.into()),
            };
        }
        self.prints.push(print);
        self.last_face = observation.face.filter(|_| observation.landmarks.is_some());
        let reply = self.verifier.on_frame(t_ms, &observation)?;
        let outcome = FrameOutcome {
            frame_width: observation.frame_width,
            frame_height: observation.frame_height,
            reply,
        };
        self.last_outcome = Some(outcome.clone());
        Ok(outcome)
    }

    /// The reason to give when the frames or the time ran out before the check passed.
    pub fn timed_out(&self) -> LiveFailure {
        match (self.verifier.incomplete(), self.arrival) {
            (LiveFailure::NotCompleted, Arrival::Live) if Instant::now() >= self.challenge.expires_at => {
                LiveFailure::NonceExpired
            }
            (other, _) => other,
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
