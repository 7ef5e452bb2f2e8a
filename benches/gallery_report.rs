//! What the criterion bench cannot say about the gallery index: how often it agrees with the
//! exact scan, per query kind, and what it costs to build and keep.
//!
//!     cargo bench --features ssr --bench gallery_report                       # 1k, 100k, 1M
//!     cargo bench --features ssr --bench gallery_report -- 1000000 --probes 32,48,64
//!
//! Per size: build time (adding users one at a time, as the gallery's start-up load does), heap
//! and resident memory of the index, per-query p50/p99 of the exact scan and of the index, and
//! per query kind the top-1 recall (same user as the exact scan) and the decision agreement
//! (same accept / ambiguous / refuse at threshold 0.6 and margin 0.05, about the same best
//! person). "Less cautious" counts the disagreements where the index accepts someone outright
//! whom the exact scan does not (it missed the contender of an ambiguous face, or found another
//! person).

#[path = "support/gallery_data.rs"]
mod gallery_data;

use std::time::Instant;

use facegate::face::matching::{
    EncodingIndex, ExactIndex,
    synthetic::{Decision, median_distances},
};

const THRESHOLD: f32 = 0.6;
const MARGIN: f32 = 0.05;
const QUERIES: usize = 2000;

fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds this process has used (user + system), from /proc: on a shared machine the
/// build's wall time says more about the neighbours than about the index.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let fields: Vec<&str> = s.rsplit(')').next()?.split_whitespace().collect();
            let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let probes: Option<Vec<usize>> = args
        .iter()
        .position(|a| a == "--probes")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').filter_map(|p| p.parse().ok()).collect());
    let mut sizes: Vec<usize> = args
        .iter()
        .take_while(|a| *a != "--probes")
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![1_000, 100_000, 1_000_000];
    }
    let samples = gallery_data::real_samples();
    let model = gallery_data::model(samples.as_deref());
    if let Some(samples) = &samples {
        let labelled = gallery_data::labelled(samples);
        let (genuine, impostor) = median_distances(&labelled).unwrap_or((f32::NAN, f32::NAN));
        println!(
            "real encodings: {} ({} labelled photos); median distance one person {genuine:.3}, two people {impostor:.3}",
            samples.len(),
            labelled.len()
        );
    }
    let spread = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>()).sqrt();
    println!(
        "model: |between| {:.3}, |within| {:.3} (root of summed variances)",
        spread(&model.between),
        spread(&model.within)
    );
    for rows in sizes {
        report(rows, samples.as_deref(), &model, probes.as_deref());
    }
}

fn report(
    rows: usize,
    samples: Option<&[gallery_data::RealSample]>,
    model: &facegate::face::matching::synthetic::Model,
    probes: Option<&[usize]>,
) {
    let drawn = gallery_data::draw(rows, samples, model, QUERIES / 2, 29);
    let (before, cpu_before) = (resident_mb(), cpu_seconds());
    let (mut index, build_ms) = timed(|| {
        let mut index = EncodingIndex::new();
        for (id, encodings) in &drawn.users {
            index.add(*id, encodings);
        }
        index
    });
    let (index_mb, build_cpu) = (resident_mb() - before, cpu_seconds() - cpu_before);
    let mut exact = ExactIndex::new();
    for (id, encodings) in &drawn.users {
        exact.add(*id, encodings);
    }
    println!(
        "\n## {} encodings, {} users ({} real), {} cells: index built in {:.1} s ({:.1} s CPU), heap {:.0} MB, resident +{:.0} MB",
        index.encoding_count(),
        index.len(),
        drawn.real_users,
        index.cell_count(),
        build_ms / 1e3,
        build_cpu,
        index.heap_bytes() as f64 / 1e6,
        index_mb
    );
    let truth: Vec<_> = drawn
        .queries
        .iter()
        .map(|q| exact.best_match(&q.encoding))
        .collect();
    let mut exact_ms: Vec<f64> = drawn
        .queries
        .iter()
        .map(|q| timed(|| exact.best_match(&q.encoding)).1)
        .collect();
    exact_ms.sort_by(f64::total_cmp);
    println!(
        "exact scan: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&exact_ms, 0.5),
        percentile(&exact_ms, 0.99)
    );
    let kinds = [
        "real genuine",
        "real impostor",
        "synthetic genuine",
        "synthetic impostor",
    ];
    for kind in kinds {
        let of_kind: Vec<usize> = (0..drawn.queries.len())
            .filter(|&i| drawn.queries[i].kind == kind)
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        let decisions = of_kind
            .iter()
            .map(|&i| Decision::of(truth[i].as_ref(), THRESHOLD, MARGIN));
        let (mut refuse, mut accept, mut ambiguous, mut right) = (0, 0, 0, 0);
        for (decision, &i) in decisions.zip(&of_kind) {
            match decision {
                Decision::Refuse => refuse += 1,
                Decision::Accept(id) => {
                    accept += 1;
                    right += usize::from(Some(id) == drawn.queries[i].owner);
                }
                Decision::Ambiguous { .. } => ambiguous += 1,
            }
        }
        println!(
            "  exact on {kind} ({}): accept {accept} (the right person {right}), ambiguous {ambiguous}, refuse {refuse}",
            of_kind.len()
        );
    }
    let default_probe = index.params().probe_cells;
    let probes = probes.map_or(vec![default_probe], <[usize]>::to_vec);
    for probe in probes {
        index.set_probe_cells(probe);
        let mut ms = Vec::new();
        let mut line = format!("index, {probe} cells probed:");
        let mut per_kind = Vec::new();
        for kind in kinds {
            let (mut n, mut top1, mut agree, mut less_cautious) = (0, 0, 0, 0);
            for (i, query) in drawn.queries.iter().enumerate().filter(|(_, q)| q.kind == kind) {
                let (found, elapsed) = timed(|| index.best_match(&query.encoding));
                ms.push(elapsed);
                n += 1;
                top1 += usize::from(found.as_ref().map(|m| m.id) == truth[i].as_ref().map(|m| m.id));
                let (ours, reference) = (
                    Decision::of(found.as_ref(), THRESHOLD, MARGIN),
                    Decision::of(truth[i].as_ref(), THRESHOLD, MARGIN),
                );
                if ours.agrees_with(&reference) {
                    agree += 1;
                } else if ours.less_cautious_than(&reference) {
                    less_cautious += 1;
                }
            }
            if n > 0 {
                per_kind.push(format!(
                    "  {kind} ({n}): top-1 recall {:.2} %, decision agreement {:.2} %, less cautious {less_cautious}",
                    100.0 * top1 as f64 / n as f64,
                    100.0 * agree as f64 / n as f64
                ));
            }
        }
        ms.sort_by(f64::total_cmp);
        line.push_str(&format!(
            " p50 {:.3} ms, p99 {:.3} ms",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99)
        ));
        println!("{line}");
        for kind in per_kind {
            println!("{kind}");
        }
    }
}
