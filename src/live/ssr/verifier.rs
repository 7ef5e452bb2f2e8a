//! The liveness verdict for one attempt, frame by frame. Pure logic over [`FaceObservation`]s:
//! no I/O, no clocks (capture times come with the frames), so every rule is unit-tested and the
//! same code judges live sockets, uploaded clips and the measurements in docs/live.md.
//!
//! An attempt goes through three phases:
//! 1. **framing** — a few consecutive frontal, well-lit frames set the person's own baseline
//!    (eye and mouth ratios, yaw) and the reference landmarks;
//! 2. **steps** — each challenge step in order, detected as a signal that crosses a threshold and
//!    comes back (see [`StepTracker`]);
//! 3. **confirm** — one more frontal frame whose encoding agrees with the others.
//!
//! All along, encodings sampled every few hundred milliseconds must stay within
//! `same_person_max` of the first (a swap of people fails), capture times must increase, and at
//! the end the landmarks must have moved non-rigidly above a floor (a photo moved as a whole
//! fails). docs/live.md has the measurements behind every default in [`Tuning`].

use rand::{Rng, SeedableRng, rngs::StdRng};

use super::continuity::{ContinuityBounds, FaceChange};
use super::signals::{FaceSignals, non_rigid_residual};
use crate::face::{Encoding, FaceError, FaceObservation};
use crate::live::{FaceBox, Hint, Progress, Step};

/// Thresholds of the liveness check; the defaults are measured (docs/live.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// Consecutive good frontal frames that complete the framing phase.
    pub framing_frames: usize,
    /// Largest |yaw| (see [`FaceSignals::yaw`]) that counts as facing the camera.
    pub frontal_yaw: f64,
    /// Smallest distance between the outer eye corners, in frame pixels, for a frame to count:
    /// landmarks on smaller faces jitter as much as the movements being measured.
    pub min_eye_span: f64,
    /// A head turn: yaw goes this far beyond the baseline in the asked direction…
    pub turn_out: f64,
    /// …and comes back within this of the baseline.
    pub turn_back: f64,
    /// A blink: the eye ratio falls below this fraction of the baseline…
    pub blink_closed: f64,
    /// …and recovers above this fraction.
    pub blink_open: f64,
    /// An open mouth: the mouth ratio rises this much above the baseline…
    pub mouth_open: f64,
    /// …and falls back below baseline + this.
    pub mouth_closed: f64,
    /// Largest distance between the first sampled encoding and any later one.
    pub same_person_max: f32,
    /// After each sampled encoding the server draws how many frames later the next one is
    /// taken, uniformly in 1..=this: the client cannot tell which frames are encoded.
    pub sample_gap_frames: u32,
    /// Encodings an attempt needs before it can pass.
    pub min_samples: usize,
    /// Bounds on how much the face may change between consecutive frames.
    pub continuity: ContinuityBounds,
    /// Smallest time between two frames' capture times (a bounded frame rate).
    pub min_frame_gap_ms: f64,
    /// The 90th percentile of the non-rigid landmark residual must reach this (eye spans).
    pub non_rigid_floor: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            framing_frames: 3,
            frontal_yaw: 0.3,
            min_eye_span: 48.0,
            turn_out: 0.15,
            turn_back: 0.08,
            blink_closed: 0.7,
            blink_open: 0.85,
            mouth_open: 0.15,
            mouth_closed: 0.07,
            same_person_max: 0.5,
            sample_gap_frames: 12,
            min_samples: 3,
            continuity: ContinuityBounds::default(),
            min_frame_gap_ms: 40.0,
            non_rigid_floor: 0.02,
        }
    }
}

/// Why an attempt was refused. Each has a stable code and a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveFailure {
    #[error("Time is up for this check. Press Try again and follow the hints as they appear.")]
    NonceExpired,
    #[error("This challenge was already used. Start a new check.")]
    NonceUsed,
    #[error("Unknown challenge. Start a new check (POST /api/liveness) and send its nonce.")]
    UnknownNonce,
    #[error("This face check is unknown or was already used. Do the face check again.")]
    UnknownProof,
    #[error("The challenge was not completed. Press Try again and follow each hint.")]
    NotCompleted,
    #[error(
        "The movements were not done in the order asked. Press Try again and follow the hints one at a time."
    )]
    WrongOrder,
    #[error(
        "We could not see a live face move. A photo or a screen cannot be used: look at the camera yourself and follow the hints."
    )]
    NoLiveMotion,
    #[error("The face changed during the check; only one person may take part. Press Try again.")]
    FaceChanged,
    #[error("These frames were already used in an earlier check. Press Try again.")]
    Replayed,
    #[error(
        "The camera's view jumped: the frames are not one continuous view of one face. Keep your face in view and press Try again."
    )]
    Discontinuous,
    #[error(
        "The frames' capture times are not plausible: they must increase and fit in the time since the challenge was issued."
    )]
    BadTimestamps,
    #[error("Too many frames for one check (at most {max}).")]
    TooManyFrames { max: usize },
    #[error("This check was made for another purpose ({0}). Start a new check for this one.")]
    WrongPurpose(&'static str),
}

impl LiveFailure {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NonceExpired => "nonce_expired",
            Self::NonceUsed => "nonce_used",
            Self::UnknownNonce => "unknown_nonce",
            Self::UnknownProof => "unknown_proof",
            Self::NotCompleted => "challenge_not_completed",
            Self::WrongOrder => "wrong_order",
            Self::NoLiveMotion => "no_live_motion",
            Self::FaceChanged => "face_changed",
            Self::Replayed => "replayed",
            Self::Discontinuous => "discontinuous",
            Self::BadTimestamps => "bad_timestamps",
            Self::TooManyFrames { .. } => "too_many_frames",
            Self::WrongPurpose(_) => "wrong_purpose",
        }
    }
}

/// The answer to one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameReply {
    pub(crate) face: Option<FaceBox>,
    pub(crate) hint: Hint,
    pub(crate) progress: Progress,
    /// Every check has passed: the attempt is done.
    pub passed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Framing,
    Steps,
    Confirm,
    Passed,
}

/// Follows one step's signal: armed when it crosses the "out" threshold, complete when it
/// comes back. The hysteresis keeps landmark jitter around one threshold from counting.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StepTracker {
    step: Step,
    out: bool,
}

impl StepTracker {
    fn new(step: Step) -> Self {
        Self { step, out: false }
    }

    /// Feeds one frame; true when the movement has just been completed.
    fn update(&mut self, now: &FaceSignals, base: &FaceSignals, tuning: &Tuning) -> bool {
        let turn = now.yaw - base.yaw;
        let (crossed, back) = match self.step {
            Step::TurnLeft => (turn > tuning.turn_out, turn.abs() < tuning.turn_back),
            Step::TurnRight => (turn < -tuning.turn_out, turn.abs() < tuning.turn_back),
            Step::OpenMouth => {
                let opening = now.mouth - base.mouth;
                (opening > tuning.mouth_open, opening < tuning.mouth_closed)
            }
            Step::Blink => {
                // Eyes look narrower on a turned head: only frontal frames count.
                if turn.abs() > tuning.frontal_yaw || base.eyes <= 0.0 {
                    return false;
                }
                let ratio = now.eyes / base.eyes;
                (ratio < tuning.blink_closed, ratio > tuning.blink_open)
            }
        };
        if !self.out {
            self.out = crossed;
            false
        } else if back {
            self.out = false;
            true
        } else {
            false
        }
    }
}

/// One attempt's state. Feed frames in capture order with [`Verifier::on_frame`].
#[derive(Debug, Clone)]
pub struct Verifier {
    steps: Vec<Step>,
    tuning: Tuning,
    phase: Phase,
    framing: Vec<FaceSignals>,
    baseline: Option<FaceSignals>,
    reference: Option<Vec<(f64, f64)>>,
    current: usize,
    tracker: Option<StepTracker>,
    /// Every challenge step followed regardless of order, to tell "wrong order" from "not done".
    any_order: Vec<StepTracker>,
    seen_in_any_order: Vec<Step>,
    residuals: Vec<f64>,
    samples: Vec<(f64, Encoding)>,
    last_t: Option<f64>,
    first_t: Option<f64>,
    /// Time of the frame that completed the last step; the confirming sample must be later.
    steps_done_at: Option<f64>,
    /// The first frame's size: every frame must have it.
    frame_size: Option<(u32, u32)>,
    /// The last frame with landmarks, and its capture time: the next must continue it.
    last_face: Option<(f64, Vec<(f64, f64)>)>,
    /// Frames until the next sampled encoding (drawn by the server, see `sample_gap_frames`).
    frames_to_sample: u32,
    /// A step was just armed or completed: encode the next frame too.
    sample_next: bool,
    rng: StdRng,
}

impl Verifier {
    pub fn new(steps: Vec<Step>, tuning: Tuning) -> Self {
        Self::seeded(steps, tuning, rand::thread_rng().r#gen())
    }

    /// [`Verifier::new`] with a fixed seed for the sampling draws (tests, measurements).
    pub fn seeded(steps: Vec<Step>, tuning: Tuning, seed: u64) -> Self {
        let any_order = steps.iter().map(|&s| StepTracker::new(s)).collect();
        Self {
            steps,
            tuning,
            phase: Phase::Framing,
            framing: Vec::new(),
            baseline: None,
            reference: None,
            current: 0,
            tracker: None,
            any_order,
            seen_in_any_order: Vec::new(),
            residuals: Vec::new(),
            samples: Vec::new(),
            last_t: None,
            first_t: None,
            steps_done_at: None,
            frame_size: None,
            last_face: None,
            frames_to_sample: 0,
            sample_next: false,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Should the next frame be encoded? Decided before it is analysed (the encoder is the
    /// costly part), by the server alone: at random intervals of frames until the verdict, on
    /// the frame after a step was armed or completed, and whenever a phase needs an encoding.
    /// Nothing the client declares (such as capture times) moves the schedule.
    pub fn wants_encoding(&self) -> bool {
        match self.phase {
            Phase::Passed => false,
            Phase::Confirm => true,
            Phase::Framing if self.framing.len() + 1 >= self.tuning.framing_frames => true,
            _ => self.samples.is_empty() || self.sample_next || self.frames_to_sample == 0,
        }
    }

    /// Should the next frame be searched whole for faces (exactly one must be there), rather
    /// than followed in a window around the last face? On the frames the server's random
    /// schedule encodes and while there is no sample yet: as unpredictable to the client as the
    /// encodings. The frames after a step's turning points are encoded where the face is.
    pub fn wants_whole_frame(&self) -> bool {
        match self.phase {
            Phase::Passed => false,
            Phase::Confirm => true,
            Phase::Framing => self.wants_encoding(),
            _ => self.samples.is_empty() || self.frames_to_sample == 0,
        }
    }

    /// Capture-time span, in milliseconds, of the frames so far plus one captured at `t_ms`.
    pub fn span_until(&self, t_ms: f64) -> f64 {
        t_ms - self.first_t.unwrap_or(t_ms)
    }

    /// The encodings sampled so far (at different moments and poses).
    pub fn samples(&self) -> impl Iterator<Item = &Encoding> {
        self.samples.iter().map(|(_, e)| e)
    }

    pub fn progress(&self) -> Progress {
        let done = match self.phase {
            Phase::Framing => 0,
            Phase::Steps => 1 + self.current,
            Phase::Confirm | Phase::Passed => 1 + self.steps.len(),
        };
        Progress {
            done: done as u32,
            total: (1 + self.steps.len()) as u32,
        }
    }

    /// The 90th percentile of the non-rigid residuals seen so far (eye spans).
    pub fn non_rigid_motion(&self) -> f64 {
        percentile(&self.residuals, 0.9)
    }

    /// Judges one frame. An `Err` ends the attempt.
    pub fn on_frame(&mut self, t_ms: f64, observation: &FaceObservation) -> Result<FrameReply, LiveFailure> {
        if !t_ms.is_finite()
            || self
                .last_t
                .is_some_and(|last| t_ms < last + self.tuning.min_frame_gap_ms)
        {
            return Err(LiveFailure::BadTimestamps);
        }
        self.last_t = Some(t_ms);
        self.first_t.get_or_insert(t_ms);
        if self.phase == Phase::Passed {
            return Ok(self.reply(observation, hint("passed", "Done.")));
        }
        self.follow_the_view(t_ms, observation)?;

        self.frames_to_sample = self.frames_to_sample.saturating_sub(1);
        if let Some(encoding) = &observation.encoding {
            if let Some((_, first)) = self.samples.first()
                && first.distance(encoding) > self.tuning.same_person_max
            {
                return Err(LiveFailure::FaceChanged);
            }
            self.samples.push((t_ms, encoding.clone()));
            self.sample_next = false;
            self.frames_to_sample = self.rng.gen_range(1..=self.tuning.sample_gap_frames.max(1));
        }

        let (Some(points), Some(signals)) = (
            observation.landmarks.as_deref(),
            observation
                .landmarks
                .as_deref()
                .and_then(FaceSignals::from_landmarks),
        ) else {
            self.framing.clear();
            let issue = observation.issue.as_ref().unwrap_or(&FaceError::NoFace);
            return Ok(self.reply(observation, issue_hint(issue)));
        };
        if signals.eye_span < self.tuning.min_eye_span {
            self.framing.clear();
            return Ok(self.reply(observation, hint("move_closer", "Move closer to the camera.")));
        }
        if let Some(reference) = &self.reference
            && let Some(residual) = non_rigid_residual(reference, points)
        {
            self.residuals.push(residual);
        }

        let hint = match self.phase {
            Phase::Framing => self.frame_the_face(observation, signals, points),
            Phase::Steps => self.follow_steps(t_ms, observation, &signals),
            Phase::Confirm => self.confirm(t_ms, observation, &signals)?,
            Phase::Passed => hint("passed", "Done."),
        };
        Ok(self.reply(observation, hint))
    }

    /// One continuous view: the same frame size throughout, and a face that changes by no more
    /// than the continuity bounds allow between consecutive frames with landmarks.
    fn follow_the_view(&mut self, t_ms: f64, observation: &FaceObservation) -> Result<(), LiveFailure> {
        let size = (observation.frame_width, observation.frame_height);
        if *self.frame_size.get_or_insert(size) != size {
            return Err(LiveFailure::Discontinuous);
        }
        let Some(points) = observation.landmarks.as_deref() else {
            return Ok(());
        };
        let jumped = self.last_face.as_ref().is_some_and(|(before_t, before)| {
            FaceChange::between(before, points)
                .is_some_and(|change| !change.plausible(t_ms - before_t, &self.tuning.continuity))
        });
        self.last_face = Some((t_ms, points.to_vec()));
        match (jumped, self.phase) {
            (false, _) => Ok(()),
            // Nothing is established yet: a person settling in front of the camera starts over.
            (true, Phase::Framing) => {
                self.framing.clear();
                self.samples.clear();
                Ok(())
            }
            (true, _) => Err(LiveFailure::Discontinuous),
        }
    }

    /// The attempt ran out of frames or time: the most useful reason it did not pass.
    pub fn incomplete(&self) -> LiveFailure {
        let all_seen = self
            .steps
            .iter()
            .all(|step| self.seen_in_any_order.contains(step));
        if self.phase == Phase::Steps && all_seen {
            LiveFailure::WrongOrder
        } else if self.phase != Phase::Framing && self.non_rigid_motion() < self.tuning.non_rigid_floor {
            LiveFailure::NoLiveMotion
        } else {
            LiveFailure::NotCompleted
        }
    }

    fn frame_the_face(
        &mut self,
        observation: &FaceObservation,
        signals: FaceSignals,
        points: &[(f64, f64)],
    ) -> Hint {
        let frontal = signals.yaw.abs() <= self.tuning.frontal_yaw;
        match &observation.issue {
            Some(issue) => {
                self.framing.clear();
                return issue_hint(issue);
            }
            None if !frontal => {
                self.framing.clear();
                return hint("face_camera", "Look straight at the camera.");
            }
            None => self.framing.push(signals),
        }
        // The framing ends on a frame that also gave the first sampled encoding.
        if self.framing.len() < self.tuning.framing_frames || observation.encoding.is_none() {
            return hint("framing", "Hold still, looking at the camera…");
        }
        self.baseline = Some(median_signals(&self.framing));
        self.reference = Some(points.to_vec());
        self.phase = Phase::Steps;
        self.tracker = self.steps.first().map(|&s| StepTracker::new(s));
        self.step_hint()
    }

    fn follow_steps(&mut self, t_ms: f64, observation: &FaceObservation, signals: &FaceSignals) -> Hint {
        let Some(base) = self.baseline else {
            return hint("framing", "Hold still, looking at the camera…");
        };
        for tracker in &mut self.any_order {
            if tracker.update(signals, &base, &self.tuning) && !self.seen_in_any_order.contains(&tracker.step)
            {
                self.seen_in_any_order.push(tracker.step);
            }
        }
        let Some(tracker) = self.tracker.as_mut() else {
            return self.step_hint();
        };
        let was_out = tracker.out;
        let completed = tracker.update(signals, &base, &self.tuning);
        let (out, step) = (tracker.out, tracker.step);
        if completed || out != was_out {
            // The frames around a step's turning points must be the same person's.
            self.sample_next = true;
        }
        if completed {
            self.current += 1;
            self.tracker = self.steps.get(self.current).map(|&s| StepTracker::new(s));
            if self.tracker.is_none() {
                self.phase = Phase::Confirm;
                self.steps_done_at = Some(t_ms);
                return hint("checking", "Well done. Look at the camera…");
            }
            return self.step_hint();
        }
        // Lighting or distance problems still deserve a word; blur and turns are expected here.
        match &observation.issue {
            Some(
                issue @ (FaceError::TooDark { .. }
                | FaceError::TooBright { .. }
                | FaceError::FaceTooSmall { .. }),
            ) => issue_hint(issue),
            _ if out && matches!(step, Step::TurnLeft | Step::TurnRight) => {
                hint("look_back", "Now look back at the camera.")
            }
            _ => self.step_hint(),
        }
    }

    fn confirm(
        &mut self,
        t_ms: f64,
        observation: &FaceObservation,
        signals: &FaceSignals,
    ) -> Result<Hint, LiveFailure> {
        let after_steps = self.steps_done_at.is_some_and(|done| t_ms > done);
        let frontal = signals.yaw.abs() <= self.tuning.frontal_yaw;
        if !(after_steps && frontal && observation.encoding.is_some()) {
            return Ok(hint("checking", "Well done. Look at the camera…"));
        }
        if self.non_rigid_motion() < self.tuning.non_rigid_floor {
            return Err(LiveFailure::NoLiveMotion);
        }
        if self.samples.len() < self.tuning.min_samples {
            return Ok(hint("checking", "Well done. Look at the camera…"));
        }
        self.phase = Phase::Passed;
        Ok(hint("passed", "Done."))
    }

    fn step_hint(&self) -> Hint {
        match self.steps.get(self.current) {
            Some(step) => hint(step.code(), step.instruction()),
            None => hint("checking", "Well done. Look at the camera…"),
        }
    }

    fn reply(&self, observation: &FaceObservation, hint: Hint) -> FrameReply {
        FrameReply {
            face: observation.face,
            hint,
            progress: self.progress(),
            passed: self.phase == Phase::Passed,
        }
    }
}

fn hint(code: &str, message: &str) -> Hint {
    Hint {
        code: code.into(),
        message: message.into(),
    }
}

/// Guidance for what the face engine found wrong with a frame.
fn issue_hint(issue: &FaceError) -> Hint {
    match issue {
        FaceError::NoFace => hint("no_face", "No face found. Look at the camera in good light."),
        FaceError::MultipleFaces { .. } => hint("multiple_faces", "Only one person may be in the picture."),
        FaceError::FaceTooSmall { .. } => hint("move_closer", "Move closer to the camera."),
        FaceError::TooDark { .. } => hint(
            "more_light",
            "More light, please: turn on a light or face a window.",
        ),
        FaceError::TooBright { .. } => hint("less_light", "Too bright: move out of direct light."),
        FaceError::TooBlurry { .. } => hint("hold_still", "Hold still."),
        FaceError::FaceTurned { .. } => hint("face_camera", "Look straight at the camera."),
        other => hint("bad_frame", &other.to_string()),
    }
}

fn median_signals(frames: &[FaceSignals]) -> FaceSignals {
    let median = |f: fn(&FaceSignals) -> f64| {
        let values: Vec<f64> = frames.iter().map(f).collect();
        percentile(&values, 0.5)
    };
    FaceSignals {
        yaw: median(|s| s.yaw),
        eyes: median(|s| s.eyes),
        mouth: median(|s| s.mouth),
        eye_span: median(|s| s.eye_span),
    }
}

/// The `q` quantile (nearest rank) of `values`; 0 when empty.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::ENCODING_LEN;

    use crate::live::ssr::signals::test_face as face;

    fn turned_left() -> Vec<(f64, f64)> {
        let mut p = face();
        p[30].0 += 25.0;
        p
    }

    fn blinking() -> Vec<(f64, f64)> {
        let mut p = face();
        for i in [37, 38, 40, 41, 43, 44, 46, 47] {
            p[i].1 = 80.0;
        }
        p
    }

    fn mouth_open() -> Vec<(f64, f64)> {
        let mut p = face();
        p[66].1 += 20.0;
        p
    }

    fn person(x: f32) -> Encoding {
        let mut values = [0.0; ENCODING_LEN];
        values[0] = x;
        Encoding(values)
    }

    fn seen(landmarks: Vec<(f64, f64)>, who: f32) -> FaceObservation {
        FaceObservation {
            frame_width: 640,
            frame_height: 480,
            face: Some(crate::face::FaceBox {
                left: 20,
                top: 60,
                width: 160,
                height: 160,
            }),
            landmarks: Some(landmarks),
            pose: None,
            issue: None,
            encoding: Some(person(who)),
        }
    }

    /// Feeds frames 100 ms apart; the last reply, or the failure.
    fn run(steps: &[Step], frames: &[FaceObservation]) -> (Verifier, Result<FrameReply, LiveFailure>) {
        let mut verifier = Verifier::new(steps.to_vec(), Tuning::default());
        let mut last = Err(LiveFailure::NotCompleted);
        for (i, frame) in frames.iter().enumerate() {
            last = verifier.on_frame(i as f64 * 100.0, frame);
            if last.is_err() || last.as_ref().is_ok_and(|r| r.passed) {
                break;
            }
        }
        (verifier, last)
    }

    /// Frames: framing, a turn to the left and back, a blink, frontal again.
    fn turn_then_blink() -> Vec<FaceObservation> {
        let mut frames: Vec<_> = (0..3).map(|_| seen(face(), 0.0)).collect();
        frames.extend([
            seen(turned_left(), 0.0),
            seen(turned_left(), 0.01),
            seen(face(), 0.0),
        ]);
        frames.extend([
            seen(blinking(), 0.0),
            seen(face(), 0.02),
            seen(face(), 0.0),
            seen(face(), 0.01),
        ]);
        frames
    }

    #[test]
    fn the_steps_done_in_order_pass() {
        let (verifier, last) = run(&[Step::TurnLeft, Step::Blink], &turn_then_blink());
        let reply = last.expect("no failure");
        assert!(reply.passed, "{reply:?}");
        assert_eq!(reply.hint.code, "passed");
        assert_eq!(reply.progress, Progress { done: 3, total: 3 });
        assert!(verifier.samples().count() >= 3);
    }

    #[test]
    fn whole_frames_are_searched_on_the_random_schedule_only() {
        // Tells, before each frame, what the attempt would ask of the face engine.
        let mut verifier = Verifier::seeded(vec![Step::TurnLeft, Step::Blink], Tuning::default(), 7);
        let frames = turn_then_blink();
        let mut asked = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            asked.push((verifier.wants_whole_frame(), verifier.wants_encoding()));
            let mut frame = frame.clone();
            if !verifier.wants_encoding() {
                frame.encoding = None;
            }
            verifier.on_frame(i as f64 * 100.0, &frame).expect("no failure");
        }
        // Until the first sample every frame is searched whole (and encoded).
        assert_eq!(asked[0], (true, true), "{asked:?}");
        // A whole-frame search is always one of the encoded frames (the same unpredictable
        // draw)…
        assert!(asked.iter().all(|&(whole, encode)| !whole || encode), "{asked:?}");
        // …but the frame after a step was armed (the 4th turned left) is encoded where the face
        // already is.
        assert_eq!(asked[4], (false, true), "{asked:?}");
    }

    #[test]
    fn the_steps_done_in_the_wrong_order_fail() {
        let (verifier, last) = run(&[Step::Blink, Step::TurnLeft], &turn_then_blink());
        assert!(!last.expect("no failure yet").passed);
        assert_eq!(verifier.incomplete(), LiveFailure::WrongOrder);
    }

    #[test]
    fn a_movement_not_asked_for_does_not_count() {
        let mut frames: Vec<_> = (0..3).map(|_| seen(face(), 0.0)).collect();
        frames.extend([seen(mouth_open(), 0.0), seen(face(), 0.0), seen(face(), 0.0)]);
        let (verifier, last) = run(&[Step::TurnLeft], &frames);
        assert!(!last.expect("no failure").passed);
        assert_eq!(verifier.progress(), Progress { done: 1, total: 2 });
        assert_eq!(verifier.incomplete(), LiveFailure::NotCompleted);
    }

    #[test]
    fn another_face_part_way_fails() {
        let mut frames = turn_then_blink();
        frames[4] = seen(turned_left(), 0.9);
        let (_, last) = run(&[Step::TurnLeft, Step::Blink], &frames);
        assert_eq!(last.err(), Some(LiveFailure::FaceChanged));
    }

    #[test]
    fn capture_times_must_increase() {
        let mut verifier = Verifier::new(vec![Step::Blink], Tuning::default());
        assert!(verifier.on_frame(100.0, &seen(face(), 0.0)).is_ok());
        assert_eq!(
            verifier.on_frame(100.0, &seen(face(), 0.0)).err(),
            Some(LiveFailure::BadTimestamps)
        );
        assert_eq!(
            verifier.on_frame(f64::NAN, &seen(face(), 0.0)).err(),
            Some(LiveFailure::BadTimestamps)
        );
    }

    #[test]
    fn a_face_moved_only_as_a_whole_is_not_live() {
        // A photo: the same landmarks shifted, turned in the plane and zoomed, frame after frame.
        let moved = |k: f64| {
            let (s, c) = (0.05 * k).sin_cos();
            let zoom = 1.0 + 0.03 * k;
            face()
                .into_iter()
                .map(|(x, y)| (zoom * (c * x - s * y) + 4.0 * k, zoom * (s * x + c * y) - 2.0 * k))
                .collect::<Vec<_>>()
        };
        // Smoothly, back and forth (a jump would be refused as discontinuous).
        let frames: Vec<_> = (0..30)
            .map(|k| seen(moved(f64::from(5 - (k % 10 - 5i32).abs())), 0.0))
            .collect();
        let (verifier, last) = run(&[Step::TurnLeft, Step::Blink], &frames);
        assert!(!last.expect("no failure").passed);
        assert!(verifier.non_rigid_motion() < 1e-6);
        assert_eq!(verifier.incomplete(), LiveFailure::NoLiveMotion);
    }

    #[test]
    fn hints_say_what_to_fix() {
        let mut verifier = Verifier::new(vec![Step::OpenMouth], Tuning::default());
        let mut nobody = seen(face(), 0.0);
        nobody.landmarks = None;
        nobody.encoding = None;
        nobody.issue = Some(FaceError::NoFace);
        assert_eq!(
            verifier.on_frame(0.0, &nobody).expect("reply").hint.code,
            "no_face"
        );
        let far: Vec<_> = face().into_iter().map(|(x, y)| (x / 3.0, y / 3.0)).collect();
        assert_eq!(
            verifier
                .on_frame(100.0, &seen(far, 0.0))
                .expect("reply")
                .hint
                .code,
            "move_closer"
        );
        for t in [200.0, 300.0] {
            assert_eq!(
                verifier.on_frame(t, &seen(face(), 0.0)).expect("reply").hint.code,
                "framing"
            );
        }
        let reply = verifier.on_frame(400.0, &seen(face(), 0.0)).expect("reply");
        assert_eq!((reply.hint.code.as_str(), reply.progress.done), ("open_mouth", 1));
    }
}
