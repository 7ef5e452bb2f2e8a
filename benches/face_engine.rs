//! Face-engine benchmarks on real webcam-sized frames (.cache/media/bench/, made by
//! scripts/reference/make_bench_frames.sh from a face_recognition test photo) and on synthetic
//! galleries for the 1:N search.
//!
//!     cargo bench --features ssr --bench face_engine              # everything (~4 min on 2 cores)
//!     cargo bench --features ssr --bench face_engine -- pipeline  # one group
//!
//! Groups: decode, detect (at the default working size), detect_working_size (the same frame at
//! other working sizes), landmarks, encode, pipeline (all steps, as a face worker runs them),
//! match (the exact 1:N scan over 1k, 100k, 1M encodings; the index: benches/gallery.rs), live_frame (a live-check frame at 320×240). scripts/bench-compare.sh runs `pipeline` next to
//! the Python reference; docs/benchmarks.md has the figures.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use facegate::face::{
    DetectOptions, ENCODING_LEN, Encoding, FacePipeline, FaceSettings, ImageInput, matching::ExactIndex,
};

const FRAMES: [&str; 2] = ["frame_640x480.jpg", "frame_1280x720.jpg"];

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn frame_bytes(name: &str) -> Vec<u8> {
    let path = repo(".cache/media/bench").join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/fetch-media.sh and scripts/reference/make_bench_frames.sh",
            path.display()
        )
    })
}

fn pipeline() -> FacePipeline {
    FacePipeline::load(&repo("models"), &FaceSettings::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn face_steps(c: &mut Criterion) {
    let pipeline = pipeline();
    let frames: Vec<(&str, Vec<u8>)> = FRAMES.iter().map(|name| (*name, frame_bytes(name))).collect();

    let mut group = c.benchmark_group("decode");
    for (name, bytes) in &frames {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| pipeline.decode(ImageInput::Bytes(bytes.clone())))
        });
    }
    group.finish();

    let decoded: Vec<_> = frames
        .iter()
        .map(|(name, bytes)| {
            let frame = pipeline
                .decode(ImageInput::Bytes(bytes.clone()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let faces = pipeline.detect(&frame).expect("detects");
            assert_eq!(faces.len(), 1, "{name}: {faces:?}");
            let face = faces[0].clipped(frame.width(), frame.height()).expect("inside");
            (*name, frame, face)
        })
        .collect();

    let mut group = c.benchmark_group("detect");
    for (name, frame, _) in &decoded {
        group.bench_function(*name, |b| b.iter(|| pipeline.detect(black_box(frame))));
    }
    group.finish();

    let mut group = c.benchmark_group("detect_working_size");
    for (name, frame, _) in &decoded {
        for max_side in [240, 320, 400, 480, 640] {
            let options = DetectOptions {
                max_side,
                retry: false,
            };
            group.bench_function(format!("{name}/{max_side}"), |b| {
                b.iter(|| pipeline.detect_with(black_box(frame), options))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("landmarks");
    for (name, frame, face) in &decoded {
        group.bench_function(*name, |b| b.iter(|| pipeline.landmarks(black_box(frame), face)));
    }
    group.finish();

    let mut group = c.benchmark_group("encode");
    for (name, frame, face) in &decoded {
        let landmarks = pipeline.landmarks(frame, face).expect("landmarks");
        group.bench_function(*name, |b| {
            b.iter(|| pipeline.encode(black_box(frame), &landmarks))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("pipeline");
    for (name, bytes) in &frames {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| {
                pipeline
                    .analyze(ImageInput::Bytes(bytes.clone()))
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
            })
        });
    }
    group.finish();
}

/// Deterministic pseudo-random encodings spread like real ones (components of ~±0.1, so two
/// unrelated encodings are ~0.8 apart).
fn synthetic_encodings(count: usize, seed: u64) -> impl Iterator<Item = Encoding> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.17
    };
    (0..count).map(move |_| Encoding(std::array::from_fn::<f32, ENCODING_LEN, _>(|_| next())))
}

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("match");
    for users in [1_000usize, 100_000, 1_000_000] {
        let mut index = ExactIndex::new();
        for (id, encoding) in synthetic_encodings(users, 7).enumerate() {
            index.add(id as u32, std::slice::from_ref(&encoding));
        }
        let queries: Vec<Encoding> = synthetic_encodings(16, 99).collect();
        let mut next = 0;
        group.bench_function(BenchmarkId::from_parameter(users), |b| {
            b.iter(|| {
                next = (next + 1) % queries.len();
                index.best_match(black_box(&queries[next]))
            })
        });
    }
    group.finish();
}

/// The live check's per-frame work on a 320×240 JPEG (the size a page streams at the low end):
/// decode + detect + landmarks + signals as a guidance frame, and the same with the encoding, as
/// on the few frames the verifier samples.
fn live_frame(c: &mut Criterion) {
    let pipeline = pipeline();
    let full = image::load_from_memory(&frame_bytes(FRAMES[0])).unwrap_or_else(|e| panic!("{e}"));
    let small = full.resize_exact(320, 240, image::imageops::FilterType::Triangle);
    let mut jpeg = std::io::Cursor::new(Vec::new());
    small
        .write_to(&mut jpeg, image::ImageOutputFormat::Jpeg(85))
        .unwrap_or_else(|e| panic!("{e}"));
    let jpeg = jpeg.into_inner();
    let observed = pipeline
        .observe(ImageInput::Bytes(jpeg.clone()), false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        observed.landmarks.is_some(),
        "the 320x240 bench frame must show a usable face"
    );
    let mut group = c.benchmark_group("live_frame");
    for (name, encode) in [("guidance_320x240", false), ("sampled_320x240", true)] {
        group.bench_function(name, |b| {
            b.iter(|| pipeline.observe(ImageInput::Bytes(black_box(jpeg.clone())), encode))
        });
    }
    group.finish();
}

/// Few samples, short windows: a full run stays within minutes on a busy 2-core machine.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = face_steps, matching, live_frame
}
criterion_main!(benches);
