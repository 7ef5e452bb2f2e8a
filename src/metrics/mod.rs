//! Operators' numbers: `GET /metrics` in the Prometheus text format (docs/deploy.md, "Metrics").
//!
//! Events are recorded through the `metrics` facade and rendered by `metrics-exporter-prometheus`;
//! sizes (sessions open, gallery, face queue) are read from memory when scraped. Login,
//! registration and second-factor outcomes are read off the answers of the throttled routes
//! (REST and server functions alike: one place, by the same stable `error` codes clients get).
//!
//! Not on the public port by default: `metrics-listen` serves it on an address of its own,
//! `metrics-token` on the public port behind `Authorization: Bearer <token>`.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use metrics::{counter, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub(crate) mod outcomes;
pub(crate) mod scrape;
pub(crate) mod settings;

pub use settings::MetricsSettings;

pub const PATH: &str = "/metrics";

/// Face-engine stages take milliseconds; a slow CNN frame takes a second.
const STAGE_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// FerretDB answers inserts in ~1 ms and scans in tens to hundreds.
const DB_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process-wide recorder, installed by the first server (tests start several in one process:
/// they share it, so they compare counts before and after).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("facegate_face_stage_seconds".into()), STAGE_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("facegate_db_command_seconds".into()), DB_BUCKETS)
                });
            match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics are off: could not install the Prometheus recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "facegate_logins_total",
        "Face logins by outcome: signed_in, second_factor_required, or the error code."
    );
    describe_counter!(
        "facegate_registrations_total",
        "Registrations by outcome: registered, or the error code."
    );
    describe_counter!(
        "facegate_second_factor_total",
        "Second-factor steps (pin, passkey_start, passkey) by outcome."
    );
    describe_counter!(
        "facegate_live_checks_total",
        "Live checks over the socket: passed, or refused with the reason."
    );
    describe_counter!(
        "facegate_front_door_refusals_total",
        "429 (throttled) and 503 (busy: admission, face workers) answers of the face routes, by class and code."
    );
    describe_histogram!(
        "facegate_face_stage_seconds",
        Unit::Seconds,
        "Face-engine time per stage: decode, detect, landmarks, encode."
    );
    describe_histogram!(
        "facegate_db_command_seconds",
        Unit::Seconds,
        "Database command time, by command."
    );
    describe_counter!(
        "facegate_db_command_errors_total",
        "Database commands that failed, by command."
    );
    describe_gauge!("facegate_sessions_open", "Sessions open on this instance.");
    describe_gauge!(
        "facegate_gallery_users",
        "Enrolled people in the in-memory gallery."
    );
    describe_gauge!("facegate_face_queue_depth", "Pictures waiting for a face worker.");
    describe_gauge!("facegate_face_workers", "Face worker threads.");
}

/// Starts recording. Called at start-up whatever the settings, so the first scrape has history.
pub fn install() {
    let _ = handle();
}

/// Times one face-engine stage (`decode`, `detect`, `landmarks`, `encode`).
pub fn time_stage<T>(stage: &'static str, run: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = run();
    histogram!("facegate_face_stage_seconds", "stage" => stage).record(started.elapsed().as_secs_f64());
    result
}

/// The end of a live check over the socket: `None` passed, `Some(code)` refused for that reason.
pub fn live_check(refused: Option<&str>) {
    let (outcome, reason) = match refused {
        None => ("passed", "none".to_string()),
        Some(code) => ("refused", code.to_string()),
    };
    counter!("facegate_live_checks_total", "outcome" => outcome, "reason" => reason).increment(1);
}

/// Every database command's time, and its failures (the driver's command monitoring).
pub fn db_command_observer() -> mongodb::event::EventHandler<mongodb::event::command::CommandEvent> {
    use mongodb::event::command::CommandEvent;
    mongodb::event::EventHandler::callback(|event: CommandEvent| match event {
        CommandEvent::Succeeded(done) => db_command(done.command_name, done.duration, false),
        CommandEvent::Failed(failed) => db_command(failed.command_name, failed.duration, true),
        _ => {}
    })
}

fn db_command(command: String, took: Duration, failed: bool) {
    histogram!("facegate_db_command_seconds", "command" => command.clone()).record(took.as_secs_f64());
    if failed {
        counter!("facegate_db_command_errors_total", "command" => command).increment(1);
    }
}
