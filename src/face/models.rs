//! dlib's model files: checked for presence, then loaded once.

use std::path::{Path, PathBuf};

use dlib_face_recognition::{FaceDetector, FaceEncoderNetwork, LandmarkPredictor};

pub const LANDMARKS_68: &str = "shape_predictor_68_face_landmarks.dat";
pub const ENCODER: &str = "dlib_face_recognition_resnet_model_v1.dat";
/// The files the engine needs; `scripts/fetch-models.sh` installs and checks them.
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

/// One set of dlib models. `Send` but not `Sync`: each face worker owns its own.
pub struct Models {
    pub detector: FaceDetector,
    pub landmarks: LandmarkPredictor,
    pub encoder: FaceEncoderNetwork,
}

impl Models {
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        for file in MODEL_FILES {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ModelError::Missing(path));
            }
        }
        let path = dir.join(LANDMARKS_68);
        let landmarks =
            LandmarkPredictor::open(&path).map_err(|cause| ModelError::Corrupt { path, cause })?;
        let path = dir.join(ENCODER);
        let encoder = FaceEncoderNetwork::open(&path).map_err(|cause| ModelError::Corrupt { path, cause })?;
        Ok(Self {
            detector: FaceDetector::new(),
            landmarks,
            encoder,
        })
    }
}
