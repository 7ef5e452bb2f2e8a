//! 1:N search over galleries of 1k, 100k and 1M encodings: the exact scan against the index the
//! app uses (docs/benchmarks.md, "Gallery at a million"). Real people padded with synthetic ones
//! drawn to match them (support/gallery_data.rs).
//!
//!     cargo bench --features ssr --bench gallery                 # ~5 min on 2 cores
//!     cargo bench --features ssr --bench gallery -- '/1000000'   # one size
//!
//! Recall, decision agreement, per-query p50/p99, build time and memory: benches/gallery_report.rs.

#[path = "support/gallery_data.rs"]
mod gallery_data;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use facegate::face::matching::{EncodingIndex, ExactIndex};

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

fn search(c: &mut Criterion) {
    let samples = gallery_data::real_samples();
    let model = gallery_data::model(samples.as_deref());
    let mut group = c.benchmark_group("gallery");
    for rows in SIZES {
        let drawn = gallery_data::draw(rows, samples.as_deref(), &model, 500, 11);
        let mut exact = ExactIndex::new();
        let mut index = EncodingIndex::new();
        for (id, encodings) in &drawn.users {
            exact.add(*id, encodings);
            index.add(*id, encodings);
        }
        // Cycle through genuine and impostor queries alike, so caches see what a server sees.
        let queries: Vec<_> = drawn.queries.iter().map(|q| q.encoding.clone()).collect();
        let slow = rows >= 1_000_000;
        group.sample_size(if slow { 20 } else { 50 });
        group.measurement_time(Duration::from_secs(if slow { 10 } else { 5 }));
        let mut next = 0;
        group.bench_with_input(BenchmarkId::new("exact", rows), &exact, |b, exact| {
            b.iter(|| {
                next = (next + 1) % queries.len();
                black_box(exact.best_match(&queries[next]))
            })
        });
        drop(exact);
        group.bench_with_input(BenchmarkId::new("index", rows), &index, |b, index| {
            b.iter(|| {
                next = (next + 1) % queries.len();
                black_box(index.best_match(&queries[next]))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
