//! Measurement tool (ignored by default): observes every frame of the test clips and writes the
//! signals the liveness check uses to target/live-trace/<clip>.csv, for docs/live.md.
//! Run: cargo test --features ssr --test live_trace -- --ignored --nocapture

mod support;

use facegate::face::{FacePipeline, FaceSettings, ImageInput};
use facegate::live::ssr::signals::{FaceSignals, non_rigid_residual};
use std::io::Write;

#[test]
#[ignore = "measurement tool; writes CSV traces"]
fn trace_clips() {
    let pipeline = FacePipeline::load(&support::repo_path("models"), &FaceSettings::default()).expect("models");
    let out = support::repo_path("target/live-trace");
    std::fs::create_dir_all(&out).expect("dir");
    let clips = std::env::var("CLIPS").unwrap_or_else(|_| "franck,cap12_edit,cap13_edit2".into());
    for clip in clips.split(',') {
        let dir = support::repo_path(".cache/media/frames").join(clip);
        let mut files: Vec<_> = std::fs::read_dir(&dir).expect("frames").flatten().map(|e| e.path()).collect();
        files.sort();
        let mut csv = std::fs::File::create(out.join(format!("{clip}.csv"))).expect("csv");
        writeln!(csv, "frame,issue,yaw,eyes,mouth,span,yaw_deg,residual_prev,enc_dist_first").expect("w");
        let mut previous: Option<Vec<(f64, f64)>> = None;
        let mut first: Option<facegate::face::Encoding> = None;
        for (i, file) in files.iter().enumerate() {
            let bytes = std::fs::read(file).expect("read");
            let observation = pipeline.observe(ImageInput::Bytes(bytes), i % 5 == 0).expect("observe");
            let issue = observation.issue.as_ref().map(|e| e.code()).unwrap_or("");
            let signals = observation.landmarks.as_deref().and_then(FaceSignals::from_landmarks);
            let residual = match (&previous, &observation.landmarks) {
                (Some(p), Some(l)) => non_rigid_residual(p, l).unwrap_or(f64::NAN),
                _ => f64::NAN,
            };
            let distance = match (&first, &observation.encoding) {
                (Some(f), Some(e)) => f64::from(f.distance(e)),
                (None, Some(e)) => {
                    first = Some(e.clone());
                    0.0
                }
                _ => f64::NAN,
            };
            if observation.landmarks.is_some() {
                previous = observation.landmarks.clone();
            }
            let s = signals.map_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN), |s| (s.yaw, s.eyes, s.mouth, s.eye_span));
            let yaw_deg = observation.pose.map_or(f64::NAN, |p| p.yaw_degrees);
            writeln!(csv, "{i},{issue},{:.4},{:.4},{:.4},{:.1},{yaw_deg:.1},{residual:.4},{distance:.4}", s.0, s.1, s.2, s.3).expect("w");
        }
        println!("{clip}: {} frames", files.len());
    }
}
