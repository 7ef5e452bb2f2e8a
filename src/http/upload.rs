//! Pacing of a face request's upload: the body must be complete within an absolute deadline, and
//! after a short window it must keep an average rate from its start. Both are measured from the
//! first moment the body is read, never restarted by a new chunk — a client trickling one byte
//! at a time cannot hold an admission place beyond the window. A cut upload is answered 408
//! (by [`super::admission`], which reads the [`UploadVerdict`]).

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::body::{Body, Bytes};
use futures::StreamExt;
use tokio::time::Instant;

/// The pace a body must keep.
#[derive(Clone, Copy, Debug)]
pub struct UploadPace {
    /// The whole body within this, from the first read.
    pub(crate) deadline: Duration,
    /// Average bytes per second from the first read, judged once `window` has passed.
    pub(crate) min_bytes_per_sec: u64,
    pub(crate) window: Duration,
}

/// Why an upload was cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TooSlow {
    /// The body was not complete by the deadline.
    Deadline { secs: u64 },
    /// The average rate fell below the minimum.
    Rate { bytes_per_sec: u64, min: u64 },
}

impl TooSlow {
    /// The sentence for the person.
    pub fn message(self) -> String {
        match self {
            Self::Deadline { secs } => format!(
                "Your upload did not arrive within {secs} seconds and was stopped. Check your connection, then try again."
            ),
            Self::Rate { bytes_per_sec, min } => format!(
                "Your upload was too slow ({bytes_per_sec} bytes a second; at least {min} are needed) and was stopped. Check your connection, then try again."
            ),
        }
    }
}

/// Shared between the paced body and the middleware that answers for it.
#[derive(Clone, Default)]
pub struct UploadVerdict(Arc<Mutex<Option<TooSlow>>>);

impl UploadVerdict {
    pub fn too_slow(&self) -> Option<TooSlow> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, reason: TooSlow) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }
}

impl UploadPace {
    /// Whether a body that has delivered `received` bytes since `started` is too slow at `now`.
    pub fn judge(&self, started: Instant, received: u64, now: Instant) -> Option<TooSlow> {
        let elapsed = now.saturating_duration_since(started);
        if elapsed >= self.deadline {
            return Some(TooSlow::Deadline {
                secs: self.deadline.as_secs(),
            });
        }
        if elapsed < self.window {
            return None;
        }
        let expected = self.min_bytes_per_sec as f64 * elapsed.as_secs_f64();
        ((received as f64) < expected).then(|| TooSlow::Rate {
            bytes_per_sec: (received as f64 / elapsed.as_secs_f64()) as u64,
            min: self.min_bytes_per_sec,
        })
    }

    /// The first moment `judge` can say "too slow" if nothing more arrives.
    fn next_judgement(&self, started: Instant, received: u64) -> Instant {
        let rate_runs_out = Duration::from_secs_f64(received as f64 / self.min_bytes_per_sec as f64);
        let at = rate_runs_out.max(self.window).min(self.deadline);
        // A millisecond late, so that the judgement is certain when the alarm rings.
        started + at + Duration::from_millis(1)
    }

    /// `body`, cut (as a read error) when it falls behind this pace; the reason goes to `verdict`.
    pub fn apply(self, body: Body, verdict: UploadVerdict) -> Body {
        struct State {
            data: axum::body::BodyDataStream,
            pace: UploadPace,
            verdict: UploadVerdict,
            started: Option<Instant>,
            received: u64,
        }
        let state = State {
            data: body.into_data_stream(),
            pace: self,
            verdict,
            started: None,
            received: 0,
        };
        let stream = futures::stream::unfold(Some(state), |state| async move {
            let mut state = state?;
            let started = *state.started.get_or_insert_with(Instant::now);
            loop {
                let alarm = state.pace.next_judgement(started, state.received);
                match tokio::time::timeout_at(alarm, state.data.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        state.received += chunk.len() as u64;
                        return Some((Ok::<Bytes, axum::Error>(chunk), Some(state)));
                    }
                    Ok(Some(Err(error))) => return Some((Err(error), None)),
                    Ok(None) => return None,
                    Err(_) => {
                        if let Some(reason) = state.pace.judge(started, state.received, Instant::now()) {
                            state.verdict.set(reason);
                            let error = axum::Error::new(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                reason.message(),
                            ));
                            return Some((Err(error), None));
                        }
                    }
                }
            }
        });
        Body::from_stream(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACE: UploadPace = UploadPace {
        deadline: Duration::from_secs(30),
        min_bytes_per_sec: 1000,
        window: Duration::from_secs(3),
    };

    #[test]
    fn the_rate_is_averaged_from_the_start_and_the_deadline_is_absolute() {
        let start = Instant::now();
        let at = |secs: f64| start + Duration::from_secs_f64(secs);
        // Within the window anything goes.
        assert_eq!(PACE.judge(start, 0, at(2.9)), None);
        // After it, the average from the start counts: one byte is too slow.
        assert_eq!(
            PACE.judge(start, 1, at(3.0)),
            Some(TooSlow::Rate {
                bytes_per_sec: 0,
                min: 1000
            })
        );
        assert_eq!(PACE.judge(start, 3000, at(3.0)), None);
        // A fast start buys time only in proportion: 10 kB is ten seconds' worth.
        assert_eq!(PACE.judge(start, 10_000, at(9.9)), None);
        assert!(PACE.judge(start, 10_000, at(10.1)).is_some());
        // The deadline holds whatever the rate.
        assert_eq!(
            PACE.judge(start, 10_000_000, at(30.0)),
            Some(TooSlow::Deadline { secs: 30 })
        );
    }

    #[test]
    fn the_alarm_rings_when_the_judgement_would_change() {
        let start = Instant::now();
        let ring = |received| PACE.next_judgement(start, received).duration_since(start);
        assert_eq!(ring(0), Duration::from_millis(3001));
        assert_eq!(ring(10_000), Duration::from_millis(10_001));
        assert_eq!(ring(1_000_000), Duration::from_millis(30_001));
        for received in [0, 10_000, 1_000_000] {
            let at = PACE.next_judgement(start, received);
            assert!(PACE.judge(start, received, at).is_some(), "{received}");
        }
    }

    #[tokio::test]
    async fn a_trickled_body_is_cut_and_says_why() {
        let pace = UploadPace {
            deadline: Duration::from_secs(5),
            min_bytes_per_sec: 1000,
            window: Duration::from_millis(300),
        };
        // One byte every 100 ms: 10 bytes a second.
        let trickle = futures::stream::unfold(0u8, |n| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from(vec![n])), n.wrapping_add(1)))
        });
        let verdict = UploadVerdict::default();
        let began = std::time::Instant::now();
        let body = pace.apply(Body::from_stream(trickle), verdict.clone());
        let read = axum::body::to_bytes(body, 1 << 20).await;
        assert!(read.is_err());
        assert!(began.elapsed() < Duration::from_secs(2), "{:?}", began.elapsed());
        assert!(matches!(verdict.too_slow(), Some(TooSlow::Rate { .. })));

        // A body that arrives at once passes untouched.
        let verdict = UploadVerdict::default();
        let body = pace.apply(Body::from("x".repeat(10_000)), verdict.clone());
        let read = axum::body::to_bytes(body, 1 << 20).await.expect("read");
        assert_eq!(read.len(), 10_000);
        assert_eq!(verdict.too_slow(), None);
    }
}
