//! A fixed set of worker threads, each owning state that must not be shared (dlib's detector and
//! encoder are `Send` but not `Sync`), fed by a bounded queue.
//!
//! Async callers never block: a job goes into the queue with `try_send`, and a full queue is an
//! immediate [`PoolError::Busy`], so overload shows up as fast refusals instead of a growing
//! backlog. Results come back through a tokio oneshot. A panicking job is caught, reported as
//! [`PoolError::Panicked`], and its worker rebuilds its state before taking the next job.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use tokio::sync::oneshot;

/// dlib's network code recurses through its layer templates: give it room.
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// Every worker is busy and the queue is full.
    Busy,
    /// The job panicked; the message is for the log.
    Panicked(String),
    /// No worker is left to run the job.
    Stopped,
}

/// A job: runs on a worker with its state; says whether it panicked.
type Job<S> = Box<dyn FnOnce(&mut S) -> Outcome + Send>;

#[derive(PartialEq)]
enum Outcome {
    Done,
    Panicked,
}

pub struct WorkerPool<S> {
    jobs: Sender<Job<S>>,
    alive: Arc<AtomicUsize>,
    workers: usize,
    queue: usize,
}

impl<S: 'static> WorkerPool<S> {
    /// Starts `workers` threads (at least one), each building its own state with `make_state` in
    /// parallel, and waits until all are ready. Fails with the first error if any cannot start.
    pub fn start<E, F>(name: &str, workers: usize, queue: usize, make_state: F) -> Result<Self, E>
    where
        E: Send + 'static,
        F: Fn() -> Result<S, E> + Send + Sync + 'static,
    {
        let workers = workers.max(1);
        let (jobs, job_queue) = bounded::<Job<S>>(queue);
        let (ready_tx, ready_rx) = bounded::<Result<(), E>>(workers);
        let alive = Arc::new(AtomicUsize::new(0));
        let make_state = Arc::new(make_state);
        for index in 0..workers {
            let worker = Worker {
                jobs: job_queue.clone(),
                alive: Arc::clone(&alive),
                make_state: Arc::clone(&make_state),
            };
            let ready = ready_tx.clone();
            let spawned = thread::Builder::new()
                .name(format!("{name}-{index}"))
                .stack_size(WORKER_STACK_BYTES)
                .spawn(move || worker.run(ready));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a {name} thread");
            }
        }
        drop(ready_tx);
        // Every spawned worker reports once; a failed spawn simply never reports.
        let mut started = 0;
        for report in ready_rx.iter() {
            report?;
            started += 1;
        }
        if started < workers {
            tracing::warn!(started, wanted = workers, "some {name} threads did not start");
        }
        Ok(Self {
            jobs,
            alive,
            workers: started,
            queue,
        })
    }

    /// Runs `job` on a worker and returns its result. Never waits for queue space.
    pub async fn run<R, F>(&self, job: F) -> Result<R, PoolError>
    where
        R: Send + 'static,
        F: FnOnce(&mut S) -> R + Send + 'static,
    {
        let (reply, result) = oneshot::channel::<Result<R, PoolError>>();
        let job: Job<S> = Box::new(move |state: &mut S| {
            if reply.is_closed() {
                return Outcome::Done; // the caller gave up (e.g. the client disconnected)
            }
            match catch_unwind(AssertUnwindSafe(|| job(state))) {
                Ok(value) => {
                    let _ = reply.send(Ok(value));
                    Outcome::Done
                }
                Err(panic) => {
                    let _ = reply.send(Err(PoolError::Panicked(panic_message(&*panic))));
                    Outcome::Panicked
                }
            }
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => PoolError::Busy,
            TrySendError::Disconnected(_) => PoolError::Stopped,
        })?;
        result.await.unwrap_or(Err(PoolError::Stopped))
    }

    /// Workers that started and are still running.
    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    /// Workers started.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Jobs waiting for a worker now.
    pub fn queued(&self) -> usize {
        self.jobs.len()
    }

    /// Jobs allowed to wait.
    pub fn queue_capacity(&self) -> usize {
        self.queue
    }
}

struct Worker<S, F> {
    jobs: Receiver<Job<S>>,
    alive: Arc<AtomicUsize>,
    make_state: Arc<F>,
}

impl<S, E, F> Worker<S, F>
where
    F: Fn() -> Result<S, E>,
{
    fn run(self, ready: Sender<Result<(), E>>) {
        let mut state = match (self.make_state)() {
            Ok(state) => state,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        self.alive.fetch_add(1, Ordering::Relaxed);
        let _ = ready.send(Ok(()));
        drop(ready);
        // Ends when the pool (the only sender) is dropped.
        for job in self.jobs.iter() {
            if job(&mut state) == Outcome::Panicked {
                // The state may be half-updated by the unwound job: start again from scratch.
                match (self.make_state)() {
                    Ok(fresh) => state = fresh,
                    Err(_) => tracing::error!("face worker could not reload its state after a panic"),
                }
            }
        }
        self.alive.fetch_sub(1, Ordering::Relaxed);
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Each worker counts the jobs it ran; the state is rebuilt (count 0) after a panic.
    fn counting_pool(workers: usize, queue: usize) -> WorkerPool<u32> {
        WorkerPool::start("test-worker", workers, queue, || Ok::<u32, String>(0)).expect("pool")
    }

    #[tokio::test]
    async fn runs_jobs_with_worker_state() {
        let pool = counting_pool(1, 4);
        for expected in 1..=3 {
            let count = pool
                .run(|count: &mut u32| {
                    *count += 1;
                    *count
                })
                .await;
            assert_eq!(count, Ok(expected));
        }
        assert_eq!((pool.workers(), pool.alive(), pool.queue_capacity()), (1, 1, 4));
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_at_once() {
        let pool = counting_pool(1, 1);
        let slow = |_: &mut u32| thread::sleep(Duration::from_millis(300));
        // All submitted in one poll: one runs, one waits, the rest are refused.
        let results = futures::future::join_all((0..6).map(|_| pool.run(slow))).await;
        let busy = results.iter().filter(|r| **r == Err(PoolError::Busy)).count();
        let done = results.iter().filter(|r| r.is_ok()).count();
        assert!(busy >= 4, "{results:?}");
        assert_eq!(busy + done, 6, "{results:?}");
    }

    #[tokio::test]
    async fn a_panic_is_reported_and_the_worker_survives() {
        let pool = counting_pool(1, 2);
        assert_eq!(pool.run(|count: &mut u32| *count += 1).await, Ok(()));
        let panicked = pool.run(|_: &mut u32| -> u32 { panic!("boom") }).await;
        assert_eq!(panicked, Err(PoolError::Panicked("boom".into())));
        // Same worker, fresh state.
        assert_eq!(pool.run(|count: &mut u32| *count).await, Ok(0));
        assert_eq!(pool.alive(), 1);
    }

    #[test]
    fn start_fails_when_a_worker_cannot_build_its_state() {
        let result = WorkerPool::<u32>::start("test-worker", 2, 1, || Err::<u32, _>("no models"));
        assert_eq!(result.err(), Some("no models"));
    }
}
