//! Issue 14, species 1: one ordinary photo animated by a 2D warp of its own landmarks
//! (tests/support/animate.rs) against real heads turning (the clips in .cache/media/frames).
//! Measures two pixel signals on both, turn by turn, the way the verifier sees a turn step
//! (reference = a frontal frame, then the turn armed past the turn threshold and followed until
//! it comes back), and prints per-turn values and per-source min / median / max:
//! (a) how much of a turned frame a piecewise-affine warp of the neutral frame over dlib's
//! landmarks leaves unexplained (tests/support/warp_residual.rs; did not separate), and
//! (b) how much the band outside the jaw line changed beyond one similarity
//! (tests/support/outline.rs; separated on three photos, not on a fourth).

use crate::support;
use crate::support::animate::{Photo, TurnStyle, animate};

use std::path::PathBuf;

use crate::support::outline::{GreyFrame, Outline};
use crate::support::warp_residual::{FaceTexture, warp_residual_searched};
use facegate::face::{FaceObservation, FacePipeline, FaceSettings, ImageInput};
use facegate::live::Step;
use facegate::live::ssr::Tuning;
use facegate::live::ssr::signals::FaceSignals;
use image::RgbImage;

type Point = (f64, f64);

/// One turn as the verifier would follow it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TurnMeasure {
    /// Reference frame index and the frame that armed the turn.
    reference: usize,
    armed: usize,
    /// Largest |yaw − baseline| during the turn.
    peak_turn: f64,
    /// Unexplained fraction on the arming frame, the largest during the turn, and between the
    /// reference and the frame before it (the noise floor).
    at_arm: f64,
    peak: f64,
    floor: f64,
    /// Signal (b) (`support::outline::Outline`): the band outside the jaw line, registered by
    /// the best similarity: the largest unexplained fraction over the turn's new extremes, and
    /// between the reference and the frame before it.
    band_peak: f64,
    band_floor: f64,
}

fn signals(o: Option<&Vec<Point>>) -> Option<FaceSignals> {
    o.and_then(|p| FaceSignals::from_landmarks(p))
}

/// Every turn episode in `frames` (landmarks per frame), with textures cut from `image(i)`.
pub(crate) fn turn_measures(
    landmarks: &[Option<Vec<Point>>],
    image: &dyn Fn(usize) -> RgbImage,
) -> Vec<TurnMeasure> {
    let tuning = Tuning::default();
    let search: f64 = std::env::var("FLAT_SEARCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let warp_residual = |a: &FaceTexture, b: &FaceTexture| warp_residual_searched(a, b, search);
    let texture = |i: usize| FaceTexture::cut(&image(i), landmarks[i].as_ref()?);
    let mut found = Vec::new();
    let mut start = 2;
    while start < landmarks.len() {
        // A reference: frontal, large enough, after two frontal frames (the framing phase).
        let Some(reference) = (start..landmarks.len()).find(|&i| {
            (i - 2..=i).all(|j| {
                signals(landmarks[j].as_ref())
                    .is_some_and(|s| s.yaw.abs() <= tuning.frontal_yaw && s.eye_span >= tuning.min_eye_span)
            })
        }) else {
            break;
        };
        let mut yaws: Vec<f64> = (reference - 2..=reference)
            .filter_map(|j| signals(landmarks[j].as_ref()).map(|s| s.yaw))
            .collect();
        yaws.sort_by(f64::total_cmp);
        let base = yaws[1];
        let window_end = (reference + 80).min(landmarks.len());
        let armed = (reference + 1..window_end).find(|&i| {
            signals(landmarks[i].as_ref()).is_some_and(|s| (s.yaw - base).abs() > tuning.turn_out)
        });
        let Some(armed) = armed else {
            start = window_end;
            continue;
        };
        let (Some(ref_texture), Some(before)) = (texture(reference), texture(reference - 1)) else {
            start = reference + 1;
            continue;
        };
        let floor = warp_residual(&before, &ref_texture).map_or(f64::NAN, |r| r.unexplained);
        let mut at_arm = f64::NAN;
        let mut peak = 0.0_f64;
        let mut peak_turn = 0.0_f64;
        let outline = Outline::new(
            &GreyFrame::from_rgb(&image(reference)),
            landmarks[reference].as_ref().expect("landmarks"),
            &GreyFrame::from_rgb(&image(reference - 1)),
            landmarks[reference - 1].as_ref().expect("landmarks"),
        );
        let band_floor = outline.as_ref().map_or(f64::NAN, Outline::floor);
        let mut band_peak = 0.0_f64;
        let mut end = armed;
        for (i, points) in landmarks.iter().enumerate().skip(armed).take(40) {
            end = i;
            let Some(s) = signals(points.as_ref()) else {
                continue;
            };
            let turn = (s.yaw - base).abs();
            if turn < tuning.turn_back {
                break;
            }
            if turn > peak_turn
                && let Some(outline) = &outline
            {
                let now = GreyFrame::from_rgb(&image(i));
                let points = points.as_ref().expect("landmarks");
                band_peak = band_peak.max(outline.change(&now, points).unwrap_or(f64::NAN));
            }
            peak_turn = peak_turn.max(turn);
            if let Some(r) = texture(i).and_then(|t| warp_residual(&ref_texture, &t)) {
                if i == armed {
                    at_arm = r.unexplained;
                }
                peak = peak.max(r.unexplained);
            }
        }
        found.push(TurnMeasure {
            reference,
            armed,
            peak_turn,
            at_arm,
            peak,
            floor,
            band_peak,
            band_floor,
        });
        start = end + 5;
    }
    found
}

fn summary(name: &str, turns: &[TurnMeasure]) -> String {
    let values = |f: fn(&TurnMeasure) -> f64| {
        let v: Vec<f64> = turns.iter().map(f).filter(|x| x.is_finite()).collect();
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let med = s.get(s.len() / 2).copied().unwrap_or(f64::NAN);
        format!("{min:.3} / {med:.3} / {max:.3}")
    };
    format!(
        "| {name} | {} | {} | {} | {} | {} |\n",
        turns.len(),
        values(|t| t.at_arm),
        values(|t| t.peak),
        values(|t| t.floor),
        values(|t| t.peak / t.floor),
    ) + &format!(
        "| {name}: band outside the jaw | {} | — | {} | {} | {} |\n",
        turns.len(),
        values(|t| t.band_peak),
        values(|t| t.band_floor),
        values(|t| t.band_peak / t.band_floor),
    )
}

fn print_turns(name: &str, turns: &[TurnMeasure]) {
    for t in turns {
        println!(
            "{name} ref {} armed {} turn {:.2}: arm {:.3} peak {:.3} floor {:.3}; band peak {:.3} floor {:.3}",
            t.reference, t.armed, t.peak_turn, t.at_arm, t.peak, t.floor, t.band_peak, t.band_floor
        );
    }
}

fn frame_image(path: &PathBuf) -> RgbImage {
    image::open(path).expect("frame").to_rgb8()
}

/// The photos animated: stills of the people in the clips, and the press photos (half faces
/// left out: they cannot perform a challenge).
pub(crate) fn photos(pipeline: &FacePipeline) -> Vec<(String, Photo)> {
    let media = support::repo_path(".cache/media");
    let mut files: Vec<PathBuf> = ["franck12", "franck60", "cap12"]
        .iter()
        .map(|s| media.join("stills").join(format!("{s}.png")))
        .collect();
    let mut press: Vec<PathBuf> = std::fs::read_dir(media.join("photos"))
        .expect("photos (make media)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .filter(|p| !p.to_string_lossy().contains("partial"))
        .collect();
    press.sort();
    files.extend(press);
    files
        .iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_string_lossy().to_string();
            Photo::open(path, pipeline).map(|photo| (name, photo))
        })
        .collect()
}

/// Observes animation frames (landmarks only) and decodes them.
fn observe_animation(
    pipeline: &FacePipeline,
    frames: &[(f64, Vec<u8>)],
) -> (Vec<Option<Vec<Point>>>, Vec<RgbImage>) {
    frames
        .iter()
        .map(|(_, jpeg)| {
            let o: FaceObservation = pipeline
                .observe(ImageInput::Bytes(jpeg.clone()), false)
                .expect("observe");
            let image = image::load_from_memory(jpeg).expect("jpeg").to_rgb8();
            (o.landmarks, image)
        })
        .unzip()
}

#[test]
#[ignore = "measurement: warp-predictability residual of real head turns vs animated photos"]
fn flat_motion_measures() {
    use rand::SeedableRng;
    let mut report = String::from(
        "| source | turns | unexplained at arm (min / median / max) | peak during turn | floor (neutral→neutral) | peak ÷ floor |\n|---|---|---|---|---|---|\n",
    );
    let only = std::env::var("FLAT_ONLY").unwrap_or_default();
    if only != "anim" {
        for clip in ["franck", "franck_mirrored", "cap12_edit", "cap13_edit2"] {
            let observations = crate::live_eval::observe_clip(clip);
            let files = support::frame_files(clip);
            let landmarks: Vec<Option<Vec<Point>>> =
                observations.iter().map(|o| o.landmarks.clone()).collect();
            let turns = turn_measures(&landmarks, &|i| frame_image(&files[i]));
            print_turns(clip, &turns);
            report.push_str(&summary(&format!("live {clip}"), &turns));
        }
    }
    if only != "live" {
        let pipeline = FacePipeline::load(&support::repo_path("models"), &FaceSettings::default())
            .expect("models (make models)");
        let photos = photos(&pipeline);
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let styles: &[TurnStyle] = if std::env::var_os("FLAT_SLIDE_ONLY").is_some() {
            &[TurnStyle::Slide]
        } else {
            &[TurnStyle::Slide, TurnStyle::DepthWeighted]
        };
        for &style in styles {
            let mut all = Vec::new();
            let wanted = std::env::var("FLAT_PHOTOS").unwrap_or_default();
            for (name, photo) in &photos {
                if !wanted.is_empty() && !wanted.split(',').any(|w| w == name) {
                    continue;
                }
                let started = std::time::Instant::now();
                for steps in [[Step::TurnLeft, Step::Blink], [Step::OpenMouth, Step::TurnRight]] {
                    let frames = animate(photo, &steps, style, &mut rng);
                    let (landmarks, images) = observe_animation(&pipeline, &frames);
                    if let Some(dir) = std::env::var_os("FLAT_DUMP") {
                        for (i, image) in images.iter().enumerate() {
                            let _ = image.save(PathBuf::from(&dir).join(format!("{name}-{i:03}.png")));
                        }
                    }
                    let turns = turn_measures(&landmarks, &|i| images[i].clone());
                    print_turns(&format!("animated {style:?} {name} {steps:?}"), &turns);
                    all.extend(turns);
                }
                println!("  ({name}: {:.0} s)", started.elapsed().as_secs_f64());
            }
            report.push_str(&summary(
                &format!("animated, {style:?} ({} photos)", photos.len()),
                &all,
            ));
        }
    }
    println!("\n{report}");
    let _ = std::fs::write(support::repo_path("target/live-eval-flat-motion.md"), &report);
}
