//! The figure as a PNG. Left: the DET curve, FNMR (up) against FMR (right), both on log scales
//! from 0.1 % to 100 %, grid lines at each decade, the shipped threshold as a red square. Right:
//! the genuine (green) and impostor (red) distance histograms from 0 to 1.2 in steps of 0.02,
//! grid lines every 0.2, the shipped threshold as a blue line. Drawn with the `image` crate the
//! server already has; the figures themselves are in the JSON and the table of docs/accuracy.md.

use image::{Rgb, RgbImage};

use super::rates::{PairDistances, Rates};

const SIZE: u32 = 480;
const MARGIN: u32 = 40;
/// The smallest rate on the axes: 0.1 %; smaller ones (including 0) sit on the axis.
const FLOOR: f64 = 1e-3;

fn position(rate: f64) -> f64 {
    let decades = (rate.max(FLOOR).log10() - FLOOR.log10()) / -FLOOR.log10();
    decades.clamp(0.0, 1.0)
}

fn pixel(fmr: f64, fnmr: f64) -> (i64, i64) {
    let span = f64::from(SIZE - 2 * MARGIN);
    let x = f64::from(MARGIN) + position(fmr) * span;
    let y = f64::from(SIZE - MARGIN) - position(fnmr) * span;
    (x.round() as i64, y.round() as i64)
}

fn put(image: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y))
        && x < image.width()
        && y < image.height()
    {
        image.put_pixel(x, y, colour);
    }
}

fn line(image: &mut RgbImage, (x0, y0): (i64, i64), (x1, y1): (i64, i64), colour: Rgb<u8>) {
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
    for i in 0..=steps {
        let x = x0 + (x1 - x0) * i / steps;
        let y = y0 + (y1 - y0) * i / steps;
        for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
            put(image, x + dx, y + dy, colour);
        }
    }
}

/// The DET curve of `sweep` beside the distance histograms of `pairs`, `marked` being the
/// shipped threshold's rates.
pub fn figure(sweep: &[Rates], marked: &Rates, pairs: &PairDistances) -> RgbImage {
    let mut image = RgbImage::from_pixel(2 * SIZE, SIZE, Rgb([255, 255, 255]));
    det_curve(&mut image, sweep, marked);
    histograms(&mut image, pairs, marked.threshold);
    image
}

/// Distances shown on the histogram axis.
const MAX_DISTANCE: f32 = 1.2;
const BIN: f32 = 0.02;

fn histograms(image: &mut RgbImage, pairs: &PairDistances, threshold: f32) {
    let bins = (MAX_DISTANCE / BIN).round() as usize;
    let count = |distances: &[f32]| {
        let mut counts = vec![0usize; bins];
        for d in distances {
            let bin = ((d / BIN) as usize).min(bins - 1);
            counts[bin] += 1;
        }
        counts
    };
    let (genuine, impostor) = (count(&pairs.genuine), count(&pairs.impostor));
    // Each histogram as a share of its own pairs, so both show whatever their counts.
    let share = |counts: &[usize], total: usize| -> Vec<f64> {
        counts
            .iter()
            .map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 })
            .collect()
    };
    let (genuine, impostor) = (
        share(&genuine, pairs.genuine.len()),
        share(&impostor, pairs.impostor.len()),
    );
    let tallest = genuine
        .iter()
        .chain(&impostor)
        .copied()
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let left = i64::from(SIZE + MARGIN);
    let width = i64::from(SIZE - 2 * MARGIN);
    let bottom = i64::from(SIZE - MARGIN);
    let height = f64::from(SIZE - 2 * MARGIN);
    let x_of = |distance: f32| left + (f64::from(distance / MAX_DISTANCE) * width as f64).round() as i64;
    let grid = Rgb([220, 220, 220]);
    for tick in 1..=6 {
        let x = x_of(0.2 * tick as f32);
        line(image, (x, bottom), (x, bottom - height as i64), grid);
    }
    let bar_width = (width / bins as i64).max(1);
    for (bin, (g, i)) in genuine.iter().zip(&impostor).enumerate() {
        let x = left + bin as i64 * bar_width;
        for (share, colour, offset) in [(g, Rgb([40, 160, 70]), 0), (i, Rgb([210, 60, 60]), bar_width / 2)] {
            let top = bottom - (share / tallest * height).round() as i64;
            for dx in 0..(bar_width / 2).max(1) {
                line(image, (x + offset + dx, bottom), (x + offset + dx, top), colour);
            }
        }
    }
    let axis = Rgb([60, 60, 60]);
    line(image, (left, bottom), (left + width, bottom), axis);
    line(image, (left, bottom), (left, bottom - height as i64), axis);
    let x = x_of(threshold);
    line(
        image,
        (x, bottom),
        (x, bottom - height as i64),
        Rgb([30, 90, 200]),
    );
}

/// The DET curve of `sweep` in the left half, `marked` as a red square.
fn det_curve(image: &mut RgbImage, sweep: &[Rates], marked: &Rates) {
    let grid = Rgb([220, 220, 220]);
    for decade in [1e-3, 1e-2, 1e-1, 1.0] {
        line(image, pixel(decade, FLOOR), pixel(decade, 1.0), grid);
        line(image, pixel(FLOOR, decade), pixel(1.0, decade), grid);
    }
    let axis = Rgb([60, 60, 60]);
    line(image, pixel(FLOOR, FLOOR), pixel(1.0, FLOOR), axis);
    line(image, pixel(FLOOR, FLOOR), pixel(FLOOR, 1.0), axis);
    let curve = Rgb([30, 90, 200]);
    for pair in sweep.windows(2) {
        line(
            image,
            pixel(pair[0].fmr, pair[0].fnmr),
            pixel(pair[1].fmr, pair[1].fnmr),
            curve,
        );
    }
    let (x, y) = pixel(marked.fmr, marked.fnmr);
    for dx in -4..=4 {
        for dy in -4..=4 {
            put(image, x + dx, y + dy, Rgb([210, 40, 40]));
        }
    }
}
