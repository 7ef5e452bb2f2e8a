//! One face worker's whole job, in order: decode → detect → one face? → size → lighting →
//! sharpness → landmarks → pose → encode. The cheap checks run first, so a refused picture costs
//! little. Synchronous; [`super::FaceEngine`] runs it on the worker pool.

use std::path::Path;

use super::decode::{DecodeLimits, decode_image};
use super::detect::{DetectOptions, FaceBox, FaceRect, detect_faces, detect_near};
use super::encode::{Landmarks, encode_face, predict_landmarks};
use super::quality::{self, FacePatch, QualityReport};
use super::{Encoding, FaceError, FaceSettings, Frame, ImageInput, ModelError, Models, estimate_pose};

/// An accepted face.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceAnalysis {
    pub encoding: Encoding,
    /// Where the face is, in pixels of the original picture (clipped to it).
    pub(crate) face: FaceBox,
    pub quality: QualityReport,
}

/// dlib's models with the settings that drive them. Not `Sync`: one per thread.
pub struct FacePipeline {
    models: Models,
    settings: FaceSettings,
}

impl FacePipeline {
    pub fn load(models_dir: &Path, settings: &FaceSettings) -> Result<Self, ModelError> {
        Ok(Self {
            models: Models::load_with(models_dir, settings.face_detector)?,
            settings: settings.clone(),
        })
    }

    pub fn settings(&self) -> &FaceSettings {
        &self.settings
    }

    /// Everything: a picture in, an encoding or the reason for refusing it out.
    pub fn analyze(&self, input: ImageInput) -> Result<FaceAnalysis, FaceError> {
        let frame = self.decode(input)?;
        self.analyze_frame(&frame)
    }

    pub fn analyze_frame(&self, frame: &Frame) -> Result<FaceAnalysis, FaceError> {
        let settings = &self.settings;
        let detected = self.single_face(frame)?;
        let face = detected
            .clipped(frame.width(), frame.height())
            .ok_or(FaceError::NoFace)?;
        let face_size = detected.size();
        quality::check_size(face_size, settings)?;

        let patch = FacePatch::cut(frame.image(), face.to_box());
        let brightness = patch.brightness();
        quality::check_lighting(brightness, settings)?;
        let sharpness = patch.sharpness();
        quality::check_sharpness(sharpness, settings)?;

        // The clipped box, as face_recognition passes it: keeps our encodings comparable.
        let landmarks = self.landmarks(frame, &face)?;
        let pose = estimate_pose(&landmarks.points())
            .ok_or_else(|| FaceError::Internal("no head pose from the landmarks".into()))?;
        quality::check_pose(pose, settings)?;

        let encoding = self.encode(frame, &landmarks)?;
        Ok(FaceAnalysis {
            encoding,
            face: face.to_box(),
            quality: QualityReport {
                face_size,
                brightness,
                sharpness,
                yaw_degrees: pose.yaw_degrees,
                pitch_degrees: pose.pitch_degrees,
            },
        })
    }

    /// Step 1: bytes or base64 to pixels, within the size limits.
    pub fn decode(&self, input: ImageInput) -> Result<Frame, FaceError> {
        let limits = DecodeLimits {
            max_bytes: self.settings.max_image_bytes,
            max_side: self.settings.max_image_side,
        };
        crate::metrics::time_stage("decode", || decode_image(input, limits).and_then(Frame::new))
    }

    /// Step 2: every face the detector finds, largest first, in original-picture pixels.
    /// Like every step that calls dlib, fails with [`FaceError::Engine`] when dlib throws.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<FaceRect>, FaceError> {
        let options = DetectOptions {
            max_side: self.settings.detect_max_side,
            retry: self.settings.detect_retry,
        };
        self.detect_with(frame, options)
    }

    /// Step 2 with other detection options than the settings' (measurements, tools).
    pub fn detect_with(&self, frame: &Frame, options: DetectOptions) -> Result<Vec<FaceRect>, FaceError> {
        crate::metrics::time_stage("detect", || detect_faces(&self.models.detector, frame, options))
    }

    /// Step 2 for a live frame whose previous frame showed the face at `near`: the faces in a
    /// window around it. Empty when the face left the window.
    pub fn detect_near(&self, frame: &Frame, near: FaceRect) -> Result<Vec<FaceRect>, FaceError> {
        crate::metrics::time_stage("detect_near", || detect_near(&self.models.detector, frame, near))
    }

    /// Step 3: the 68 landmarks of the face in `face`.
    pub fn landmarks(&self, frame: &Frame, face: &FaceRect) -> Result<Landmarks, FaceError> {
        crate::metrics::time_stage("landmarks", || {
            predict_landmarks(&self.models.landmarks, frame, face)
        })
    }

    /// Step 4: the 128-d encoding of the face those landmarks outline.
    pub fn encode(&self, frame: &Frame, landmarks: &Landmarks) -> Result<Encoding, FaceError> {
        crate::metrics::time_stage("encode", || encode_face(&self.models.encoder, frame, landmarks))
    }

    /// Exactly one face, or the reason there is not; "no face" in a very dark or bright frame
    /// is reported as a lighting problem, which says what to fix.
    fn single_face(&self, frame: &Frame) -> Result<FaceRect, FaceError> {
        let faces = self.detect(frame)?;
        match faces.as_slice() {
            [face] => Ok(*face),
            [] => {
                quality::check_lighting(quality::frame_brightness(frame.image()), &self.settings)?;
                Err(FaceError::NoFace)
            }
            _ => Err(FaceError::MultipleFaces { count: faces.len() }),
        }
    }
}
