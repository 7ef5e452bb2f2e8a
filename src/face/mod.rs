//! The face engine: from "a JPEG/PNG frame arrived" to "this is a 128-number face encoding".
//! No web or database code here. Its one door is [`FaceEngine`]; [`matching`] searches the
//! encodings. docs/face-engine.md describes the pipeline and its settings.
//!
//! Modules, one job each: `decode` (bytes/base64 → pixels, with limits), `detect` (face boxes),
//! `quality` (size, lighting, blur checks), `pose` (yaw/pitch from landmarks), `encode`
//! (landmarks → 128-d), `pipeline` (the steps in order), `pool` (worker threads), `error`,
//! `blas` (which OpenBLAS kernels run the encoder).

mod blas;
mod decode;
mod detect;
mod encode;
mod encoding;
mod error;
mod frame;
pub mod matching;
mod models;
mod observe;
mod pipeline;
mod pool;
mod pose;
mod quality;
pub(crate) mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use blas::{openblas_core, reexec_if_slow};
pub use decode::{DecodeLimits, ImageInput, decode_image, image_dimensions};
pub use detect::{DetectOptions, FaceBox, FaceRect};
pub use encode::{LANDMARK_COUNT, Landmarks};
pub use encoding::{ENCODING_LEN, Encoding};
pub use error::{FaceError, FaceErrorKind};
pub use frame::Frame;
pub use matching::{EncodingIndex, Match};
pub use models::{CNN_DETECTOR, Detector, MODEL_FILES, ModelError, Models};
pub use observe::{FaceObservation, Look, PixelPrint};
pub use pipeline::{FaceAnalysis, FacePipeline};
pub use pose::{HeadPose, estimate_pose};
pub use quality::QualityReport;
pub use settings::{DetectorKind, FaceSettings, defaults};

use pool::{PoolError, WorkerPool};

/// The face engine: a fixed pool of worker threads, each with its own dlib models, behind a
/// bounded queue. Cheap to clone.
#[derive(Clone)]
pub struct FaceEngine {
    inner: Arc<Inner>,
}

struct Inner {
    models_dir: PathBuf,
    settings: FaceSettings,
    pool: WorkerPool<FacePipeline>,
}

impl FaceEngine {
    /// Starts the workers; each loads the models from `models_dir` (in parallel, ~0.5 s).
    pub fn start(models_dir: &Path, settings: &FaceSettings) -> Result<Self, ModelError> {
        let dir = models_dir.to_path_buf();
        let worker_settings = settings.clone();
        let pool = WorkerPool::start(
            "face-worker",
            settings.worker_count(),
            settings.face_queue,
            move || FacePipeline::load(&dir, &worker_settings),
        )?;
        tracing::info!(
            workers = pool.workers(),
            queue = pool.queue_capacity(),
            detector = ?settings.face_detector,
            openblas = %openblas_core(),
            openblas_threads = blas::openblas_threads(),
            tuned = blas::tuned_at_start().as_deref().unwrap_or("no"),
            "face engine started"
        );
        if let Some(advice) = blas::tuning_advice(pool.workers()) {
            tracing::warn!("{advice}");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                models_dir: models_dir.to_path_buf(),
                settings: settings.clone(),
                pool,
            }),
        })
    }

    /// Decodes, detects, checks and encodes one picture on a face worker. Returns
    /// [`FaceError::Busy`] at once when every worker is busy and the queue is full.
    pub async fn analyze(&self, image: ImageInput) -> Result<FaceAnalysis, FaceError> {
        self.run(move |pipeline| pipeline.analyze(image)).await
    }

    /// Observes one live frame (box, landmarks, guidance; the encoding only when asked) on a
    /// face worker. Same queueing as [`FaceEngine::analyze`].
    pub async fn observe(
        &self,
        image: ImageInput,
        want_encoding: bool,
    ) -> Result<FaceObservation, FaceError> {
        self.run(move |pipeline| pipeline.observe(image, want_encoding))
            .await
    }

    /// [`FaceEngine::observe`], plus the fingerprint of the decoded pixels (replay memory).
    pub async fn observe_with_print(
        &self,
        image: ImageInput,
        look: Look,
    ) -> Result<(FaceObservation, PixelPrint), FaceError> {
        self.run(move |pipeline| pipeline.observe_with_print(image, look))
            .await
    }

    /// Runs `job` with a face worker's pipeline, queued like [`FaceEngine::analyze`]: for tools
    /// and tests that need the steps one by one.
    pub async fn with_pipeline<R: Send + 'static>(
        &self,
        job: impl FnOnce(&FacePipeline) -> Result<R, FaceError> + Send + 'static,
    ) -> Result<R, FaceError> {
        self.run(move |pipeline| job(pipeline)).await
    }

    async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut FacePipeline) -> Result<R, FaceError> + Send + 'static,
    ) -> Result<R, FaceError> {
        match self.inner.pool.run(job).await {
            Ok(Err(FaceError::Engine(cause))) => {
                // Logged here, inside the request's span, for every caller (HTTP, live socket).
                tracing::error!(%cause, "the face engine failed on a picture; its worker carries on");
                Err(FaceError::Engine(cause))
            }
            Ok(result) => result,
            Err(PoolError::Busy) => Err(FaceError::Busy),
            Err(PoolError::Panicked(message)) => {
                tracing::error!(panic = %message, "face worker panicked; it reloaded its models");
                Err(FaceError::Engine(format!("face worker panicked: {message}")))
            }
            Err(PoolError::Stopped) => Err(FaceError::Internal("the face workers have stopped".into())),
        }
    }

    pub fn settings(&self) -> &FaceSettings {
        &self.inner.settings
    }

    /// Face worker threads started.
    pub fn workers(&self) -> usize {
        self.inner.pool.workers()
    }

    /// Pictures waiting for a worker now.
    pub fn queued(&self) -> usize {
        self.inner.pool.queued()
    }

    /// Whether at least one worker with loaded models is running.
    pub fn models_loaded(&self) -> bool {
        self.inner.pool.alive() > 0
    }

    pub fn describe(&self) -> String {
        let pool = &self.inner.pool;
        format!(
            "dlib {} detector, 68-point landmarks, ResNet encoder from {} (OpenBLAS {}); {} of {} workers running, queue {}",
            match self.inner.settings.face_detector {
                DetectorKind::Hog => "HOG",
                DetectorKind::Cnn => "CNN",
            },
            self.inner.models_dir.display(),
            openblas_core(),
            pool.alive(),
            pool.workers(),
            pool.queue_capacity()
        )
    }
}
