//! From a face box to the 128-d encoding: dlib's 68-point shape predictor places the landmarks,
//! then the ResNet encodes the 150×150 face chip those landmarks align (one jitter, as
//! face_recognition does by default).

use dlib_face_recognition::{
    FaceEncoderNetwork, FaceEncoderTrait, FaceLandmarks, LandmarkPredictor, LandmarkPredictorTrait,
};

use super::{ENCODING_LEN, Encoding, FaceError, FaceRect, Frame};

/// The 68-point predictor's output count; dlib's chip alignment accepts only 68 or 5 points.
pub const LANDMARK_COUNT: usize = 68;

/// The landmarks of one face, in pixels of the original picture. The default has no points:
/// what dlib's encoder refuses by throwing (the tests feed it to check that this is an error for
/// that one picture, not a crash).
#[derive(Default)]
pub struct Landmarks(FaceLandmarks);

impl Landmarks {
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.0.iter().map(|p| (p.x() as f64, p.y() as f64)).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub fn predict_landmarks(
    predictor: &LandmarkPredictor,
    frame: &Frame,
    face: &FaceRect,
) -> Result<Landmarks, FaceError> {
    predictor
        .try_face_landmarks(frame.matrix(), &face.to_dlib())
        .map(Landmarks)
        .map_err(|e| FaceError::dlib("landmark prediction", e))
}

pub fn encode_face(
    encoder: &FaceEncoderNetwork,
    frame: &Frame,
    landmarks: &Landmarks,
) -> Result<Encoding, FaceError> {
    // Anything but 68 (or 5) points makes dlib throw: an Engine error for this picture.
    let encodings = encoder
        .try_get_face_encodings(frame.matrix(), std::slice::from_ref(&landmarks.0), 1)
        .map_err(|e| FaceError::dlib("encoding", e))?;
    let values = encodings
        .first()
        .map(|encoding| encoding.as_ref())
        .filter(|values| values.len() == ENCODING_LEN)
        .ok_or_else(|| FaceError::Internal("the encoder returned no 128-d encoding".into()))?;
    // dlib computes in f32 and widens to f64 for the API: narrowing back loses nothing.
    let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    Encoding::from_slice(&values)
        .ok_or_else(|| FaceError::Internal("the encoder returned a non-finite number".into()))
}
