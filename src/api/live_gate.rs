//! What a live frame must pass before it reaches a face worker: a bounded rate per socket, and
//! the protocol's size (`live-max-frame-side`, read from the picture's header, never decoded).
//! The same size applies to the frames of an uploaded clip.

use std::time::Instant;

use crate::{
    error::AppError,
    face::{DecodeLimits, FaceError, ImageInput, image_dimensions},
    http::FrontDoorSettings,
    live::ClientFrame,
};

/// A frame's fate at the gate.
#[derive(Debug, PartialEq)]
pub enum Gate {
    /// On to the face worker.
    Pass,
    /// Faster than the rate: answered with a hint, not looked at.
    TooFast,
}

/// Why the gate ends a session: a code and the sentence for the person.
#[derive(Debug, PartialEq)]
pub struct Refused(pub &'static str, pub String);

/// One socket's gate: a token bucket of one second's frames, and the size limit.
pub struct FrameGate {
    fps: f64,
    tokens: f64,
    refilled_at: Instant,
    dropped: u32,
    limits: DecodeLimits,
}

impl FrameGate {
    pub fn new(settings: &FrontDoorSettings, max_image_bytes: usize) -> Self {
        let fps = f64::from(settings.live_max_fps);
        Self {
            fps,
            tokens: fps,
            refilled_at: Instant::now(),
            dropped: 0,
            limits: frame_limits(settings, max_image_bytes),
        }
    }

    /// Judges a frame that arrived `now`.
    pub fn check(&mut self, image: &ImageInput, now: Instant) -> Result<Gate, Refused> {
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.fps).min(self.fps);
        self.refilled_at = now;
        if self.tokens < 1.0 {
            self.dropped += 1;
            if f64::from(self.dropped) >= self.fps {
                return Err(Refused(
                    "too_fast",
                    format!(
                        "Frames arrived faster than {} a second, so the check was stopped. Send the next frame only after the answer to the last one.",
                        self.fps
                    ),
                ));
            }
            return Ok(Gate::TooFast);
        }
        self.tokens -= 1.0;
        check_size(image, self.limits).map_err(|error| Refused(error.code(), error.to_string()))?;
        Ok(Gate::Pass)
    }

    pub fn too_fast_message(&self) -> String {
        format!(
            "Frames are arriving faster than {} a second; this one was skipped. Send the next frame only after the answer to the last one.",
            self.fps
        )
    }
}

fn frame_limits(settings: &FrontDoorSettings, max_image_bytes: usize) -> DecodeLimits {
    DecodeLimits {
        max_bytes: max_image_bytes,
        max_side: settings.live_max_frame_side,
    }
}

/// Refuses a frame whose header says it is over the size limits. Other faults (damaged, not a
/// picture) are left to the face worker, which answers them as for any frame.
fn check_size(image: &ImageInput, limits: DecodeLimits) -> Result<(), FaceError> {
    match image_dimensions(image, limits) {
        Err(error @ (FaceError::TooManyPixels { .. } | FaceError::TooManyBytes { .. })) => Err(error),
        _ => Ok(()),
    }
}

/// Every frame of an uploaded clip within the live frame size (413 otherwise), before any is
/// decoded.
pub fn check_clip_frames(
    frames: &[ClientFrame],
    settings: &FrontDoorSettings,
    max_image_bytes: usize,
) -> Result<(), AppError> {
    let limits = frame_limits(settings, max_image_bytes);
    for frame in frames {
        // A copy of the text for the header read: cheap next to decoding the frames.
        let image = ImageInput::Text(frame.image.clone());
        check_size(&image, limits)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn jpeg(width: u32, height: u32) -> ImageInput {
        let image = image::RgbImage::new(width, height);
        let mut bytes = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image)
            .write_to(&mut bytes, image::ImageOutputFormat::Jpeg(50))
            .expect("encode");
        ImageInput::Bytes(bytes.into_inner())
    }

    #[test]
    fn frames_over_the_protocol_size_are_refused_from_the_header() {
        let settings = FrontDoorSettings::default();
        let mut gate = FrameGate::new(&settings, 6 << 20);
        let now = Instant::now();
        assert_eq!(gate.check(&jpeg(640, 480), now), Ok(Gate::Pass));
        let refused = gate.check(&jpeg(641, 100), now).expect_err("too wide");
        assert_eq!(refused.0, "image_dimensions_too_large");
        assert!(
            refused.1.contains("641×100") && refused.1.contains("640"),
            "{}",
            refused.1
        );
        // Not a picture: left to the face worker's usual answer.
        assert_eq!(
            gate.check(&ImageInput::Bytes(b"nonsense".to_vec()), now),
            Ok(Gate::Pass)
        );
    }

    #[test]
    fn frames_faster_than_the_rate_are_skipped_then_end_the_session() {
        let settings = FrontDoorSettings {
            live_max_fps: 4,
            ..FrontDoorSettings::default()
        };
        let mut gate = FrameGate::new(&settings, 6 << 20);
        let frame = jpeg(32, 32);
        let start = Instant::now();
        // One second's worth at once is fine (a burst after a slow answer).
        for _ in 0..4 {
            assert_eq!(gate.check(&frame, start), Ok(Gate::Pass));
        }
        assert_eq!(gate.check(&frame, start), Ok(Gate::TooFast));
        // At the rate, frames pass again.
        let later = start + Duration::from_millis(250);
        assert_eq!(gate.check(&frame, later), Ok(Gate::Pass));
        for _ in 0..2 {
            assert_eq!(gate.check(&frame, later), Ok(Gate::TooFast));
        }
        let refused = gate.check(&frame, later).expect_err("a second's worth skipped");
        assert_eq!(refused.0, "too_fast");
    }
}
