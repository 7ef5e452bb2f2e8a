//! The face engine's settings: a `clap::Args` block flattened into [`crate::config::Config`], so
//! each one is a flag, a `FACEGATE_*` variable and a key of the `[facegate]` table of Leptos.toml.
//! docs/face-engine.md explains how the defaults were chosen.

use clap::ArgAction;

/// The defaults, shared by the clap attributes and [`FaceSettings::default`].
pub mod defaults {
    pub(crate) const MATCH_THRESHOLD: f64 = 0.6;
    /// docs/live.md, "A safer login decision".
    pub(crate) const MATCH_MARGIN: f64 = 0.05;
    pub(crate) const FACE_WORKERS: usize = 0;
    pub(crate) const FACE_QUEUE: usize = 8;
    /// 6 MiB: its base64 (8 MiB) still fits the default request-body limit.
    pub(crate) const MAX_IMAGE_BYTES: usize = 6 * 1024 * 1024;
    pub(crate) const MAX_IMAGE_SIDE: u32 = 4096;
    pub(crate) const DETECT_MAX_SIDE: u32 = 320;
    pub(crate) const DETECT_RETRY: bool = true;
    pub(crate) const MIN_FACE_SIZE: u32 = 64;
    pub(crate) const MIN_BRIGHTNESS: f64 = 40.0;
    pub(crate) const MAX_BRIGHTNESS: f64 = 215.0;
    pub(crate) const MIN_SHARPNESS: f64 = 2.0;
    pub(crate) const MAX_YAW_DEGREES: f64 = 40.0;
    pub(crate) const MAX_PITCH_DEGREES: f64 = 45.0;
}

/// The safe ranges of the matching settings (docs/face-engine.md, "Safe ranges"); start-up
/// refuses anything outside them.
pub(crate) mod safe_range {
    use std::ops::RangeInclusive;
    /// Above 0.6, dlib's published operating point (99.38 % on LFW), false matches rise fast;
    /// below 0.35 many genuine logins fail (same-person distances measured here: 0.24-0.43).
    pub const MATCH_THRESHOLD: RangeInclusive<f64> = 0.35..=0.6;
    /// 0 turns the ambiguity check off; above 0.2 a genuine login is refused as ambiguous as
    /// soon as a look-alike is enrolled.
    pub const MATCH_MARGIN: RangeInclusive<f64> = 0.0..=0.2;
}

/// Which dlib face detector finds the face.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectorKind {
    /// HOG + linear SVM: fast on a CPU (~10 ms at the default working size), frontal faces.
    #[default]
    Hog,
    /// dlib's MMOD CNN (models/mmod_human_face_detector.dat): finds more angled faces but costs
    /// 2-3 µs per pixel of the working copy (~0.4 s at 480×360) on a CPU.
    Cnn,
}

/// Face-engine settings; part of [`crate::config::Config`].
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct FaceSettings {
    /// Largest Euclidean distance between two encodings still counted as the same person.
    /// 0.6 is dlib's operating point; lower is stricter (fewer false accepts, more retries).
    /// Accepted: 0.35-0.6 (docs/face-engine.md, "Safe ranges").
    #[arg(long, env = "FACEGATE_MATCH_THRESHOLD", default_value_t = defaults::MATCH_THRESHOLD)]
    pub match_threshold: f64,

    /// A login is accepted only when every other enrolled person is farther than the best match
    /// by at least this much; closer calls are refused as ambiguous. Accepted: 0-0.2.
    #[arg(long, env = "FACEGATE_MATCH_MARGIN", default_value_t = defaults::MATCH_MARGIN)]
    pub match_margin: f64,

    /// Face worker threads, each with its own copy of dlib's models (~120 MB). 0 = one per CPU core.
    #[arg(long, env = "FACEGATE_FACE_WORKERS", default_value_t = defaults::FACE_WORKERS)]
    pub face_workers: usize,

    /// Pictures allowed to wait for a free face worker. When that many wait, further requests are
    /// refused at once as busy (HTTP 503) instead of piling up. 0 = only when a worker is idle.
    #[arg(long, env = "FACEGATE_FACE_QUEUE", default_value_t = defaults::FACE_QUEUE)]
    pub face_queue: usize,

    /// Largest picture accepted, in bytes of the encoded file (after base64 decoding).
    #[arg(long, env = "FACEGATE_MAX_IMAGE_BYTES", default_value_t = defaults::MAX_IMAGE_BYTES)]
    pub max_image_bytes: usize,

    /// Largest picture accepted, in pixels per side; checked from the file header before decoding.
    #[arg(long, env = "FACEGATE_MAX_IMAGE_SIDE", default_value_t = defaults::MAX_IMAGE_SIDE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_image_side: u32,

    /// Face detector: `hog` (fast, default) or `cnn` (slow on a CPU; needs the mmod model file).
    #[arg(long, env = "FACEGATE_FACE_DETECTOR", value_enum, default_value_t = DetectorKind::Hog)]
    pub face_detector: DetectorKind,

    /// Longest side, in pixels, of the copy the detector searches; larger frames are scaled down
    /// first (faster), boxes are scaled back. Faces narrower than ~80 px in that copy are missed.
    #[arg(long, env = "FACEGATE_DETECT_MAX_SIDE", default_value_t = defaults::DETECT_MAX_SIDE,
          value_parser = clap::value_parser!(u32).range(80..))]
    pub detect_max_side: u32,

    /// When no face is found, search once more at twice the scale (small frames: upscaled 2×).
    /// Finds faces that are far from the camera, so the answer is "move closer", not "no face".
    #[arg(long, env = "FACEGATE_DETECT_RETRY", default_value_t = defaults::DETECT_RETRY,
          action = ArgAction::Set)]
    pub detect_retry: bool,

    /// Smallest face accepted: side of the detector's box, in pixels of the original picture.
    #[arg(long, env = "FACEGATE_MIN_FACE_SIZE", default_value_t = defaults::MIN_FACE_SIZE)]
    pub min_face_size: u32,

    /// Darkest face accepted: mean grey level (0-255) inside the face box.
    #[arg(long, env = "FACEGATE_MIN_BRIGHTNESS", default_value_t = defaults::MIN_BRIGHTNESS)]
    pub min_brightness: f64,

    /// Brightest face accepted: mean grey level (0-255) inside the face box.
    #[arg(long, env = "FACEGATE_MAX_BRIGHTNESS", default_value_t = defaults::MAX_BRIGHTNESS)]
    pub max_brightness: f64,

    /// Blurriest face accepted: variance of the Laplacian of the face (scaled to 100 px) in
    /// percent of the variance of its grey levels. Sharp webcam faces measure 4-20.
    #[arg(long, env = "FACEGATE_MIN_SHARPNESS", default_value_t = defaults::MIN_SHARPNESS)]
    pub min_sharpness: f64,

    /// Largest head turn to the side accepted, in degrees (estimated from the 68 landmarks).
    #[arg(long, env = "FACEGATE_MAX_YAW_DEGREES", default_value_t = defaults::MAX_YAW_DEGREES)]
    pub max_yaw_degrees: f64,

    /// Largest head tilt up or down accepted, in degrees (estimated from the 68 landmarks).
    #[arg(long, env = "FACEGATE_MAX_PITCH_DEGREES", default_value_t = defaults::MAX_PITCH_DEGREES)]
    pub max_pitch_degrees: f64,
}

fn check_range(
    setting: &str,
    value: f64,
    range: &std::ops::RangeInclusive<f64>,
    why: &str,
) -> Result<(), String> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(format!(
        "{setting} is {value}, outside its safe range {}-{}: {why}",
        range.start(),
        range.end()
    ))
}

impl Default for FaceSettings {
    /// The documented defaults, ignoring the environment (tests, benches, tools).
    fn default() -> Self {
        Self {
            match_threshold: defaults::MATCH_THRESHOLD,
            match_margin: defaults::MATCH_MARGIN,
            face_workers: defaults::FACE_WORKERS,
            face_queue: defaults::FACE_QUEUE,
            max_image_bytes: defaults::MAX_IMAGE_BYTES,
            max_image_side: defaults::MAX_IMAGE_SIDE,
            face_detector: DetectorKind::Hog,
            detect_max_side: defaults::DETECT_MAX_SIDE,
            detect_retry: defaults::DETECT_RETRY,
            min_face_size: defaults::MIN_FACE_SIZE,
            min_brightness: defaults::MIN_BRIGHTNESS,
            max_brightness: defaults::MAX_BRIGHTNESS,
            min_sharpness: defaults::MIN_SHARPNESS,
            max_yaw_degrees: defaults::MAX_YAW_DEGREES,
            max_pitch_degrees: defaults::MAX_PITCH_DEGREES,
        }
    }
}

impl FaceSettings {
    /// Refuses matching settings outside their safe ranges, naming the setting, the range and
    /// why. Called at start-up, like the liveness settings' check.
    pub fn validate(&self) -> Result<(), String> {
        check_range(
            "match-threshold (FACEGATE_MATCH_THRESHOLD)",
            self.match_threshold,
            &safe_range::MATCH_THRESHOLD,
            "above 0.6 (dlib's published operating point) strangers are accepted as each other far more often; below 0.35 many genuine logins fail (same-person distances measured here reach 0.43)",
        )?;
        check_range(
            "match-margin (FACEGATE_MATCH_MARGIN)",
            self.match_margin,
            &safe_range::MATCH_MARGIN,
            "a negative margin accepts a face closer to someone else, and above 0.2 genuine logins are refused as ambiguous as soon as a similar-looking person is enrolled",
        )
    }

    /// The number of face workers to start: the setting, or one per CPU core when it is 0.
    pub fn worker_count(&self) -> usize {
        match self.face_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    fn parse(args: &[&str]) -> FaceSettings {
        let command = FaceSettings::augment_args(clap::Command::new("t"));
        let matches = command.try_get_matches_from(args).expect("valid flags");
        FaceSettings::from_arg_matches(&matches).expect("settings")
    }

    #[test]
    fn clap_defaults_equal_default_impl() {
        // Holds as long as no FACEGATE_* face variable is set in the test environment.
        assert_eq!(parse(&["t"]), FaceSettings::default());
    }

    #[test]
    fn matching_settings_are_accepted_up_to_each_bound_and_refused_beyond() {
        let with = |match_threshold, match_margin| FaceSettings {
            match_threshold,
            match_margin,
            ..FaceSettings::default()
        };
        FaceSettings::default().validate().expect("defaults are safe");
        for (threshold, margin) in [(0.35, 0.05), (0.6, 0.05), (0.5, 0.0), (0.5, 0.2)] {
            with(threshold, margin)
                .validate()
                .unwrap_or_else(|e| panic!("{threshold}/{margin}: {e}"));
        }
        for (threshold, margin, named) in [
            (
                0.3499,
                0.05,
                "match-threshold (FACEGATE_MATCH_THRESHOLD) is 0.3499, outside its safe range 0.35-0.6",
            ),
            (
                0.6001,
                0.05,
                "match-threshold (FACEGATE_MATCH_THRESHOLD) is 0.6001, outside its safe range 0.35-0.6",
            ),
            (f64::NAN, 0.05, "match-threshold"),
            (
                0.5,
                -0.01,
                "match-margin (FACEGATE_MATCH_MARGIN) is -0.01, outside its safe range 0-0.2",
            ),
            (
                0.5,
                0.2001,
                "match-margin (FACEGATE_MATCH_MARGIN) is 0.2001, outside its safe range 0-0.2",
            ),
        ] {
            let error = with(threshold, margin).validate().expect_err("out of range");
            assert!(error.starts_with(named), "{error}");
        }
        let error = with(0.7, 0.05).validate().expect_err("too lax");
        assert!(error.contains("dlib's published operating point"), "{error}");
    }

    #[test]
    fn flags_override_and_booleans_take_values() {
        let settings = parse(&[
            "t",
            "--detect-retry",
            "false",
            "--face-detector",
            "cnn",
            "--face-workers",
            "3",
        ]);
        assert!(!settings.detect_retry);
        assert_eq!(settings.face_detector, DetectorKind::Cnn);
        assert_eq!(settings.worker_count(), 3);
    }
}
