//! The face engine: from "a JPEG/PNG frame arrived" to "this is a 128-number face encoding", and
//! the 1:N search over enrolled encodings. No web or database code here. The door is
//! [`FaceEngine`]; docs/face-engine.md explains the pipeline and the settings.

pub mod decode;
pub mod detect;
mod error;
pub mod matching;
mod models;
pub mod pipeline;
mod pool;
pub mod pose;
pub mod quality;
mod settings;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

pub use decode::ImageInput;
pub use detect::FaceBox;
pub use error::{FaceError, FaceErrorKind};
pub use matching::{Encoding, EncodingIndex, Match};
pub use models::{MODEL_FILES, ModelError, Models};
pub use pipeline::FaceAnalysis;
pub use quality::QualityReport;
pub use settings::{DetectorKind, FaceSettings, defaults};

/// The face engine: a pool of face workers with the models loaded once each. Cheap to clone.
#[derive(Clone)]
pub struct FaceEngine {
    inner: Arc<Inner>,
}

struct Inner {
    models_dir: PathBuf,
    settings: FaceSettings,
    pool: pool::WorkerPool,
}

impl FaceEngine {
    /// Loads the models into `settings.worker_count()` workers; fails naming the missing file.
    pub fn start(models_dir: &Path, settings: &FaceSettings) -> Result<Self, ModelError> {
        let pool = pool::WorkerPool::start(
            models_dir,
            settings.face_detector,
            settings.worker_count(),
            settings.face_queue,
        )?;
        tracing::info!(
            workers = pool.workers(),
            queue = settings.face_queue,
            "face workers ready"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                models_dir: models_dir.to_path_buf(),
                settings: settings.clone(),
                pool,
            }),
        })
    }

    /// Decodes, checks and encodes one picture on a face worker.
    pub async fn analyze(&self, image: ImageInput) -> Result<FaceAnalysis, FaceError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let settings = self.inner.settings.clone();
        self.inner.pool.submit(Box::new(move |models| {
            let _ = reply.send(pipeline::analyze(models, image, &settings));
        }))?;
        answer
            .await
            .map_err(|_| FaceError::Internal("the face job ended without an answer".into()))?
    }

    pub fn settings(&self) -> &FaceSettings {
        &self.inner.settings
    }

    pub fn models_loaded(&self) -> bool {
        self.inner.pool.alive() > 0
    }

    pub fn describe(&self) -> String {
        format!(
            "{} of {} face workers ready, models from {}",
            self.inner.pool.alive(),
            self.inner.pool.workers(),
            self.inner.models_dir.display()
        )
    }
}
