//! dlib's model files: checked for presence, then loaded once per face worker.

use std::path::{Path, PathBuf};

use dlib_face_recognition::{
    FaceDetector, FaceDetectorCnn, FaceDetectorTrait, FaceEncoderNetwork, FaceLocations, ImageMatrix,
    LandmarkPredictor,
};

use super::DetectorKind;

pub const LANDMARKS_68: &str = "shape_predictor_68_face_landmarks.dat";
pub const ENCODER: &str = "dlib_face_recognition_resnet_model_v1.dat";
/// Only needed with `--face-detector cnn`.
pub const CNN_DETECTOR: &str = "mmod_human_face_detector.dat";
/// The files the engine always needs; `scripts/fetch-models.sh` installs and checks them.
pub const MODEL_FILES: [&str; 2] = [LANDMARKS_68, ENCODER];

/// Why the models could not be loaded, with the command that fixes it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "model file {0} is missing; run `make models` (scripts/fetch-models.sh) to install dlib's models"
    )]
    Missing(PathBuf),
    #[error(
        "model file {path} could not be loaded ({cause}); it may be corrupt: delete it and run `make models`"
    )]
    Corrupt { path: PathBuf, cause: String },
}

/// The face detector in use.
pub enum Detector {
    Hog(FaceDetector),
    /// Boxed: the network object is ~1 KB, the HOG detector ~0.2 KB.
    Cnn(Box<FaceDetectorCnn>),
}

impl Detector {
    /// The faces in `image`; `Err` is the message of a C++ exception dlib threw.
    pub fn face_locations(&self, image: &ImageMatrix) -> Result<FaceLocations, String> {
        match self {
            Self::Hog(detector) => detector.try_face_locations(image),
            Self::Cnn(detector) => detector.try_face_locations(image),
        }
    }
}

/// One set of dlib models. `Send` but not `Sync`: each face worker owns its own.
pub struct Models {
    pub detector: Detector,
    pub landmarks: LandmarkPredictor,
    pub encoder: FaceEncoderNetwork,
}

impl Models {
    /// The HOG detector, the 68-point landmark predictor and the encoder.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        Self::load_with(dir, DetectorKind::Hog)
    }

    pub fn load_with(dir: &Path, detector: DetectorKind) -> Result<Self, ModelError> {
        let cnn = (detector == DetectorKind::Cnn).then_some(CNN_DETECTOR);
        // Check every file first, so a fresh checkout names the first missing one at once.
        for file in MODEL_FILES.into_iter().chain(cnn) {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ModelError::Missing(path));
            }
        }
        let landmarks = open(dir, LANDMARKS_68, LandmarkPredictor::open)?;
        let encoder = open(dir, ENCODER, FaceEncoderNetwork::open)?;
        let detector = match cnn {
            Some(file) => Detector::Cnn(Box::new(open(dir, file, FaceDetectorCnn::open)?)),
            None => Detector::Hog(FaceDetector::new()),
        };
        Ok(Self {
            detector,
            landmarks,
            encoder,
        })
    }
}

fn open<T>(dir: &Path, file: &str, open: fn(PathBuf) -> Result<T, String>) -> Result<T, ModelError> {
    let path = dir.join(file);
    open(path.clone()).map_err(|cause| ModelError::Corrupt { path, cause })
}
