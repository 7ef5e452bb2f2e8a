//! The face engine: from "a JPEG/PNG frame arrived" to "this is a 128-number face encoding".
//! No web or database code here. Its one door is [`FaceEngine`].

mod models;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use models::{MODEL_FILES, ModelError, Models};

/// Face-engine settings; part of [`crate::config::Config`].
#[derive(clap::Args, Debug, Clone)]
pub struct FaceSettings {
    /// Largest Euclidean distance between two encodings still counted as the same person.
    /// 0.6 is dlib's operating point; lower is stricter (fewer false accepts, more retries).
    #[arg(long, env = "FACEGATE_MATCH_THRESHOLD", default_value_t = 0.6)]
    pub match_threshold: f64,
}

/// The face engine: models loaded once at start-up. Cheap to clone.
#[derive(Clone)]
pub struct FaceEngine {
    inner: Arc<Inner>,
}

struct Inner {
    models_dir: PathBuf,
    _models: std::sync::Mutex<Models>,
}

impl FaceEngine {
    pub fn start(models_dir: &Path, _settings: &FaceSettings) -> Result<Self, ModelError> {
        let models = Models::load(models_dir)?;
        Ok(Self {
            inner: Arc::new(Inner {
                models_dir: models_dir.to_path_buf(),
                _models: std::sync::Mutex::new(models),
            }),
        })
    }

    pub fn models_loaded(&self) -> bool {
        true
    }

    pub fn describe(&self) -> String {
        format!("dlib models from {}", self.inner.models_dir.display())
    }
}
