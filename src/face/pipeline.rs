//! One picture through the engine: decode → detect → check → landmarks → pose → encode.
//! Runs on a face worker thread, never on the async runtime.

use dlib_face_recognition::{FaceEncoderTrait, ImageMatrix, LandmarkPredictorTrait};
use image::RgbImage;

use super::{
    Encoding, FaceBox, FaceError, FaceSettings, ImageInput, Models, QualityReport, decode, detect, quality,
};

/// An accepted face.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceAnalysis {
    pub encoding: Encoding,
    /// Where the face is, in pixels of the picture as sent.
    pub face: FaceBox,
    pub quality: QualityReport,
}

pub fn analyze(
    models: &mut Models,
    input: ImageInput,
    settings: &FaceSettings,
) -> Result<FaceAnalysis, FaceError> {
    let bytes = decode::into_bytes(input, settings.max_image_bytes)?;
    let image = decode::decode_image(&bytes, settings.max_image_side)?;
    analyze_image(models, &image, settings)
}

pub fn analyze_image(
    models: &mut Models,
    image: &RgbImage,
    settings: &FaceSettings,
) -> Result<FaceAnalysis, FaceError> {
    let faces = detect::find_faces(models.detector.as_ref(), image, settings);
    let face = match faces.as_slice() {
        [] => return Err(FaceError::NoFace),
        [face] => *face,
        many => return Err(FaceError::MultipleFaces { count: many.len() }),
    };
    let report = quality::check_face(image, &face, settings)?;
    let matrix = ImageMatrix::from_image(image);
    let landmarks = models.landmarks.face_landmarks(&matrix, &face.to_rectangle());
    let report = quality::check_pose(&landmarks, report, settings)?;
    let encodings = models.encoder.get_face_encodings(&matrix, &[landmarks], 0);
    let encoding = encodings
        .first()
        .and_then(|e| Encoding::from_f64(e.as_ref()))
        .ok_or_else(|| FaceError::Internal("the encoder returned no 128-d encoding".into()))?;
    Ok(FaceAnalysis {
        encoding,
        face,
        quality: report,
    })
}
