//! The face workers: a fixed set of threads, each owning its own dlib models (dlib's detector and
//! encoder are `Send` but not `Sync`), fed through a bounded queue. When the queue is full a new
//! job is refused at once with `Busy` — the server answers 503 instead of building a backlog.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use crossbeam_channel::{Sender, TrySendError};

use super::{DetectorKind, FaceError, ModelError, Models};

type Job = Box<dyn FnOnce(&mut Models) + Send>;

pub struct WorkerPool {
    jobs: Sender<Job>,
    alive: Arc<AtomicUsize>,
    workers: usize,
}

impl WorkerPool {
    /// Starts `workers` threads, each loading its own models (in parallel), and waits until all
    /// are ready. `queue` jobs may wait; 0 means a job is accepted only by an idle worker.
    pub fn start(
        models_dir: &Path,
        detector: DetectorKind,
        workers: usize,
        queue: usize,
    ) -> Result<Self, ModelError> {
        let workers = workers.max(1);
        let (jobs, inbox) = crossbeam_channel::bounded::<Job>(queue);
        let alive = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<(), ModelError>>(workers);
        for index in 0..workers {
            let inbox = inbox.clone();
            let ready = ready_tx.clone();
            let alive = Arc::clone(&alive);
            let dir = models_dir.to_path_buf();
            std::thread::Builder::new()
                .name(format!("face-worker-{index}"))
                .spawn(move || {
                    let mut models = match Models::load(&dir, detector) {
                        Ok(models) => models,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    alive.fetch_add(1, Ordering::SeqCst);
                    let _ = ready.send(Ok(()));
                    while let Ok(job) = inbox.recv() {
                        // A panic inside one job must not take the worker (and its models) down.
                        if catch_unwind(AssertUnwindSafe(|| job(&mut models))).is_err() {
                            tracing::error!("a face job panicked; the worker goes on");
                        }
                    }
                    alive.fetch_sub(1, Ordering::SeqCst);
                })
                .map_err(|e| ModelError::Workers(e.to_string()))?;
        }
        drop(ready_tx);
        for _ in 0..workers {
            ready_rx
                .recv()
                .map_err(|_| ModelError::Workers("a worker died while loading".into()))??;
        }
        Ok(Self { jobs, alive, workers })
    }

    /// Queues `job`, or refuses at once with `Busy` when the queue is full.
    pub fn submit(&self, job: Job) -> Result<(), FaceError> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => FaceError::Busy,
            TrySendError::Disconnected(_) => FaceError::Internal("the face workers have stopped".into()),
        })
    }

    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    pub fn workers(&self) -> usize {
        self.workers
    }
}
