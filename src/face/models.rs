//! dlib's model files: checked for presence, then loaded once per face worker.

use std::path::{Path, PathBuf};

use dlib_face_recognition::{
    FaceDetector, FaceDetectorCnn, FaceDetectorTrait, FaceEncoderNetwork, LandmarkPredictor,
};

use super::DetectorKind;

pub const LANDMARKS_68: &str = "shape_predictor_68_face_landmarks.dat";
pub const ENCODER: &str = "dlib_face_recognition_resnet_model_v1.dat";
pub const CNN_DETECTOR: &str = "mmod_human_face_detector.dat";
/// The files every configuration needs; `scripts/fetch-models.sh` installs and checks them.
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
    #[error("the face workers could not start: {0}")]
    Workers(String),
}

/// One set of dlib models. `Send` but not `Sync`: each face worker owns its own.
pub struct Models {
    pub detector: Box<dyn FaceDetectorTrait + Send>,
    pub landmarks: LandmarkPredictor,
    pub encoder: FaceEncoderNetwork,
}

impl Models {
    pub fn load(dir: &Path, detector: DetectorKind) -> Result<Self, ModelError> {
        let existing = |file: &str| {
            let path = dir.join(file);
            if path.is_file() {
                Ok(path)
            } else {
                Err(ModelError::Missing(path))
            }
        };

        let landmarks_path = existing(LANDMARKS_68)?;
        let encoder_path = existing(ENCODER)?;
        let detector: Box<dyn FaceDetectorTrait + Send> = match detector {
            DetectorKind::Hog => Box::new(FaceDetector::new()),
            DetectorKind::Cnn => {
                let path = existing(CNN_DETECTOR)?;
                Box::new(FaceDetectorCnn::open(&path).map_err(|cause| ModelError::Corrupt {
                    path: path.clone(),
                    cause,
                })?)
            }
        };
        let landmarks = LandmarkPredictor::open(&landmarks_path).map_err(|cause| ModelError::Corrupt {
            path: landmarks_path.clone(),
            cause,
        })?;
        let encoder = FaceEncoderNetwork::open(&encoder_path).map_err(|cause| ModelError::Corrupt {
            path: encoder_path.clone(),
            cause,
        })?;
        Ok(Self {
            detector,
            landmarks,
            encoder,
        })
    }
}
