//! Does a head turn move the face against what is around it? (issue 14, species 1: one photo
//! animated by a 2D warp of its own landmarks.)
//!
//! A real head turns in 3D in front of a still scene: the cheek's outline sweeps across the
//! background, the ear and the hair move, the neck stays. A photo animated by a 2D warp moves
//! the inner face against the jaw line and leaves everything from the jaw outwards as it was,
//! moved only as a whole by the hand-held drift. So the band just outside the jaw line of the
//! neutral frame is found again in the turned frame, up to one similarity (shift, zoom, in-plane
//! rotation) and noise, for an animation; for a live head it is not.
//!
//! [`Outline`] takes the band from the reference frame; [`Outline::change`] measures, for a
//! later frame, the fraction of the band's contrast that the best similarity (and the best gain
//! and offset, for exposure) leaves unexplained. The noise floor is the same measure between the
//! reference and the frame before it.
//!
//! Signal (b) of issue 14, species 1, for measurement only (tests/live_animation.rs): it
//! separated live turns from animations of three photos, but not of a fourth (franck60, whose
//! band is mostly a uniform blue screen): docs/live.md, "Animated photos". Not in the product.

use image::RgbImage;

use super::warp_residual::Moments;

type Point = (f64, f64);

/// A frame's luma, smoothed by a 3×3 mean (sensor noise and JPEG blocks averaged out).
#[derive(Debug, Clone, PartialEq)]
pub struct GreyFrame {
    width: usize,
    height: usize,
    luma: Vec<u8>,
}

impl GreyFrame {
    pub fn from_rgb(image: &RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let raw = image.as_raw();
        let luma: Vec<u16> = raw
            .chunks_exact(3)
            .map(|p| ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000) as u16)
            .collect();
        let mut smooth = vec![0u8; width * height];
        for y in 0..height {
            let rows = [y.saturating_sub(1), y, (y + 1).min(height - 1)];
            for x in 0..width {
                let cols = [x.saturating_sub(1), x, (x + 1).min(width - 1)];
                let mut sum = 0u16;
                for r in rows {
                    for c in cols {
                        sum += luma[r * width + c];
                    }
                }
                smooth[y * width + x] = ((sum + 4) / 9) as u8;
            }
        }
        Self {
            width,
            height,
            luma: smooth,
        }
    }

    /// Bilinear luma at (x, y); `None` outside.
    fn at(&self, x: f64, y: f64) -> Option<f64> {
        if !(x >= 0.0 && y >= 0.0 && x < (self.width - 1) as f64 && y < (self.height - 1) as f64) {
            return None;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let i = y0 * self.width + x0;
        let p = |k: usize| f64::from(self.luma[k]);
        let top = p(i) + (p(i + 1) - p(i)) * fx;
        let bottom = p(i + self.width) + (p(i + self.width + 1) - p(i + self.width)) * fx;
        Some(top + (bottom - top) * fy)
    }
}

/// A similarity about `centre`: q = centre + shift + (1 + zoom)·d + turn·perp(d), d = p − centre.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Similarity {
    centre: Point,
    params: [f64; 4],
}

impl Similarity {
    fn apply(&self, p: Point) -> Point {
        let [tx, ty, a, b] = self.params;
        let (dx, dy) = (p.0 - self.centre.0, p.1 - self.centre.1);
        (
            self.centre.0 + tx + (1.0 + a) * dx - b * dy,
            self.centre.1 + ty + (1.0 + a) * dy + b * dx,
        )
    }
}

/// The band outside a frontal face's jaw line, taken from the reference frame.
#[derive(Debug, Clone)]
pub struct Outline {
    /// Band points (frame pixels) and their luma in the reference.
    band: Vec<(Point, f64)>,
    centre: Point,
    span: f64,
    /// [`Outline::change`] between the reference and the frame before it.
    floor: f64,
}

impl Outline {
    /// The band around `landmarks` (68 points) in `reference`, and its noise floor against
    /// `before` (the frame before, with its landmarks). `None` if the band is mostly outside the
    /// frame or the floor cannot be measured.
    pub fn new(
        reference: &GreyFrame,
        landmarks: &[Point],
        before: &GreyFrame,
        before_landmarks: &[Point],
    ) -> Option<Self> {
        if landmarks.len() != 68 || before_landmarks.len() != 68 {
            return None;
        }
        let n = landmarks.len() as f64;
        let centre = landmarks
            .iter()
            .fold((0.0, 0.0), |c, p| (c.0 + p.0 / n, c.1 + p.1 / n));
        let span = (landmarks[36].0 - landmarks[45].0).hypot(landmarks[36].1 - landmarks[45].1);
        let mut band = Vec::new();
        for j in 1..15 {
            for k in 0..8 {
                let f = f64::from(k) / 8.0;
                let p = (
                    landmarks[j].0 + f * (landmarks[j + 1].0 - landmarks[j].0),
                    landmarks[j].1 + f * (landmarks[j + 1].1 - landmarks[j].1),
                );
                let (ux, uy) = (p.0 - centre.0, p.1 - centre.1);
                let len = ux.hypot(uy).max(1e-6);
                for depth in [0.1, 0.175, 0.25, 0.325, 0.4] {
                    let q = (p.0 + ux / len * depth * span, p.1 + uy / len * depth * span);
                    if let Some(v) = reference.at(q.0, q.1) {
                        band.push((q, v));
                    }
                }
            }
        }
        if band.len() < 200 {
            return None;
        }
        let mut outline = Self {
            band,
            centre,
            span,
            floor: 0.0,
        };
        outline.floor = outline.change(before, before_landmarks)?;
        Some(outline)
    }

    /// The noise floor: [`Outline::change`] from the reference to the frame before it.
    pub fn floor(&self) -> f64 {
        self.floor
    }

    /// The fraction of the band's contrast that the best similarity from the reference onto
    /// `now` leaves unexplained (0 = found again exactly … 1 = not at all). `None` if too little
    /// of the band stays in the frame.
    pub fn change(&self, now: &GreyFrame, landmarks: &[Point]) -> Option<f64> {
        if landmarks.len() != 68 {
            return None;
        }
        // Shifts of whole pixels within ±20 of where the band was (as first measured: a
        // coarser grid around the jaw points' similarity let animations through, docs/live.md),
        // then coordinate descent on shift, zoom and rotation.
        let still = Similarity {
            centre: self.centre,
            params: [0.0; 4],
        };
        let cost = |params: [f64; 4]| self.unexplained(now, still.with(params));
        let grid = 1.0;
        let mut best = still.params;
        let mut best_cost = cost(best);
        for i in -20..=20 {
            for j in -20..=20 {
                let p = [f64::from(i), f64::from(j), 0.0, 0.0];
                let c = cost(p);
                if c < best_cost {
                    (best, best_cost) = (p, c);
                }
            }
        }
        let mut steps = [grid / 2.0, grid / 2.0, 0.01, 0.01];
        for _ in 0..5 {
            for _ in 0..3 {
                for k in 0..4 {
                    for sign in [-1.0, 1.0] {
                        let mut p = best;
                        p[k] += sign * steps[k];
                        let c = cost(p);
                        if c < best_cost {
                            (best, best_cost) = (p, c);
                        }
                    }
                }
            }
            steps.iter_mut().for_each(|s| *s *= 0.5);
        }
        best_cost.is_finite().then_some(best_cost)
    }

    fn unexplained(&self, now: &GreyFrame, map: Similarity) -> f64 {
        let mut moments = Moments::default();
        for &(p, x) in &self.band {
            let q = map.apply(p);
            if let Some(y) = now.at(q.0, q.1) {
                moments.add(x, y);
            }
        }
        if moments.n < 0.6 * self.band.len() as f64 {
            return f64::INFINITY;
        }
        moments.unexplained().unwrap_or(0.0)
    }
}

impl Similarity {
    fn with(self, params: [f64; 4]) -> Self {
        Self { params, ..self }
    }
}
