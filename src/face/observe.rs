//! A live frame as the liveness check needs it: where the face is, its 68 landmarks, what a
//! person should fix (as guidance, not a refusal), and — only when asked — its encoding. The
//! encoder is the expensive step (~17 ms), so the live check asks for it on a few frames only.

use super::detect::{FaceBox, FaceRect};
use super::quality::{self, FacePatch};
use super::{Encoding, FaceError, FacePipeline, Frame, HeadPose, ImageInput, estimate_pose};

/// SHA-256 of a decoded picture's size and pixels.
pub type PixelPrint = [u8; 32];

fn pixel_print(frame: &Frame) -> PixelPrint {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(frame.width().to_le_bytes());
    hash.update(frame.height().to_le_bytes());
    hash.update(frame.image().as_raw());
    hash.finalize().into()
}

/// What to do with one live frame beyond the guidance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    /// Where the face was in the previous frame: the detector searches a window around it, a
    /// fraction of the whole frame's cost. `None`: the whole frame is searched, and exactly one
    /// face must be in it (the live check asks for that on frames it draws at random).
    pub near: Option<FaceBox>,
    /// Compute the 128-d encoding (~17 ms), when the frame has no issue but a turned head.
    pub encode: bool,
}

impl Look {
    /// The whole frame, with or without the encoding.
    pub fn whole(encode: bool) -> Self {
        Self { near: None, encode }
    }
}

/// What one live frame shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceObservation {
    pub frame_width: u32,
    pub frame_height: u32,
    /// The face, when exactly one was found (clipped to the frame).
    pub face: Option<FaceBox>,
    /// Its 68 landmarks in frame pixels, when the face is large enough to place them reliably.
    pub landmarks: Option<Vec<(f64, f64)>>,
    pub pose: Option<HeadPose>,
    /// The first thing to fix, if any: no face, several, too small, lighting, blur, head turned.
    pub issue: Option<FaceError>,
    /// Only when requested and the frame has no issue other than a turned head.
    pub encoding: Option<Encoding>,
}

impl FaceObservation {
    fn empty(frame: &Frame, issue: FaceError) -> Self {
        Self {
            frame_width: frame.width(),
            frame_height: frame.height(),
            face: None,
            landmarks: None,
            pose: None,
            issue: Some(issue),
            encoding: None,
        }
    }
}

impl FacePipeline {
    /// Decodes and observes one live frame. Only a frame that cannot be read, or one dlib fails
    /// on, is an error.
    pub fn observe(&self, input: ImageInput, want_encoding: bool) -> Result<FaceObservation, FaceError> {
        let frame = self.decode(input)?;
        self.observe_frame(&frame, Look::whole(want_encoding))
    }

    /// [`FacePipeline::observe`], plus a fingerprint of the decoded pixels: the same picture
    /// sent in another wrapper (another data-URL label, raw base64, line breaks) has the same
    /// print, unlike the text or bytes as sent.
    pub fn observe_with_print(
        &self,
        input: ImageInput,
        look: Look,
    ) -> Result<(FaceObservation, PixelPrint), FaceError> {
        let frame = self.decode(input)?;
        let print = pixel_print(&frame);
        Ok((self.observe_frame(&frame, look)?, print))
    }

    pub fn observe_frame(&self, frame: &Frame, look: Look) -> Result<FaceObservation, FaceError> {
        let settings = self.settings();
        let near = match look.near {
            Some(near) => self.detect_near(frame, FaceRect::from_box(near))?,
            None => Vec::new(),
        };
        // Not in the window (it moved fast, or left): the whole frame.
        let faces = if near.is_empty() {
            self.detect(frame)?
        } else {
            near
        };
        let detected = match faces.as_slice() {
            [face] => *face,
            [] => {
                let issue = quality::check_lighting(quality::frame_brightness(frame.image()), settings)
                    .err()
                    .unwrap_or(FaceError::NoFace);
                return Ok(FaceObservation::empty(frame, issue));
            }
            _ => {
                return Ok(FaceObservation::empty(
                    frame,
                    FaceError::MultipleFaces { count: faces.len() },
                ));
            }
        };
        let Some(clipped) = detected.clipped(frame.width(), frame.height()) else {
            return Ok(FaceObservation::empty(frame, FaceError::NoFace));
        };
        let mut observation = FaceObservation::empty(frame, FaceError::NoFace);
        observation.face = Some(clipped.to_box());
        observation.issue = None;
        if let Err(too_small) = quality::check_size(detected.size(), settings) {
            observation.issue = Some(too_small);
            return Ok(observation);
        }
        let patch = FacePatch::cut(frame.image(), clipped.to_box());
        let lighting = quality::check_lighting(patch.brightness(), settings);
        let sharpness = quality::check_sharpness(patch.sharpness(), settings);

        let landmarks = self.landmarks(frame, &clipped)?;
        let points = landmarks.points();
        let pose = estimate_pose(&points);
        let turned = pose.and_then(|pose| quality::check_pose(pose, settings).err());
        observation.issue = lighting.err().or(sharpness.err()).or(turned);
        let encodable = matches!(observation.issue, None | Some(FaceError::FaceTurned { .. }));
        if look.encode && encodable {
            observation.encoding = Some(self.encode(frame, &landmarks)?);
        }
        observation.pose = pose;
        observation.landmarks = Some(points);
        Ok(observation)
    }
}
