//! `facegate eval DIR`: the real face pipeline over a folder of labelled photos
//! (`DIR/<person>/<photo>`), then the error rates of the 1:1 comparison behind every login —
//! genuine and impostor distance distributions, FMR and FNMR at every threshold, the threshold
//! for a target FMR — and, for the match margin, how far each picture's nearest other person is
//! behind its nearest same person. Writes `eval.json` and `det.png` (the DET curve beside the two distance
//! histograms) to `--out`.

mod plot;
pub(crate) mod rates;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub(crate) use crate::config::commands::EvalArgs;
use crate::{
    config::Config,
    face::{Encoding, FaceEngine, ImageInput},
};
use rates::{PairDistances, Rates, Spread, spread};

#[derive(Serialize)]
struct Skipped {
    file: String,
    reason: String,
}

#[derive(Serialize)]
struct Report {
    people: usize,
    pictures: usize,
    skipped: Vec<Skipped>,
    genuine: Spread,
    impostor: Spread,
    shipped_threshold: Rates,
    target_fmr: f64,
    threshold_for_target_fmr: Option<Rates>,
    /// Per picture, the nearest other person's distance minus the nearest same person's (pictures
    /// whose person has another picture): the smallest is what `match-margin` must stay under.
    identification_gaps: Spread,
    /// Pictures whose nearest other person is nearer than their nearest same person.
    misidentified: usize,
    sweep: Vec<Rates>,
}

fn pictures_of(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let read =
        |path: &Path| std::fs::read_dir(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let mut people: Vec<PathBuf> = read(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    let mut pictures = Vec::new();
    for person in people {
        let name = person
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files: Vec<PathBuf> = read(&person)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png" | "webp")
                })
            })
            .collect();
        files.sort();
        pictures.extend(files.into_iter().map(|f| (name.clone(), f)));
    }
    if pictures.is_empty() {
        return Err(format!("{} holds no <person>/<photo> pictures", dir.display()));
    }
    Ok(pictures)
}

/// Per picture with a same-person partner: nearest other person minus nearest same person.
fn identification_gaps(samples: &[(String, Encoding)]) -> Vec<f32> {
    let mut gaps = Vec::new();
    for (i, (person, probe)) in samples.iter().enumerate() {
        let nearest = |same: bool| {
            samples
                .iter()
                .enumerate()
                .filter(|(j, (other, _))| *j != i && (other == person) == same)
                .map(|(_, (_, e))| probe.distance(e))
                .min_by(f32::total_cmp)
        };
        if let (Some(same), Some(other)) = (nearest(true), nearest(false)) {
            gaps.push(other - same);
        }
    }
    gaps.sort_by(f32::total_cmp);
    gaps
}

/// Runs the evaluation; returns the summary printed to the terminal.
pub async fn run(config: &Config, args: &EvalArgs) -> Result<String, String> {
    let pictures = pictures_of(&args.dir)?;
    let (models, settings) = (config.models_dir.clone(), config.face.clone());
    let engine = tokio::task::spawn_blocking(move || FaceEngine::start(&models, &settings))
        .await
        .map_err(|e| format!("model loading: {e}"))?
        .map_err(|e| e.to_string())?;
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    for (person, file) in &pictures {
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        match engine.analyze(ImageInput::Bytes(bytes)).await {
            Ok(analysis) => samples.push((person.clone(), analysis.encoding)),
            Err(e) => skipped.push(Skipped {
                file: file.display().to_string(),
                reason: e.code().to_string(),
            }),
        }
    }
    let pairs = PairDistances::of(&samples);
    if pairs.genuine.is_empty() || pairs.impostor.is_empty() {
        return Err("need at least two pictures of one person and two people".into());
    }
    let sweep = pairs.sweep(0.20, 0.90, 0.01);
    let gaps = identification_gaps(&samples);
    let shipped = pairs.rates_at(config.face.match_threshold as f32);
    let report = Report {
        people: {
            let mut names: Vec<&String> = samples.iter().map(|(p, _)| p).collect();
            names.dedup();
            names.len()
        },
        pictures: samples.len(),
        skipped,
        genuine: spread(&pairs.genuine),
        impostor: spread(&pairs.impostor),
        target_fmr: args.target_fmr,
        threshold_for_target_fmr: PairDistances::threshold_for_fmr(&sweep, args.target_fmr),
        misidentified: gaps.iter().filter(|g| **g < 0.0).count(),
        identification_gaps: spread(&gaps),
        shipped_threshold: shipped.clone(),
        sweep,
    };
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(args.out.join("eval.json"), json).map_err(|e| format!("cannot write eval.json: {e}"))?;
    plot::figure(&report.sweep, &shipped, &pairs)
        .save(args.out.join("det.png"))
        .map_err(|e| format!("cannot write det.png: {e}"))?;
    Ok(summary(&report, &args.out))
}

fn summary(report: &Report, out: &Path) -> String {
    let f = |v: Option<f32>| v.map_or("-".into(), |v| format!("{v:.3}"));
    let mut text = format!(
        "facegate eval: {} people, {} pictures ({} skipped)\n\
         genuine pairs  {:>6}: min {} median {} max {}\n\
         impostor pairs {:>6}: min {} median {} max {}\n\
         identification gap (nearest other − nearest same): min {} median {}; misidentified {}\n",
        report.people,
        report.pictures,
        report.skipped.len(),
        report.genuine.pairs,
        f(report.genuine.min),
        f(report.genuine.median),
        f(report.genuine.max),
        report.impostor.pairs,
        f(report.impostor.min),
        f(report.impostor.median),
        f(report.impostor.max),
        f(report.identification_gaps.min),
        f(report.identification_gaps.median),
        report.misidentified,
    );
    text.push_str("threshold    FMR      FNMR\n");
    for rates in report
        .sweep
        .iter()
        .filter(|r| ((r.threshold * 100.0).round() as i32) % 5 == 0)
    {
        text.push_str(&format!(
            "{:.2}     {:>7.4}  {:>7.4}\n",
            rates.threshold, rates.fmr, rates.fnmr
        ));
    }
    let shipped = &report.shipped_threshold;
    text.push_str(&format!(
        "shipped threshold {:.2}: FMR {:.4} ({} of {}), FNMR {:.4} ({} of {})\n",
        shipped.threshold,
        shipped.fmr,
        shipped.false_matches,
        report.impostor.pairs,
        shipped.fnmr,
        shipped.false_non_matches,
        report.genuine.pairs
    ));
    match &report.threshold_for_target_fmr {
        Some(r) => text.push_str(&format!(
            "largest threshold with FMR ≤ {}: {:.2} (FNMR {:.4})\n",
            report.target_fmr, r.threshold, r.fnmr
        )),
        None => text.push_str(&format!("no threshold reaches FMR ≤ {}\n", report.target_fmr)),
    }
    text.push_str(&format!(
        "wrote {}/eval.json and {}/det.png",
        out.display(),
        out.display()
    ));
    text
}
