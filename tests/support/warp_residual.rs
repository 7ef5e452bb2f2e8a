//! Signal (a) of issue 14, species 1, kept for measurement only (tests/live_animation.rs): it
//! did NOT separate real head turns from animated photos (docs/live.md, "Animated photos"),
//! because the warp follows dlib's landmarks, which on an animated photo are placed like a real
//! turned head's rather than where the attacker's warp moved the pixels.
//!
//! A 2D animation of one photo makes every frame from the same pixels, moved piecewise-affinely
//! along with its landmarks: warping the neutral frame onto a turned frame's landmarks predicts
//! the turned frame up to noise. A real head turns in 3D: the far cheek is hidden, the near one
//! and the side of the nose come into view, the shading moves across the face. The same warp
//! then leaves a residual that no moving of pixels in the plane explains.
//!
//! [`FaceTexture`] is a small grey copy of the face (its outer eye corners [`TEXTURE_EYE_SPAN`]
//! pixels apart, area-averaged: sensor noise and JPEG blocks average out, shading and occlusion
//! do not) with the landmarks in its coordinates; [`warp_residual`] warps one texture onto
//! another's landmarks over a triangulation of the landmarks and measures what is left.

use image::RgbImage;

type Point = (f64, f64);

/// Distance between the outer eye corners in a [`FaceTexture`], in its pixels.
pub const TEXTURE_EYE_SPAN: f64 = 32.0;

/// Landmarks of the warp mesh: jaw, brows, nose, eyes and the outer lips. The inner lips
/// (60-67) are left out: they coincide on a closed mouth, and an open mouth's inside is new
/// content either way.
const MESH_POINTS: usize = 60;

/// A grey, area-averaged copy of the face region and its landmarks in the copy's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceTexture {
    width: usize,
    height: usize,
    grey: Vec<f32>,
    points: Vec<Point>,
}

impl FaceTexture {
    /// Cuts the face around its 68 `landmarks` (frame pixels) out of `frame`. `None` without 68
    /// points or with a face too small to place them.
    pub fn cut(frame: &RgbImage, landmarks: &[Point]) -> Option<Self> {
        if landmarks.len() != 68 {
            return None;
        }
        let span = dist(landmarks[36], landmarks[45]);
        if span < 4.0 {
            return None;
        }
        let k = TEXTURE_EYE_SPAN / span;
        let (min, max) = bounds(landmarks);
        let margin = 0.1 * (max.0 - min.0).max(max.1 - min.1);
        let (fw, fh) = (f64::from(frame.width()), f64::from(frame.height()));
        let x0 = (min.0 - margin).floor().clamp(0.0, fw - 1.0);
        let y0 = (min.1 - margin).floor().clamp(0.0, fh - 1.0);
        let x1 = (max.0 + margin).ceil().clamp(x0 + 1.0, fw);
        let y1 = (max.1 + margin).ceil().clamp(y0 + 1.0, fh);
        let width = ((x1 - x0) * k).floor().max(1.0) as usize;
        let height = ((y1 - y0) * k).floor().max(1.0) as usize;
        let raw = frame.as_raw();
        let stride = frame.width() as usize * 3;
        // Source pixel ranges of each output column / row (at least one pixel each).
        let range = |start: f64, i: usize, limit: f64| {
            let a = (start + i as f64 / k).floor();
            let b = (start + (i + 1) as f64 / k).floor().max(a + 1.0).min(limit);
            (a as usize, (b as usize).max(a as usize + 1))
        };
        let columns: Vec<(usize, usize)> = (0..width).map(|u| range(x0, u, fw)).collect();
        let mut grey = Vec::with_capacity(width * height);
        for v in 0..height {
            let (ya, yb) = range(y0, v, fh);
            for &(xa, xb) in &columns {
                let mut sum = 0u32;
                for y in ya..yb {
                    let row = &raw[y * stride..];
                    for x in xa..xb {
                        let p = &row[x * 3..x * 3 + 3];
                        // ITU-R BT.601 luma, ×1000.
                        sum += 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
                    }
                }
                let n = ((yb - ya) * (xb - xa)) as f32;
                grey.push(sum as f32 / (1000.0 * n));
            }
        }
        let points = landmarks
            .iter()
            .map(|&(x, y)| ((x - x0) * k, (y - y0) * k))
            .collect();
        Some(Self {
            width,
            height,
            grey,
            points,
        })
    }

    /// The landmarks, in the texture's pixels.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Bilinear grey level at (x, y); `None` outside.
    fn sample(&self, x: f64, y: f64) -> Option<f64> {
        if x < 0.0 || y < 0.0 || x > (self.width - 1) as f64 || y > (self.height - 1) as f64 {
            return None;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let at = |x: usize, y: usize| f64::from(self.grey[y * self.width + x]);
        let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
        let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
        Some(top + (bottom - top) * fy)
    }
}

/// What is left of `now` after warping `reference` onto it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarpResidual {
    /// Root-mean-square grey-level difference after the best gain and offset (grey levels of
    /// the texture, 0-255).
    pub rms: f64,
    /// The same divided by the spread of `now`'s grey levels inside the face: the fraction of
    /// the face's contrast the warp does not explain (0 = a perfect prediction, 1 = none).
    pub unexplained: f64,
    /// Texture pixels compared.
    pub pixels: usize,
}

/// Warps `reference` onto `now`'s landmarks, piecewise affinely over a Delaunay triangulation of
/// the reference's mesh points, and measures what the warp (and the best gain and offset, for
/// exposure) leaves unexplained inside the face. `None` if the two share too few pixels.
pub fn warp_residual(reference: &FaceTexture, now: &FaceTexture) -> Option<WarpResidual> {
    warp_residual_searched(reference, now, 0.0)
}

/// [`warp_residual`], each triangle's source also shifted by the best offset within `search`
/// texture pixels (in half-pixel steps): absorbs the landmark detector's misplacement of a
/// vertex, which otherwise reads as unexplained texture along every edge.
pub fn warp_residual_searched(
    reference: &FaceTexture,
    now: &FaceTexture,
    search: f64,
) -> Option<WarpResidual> {
    let source = &reference.points[..MESH_POINTS];
    let target = &now.points[..MESH_POINTS];
    let mut covered = vec![false; now.width * now.height];
    let steps = (search / 0.5).round() as i32;
    let shifts: Vec<(f64, f64)> = (-steps..=steps)
        .flat_map(|i| (-steps..=steps).map(move |j| (f64::from(i) * 0.5, f64::from(j) * 0.5)))
        .collect();
    let mut moments = Moments::default();
    let mut pixels: Vec<(usize, Point)> = Vec::new();
    for [i, j, l] in delaunay(source) {
        let (a, b, c) = (target[i], target[j], target[l]);
        let area = (b.0 - a.0) * (c.1 - a.1) - (c.0 - a.0) * (b.1 - a.1);
        if area.abs() < 1e-3 {
            continue;
        }
        let (min, max) = bounds(&[a, b, c]);
        let x_from = min.0.ceil().max(0.0) as usize;
        let x_to = max.0.floor().min((now.width - 1) as f64);
        let y_from = min.1.ceil().max(0.0) as usize;
        let y_to = max.1.floor().min((now.height - 1) as f64);
        if x_to < 0.0 || y_to < 0.0 {
            continue;
        }
        pixels.clear();
        for y in y_from..=y_to as usize {
            for x in x_from..=x_to as usize {
                let p = (x as f64, y as f64);
                let w1 = ((p.0 - a.0) * (c.1 - a.1) - (c.0 - a.0) * (p.1 - a.1)) / area;
                let w2 = ((b.0 - a.0) * (p.1 - a.1) - (p.0 - a.0) * (b.1 - a.1)) / area;
                let w0 = 1.0 - w1 - w2;
                let index = y * now.width + x;
                if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 || covered[index] {
                    continue;
                }
                let (s0, s1, s2) = (source[i], source[j], source[l]);
                let from = (
                    w0 * s0.0 + w1 * s1.0 + w2 * s2.0,
                    w0 * s0.1 + w1 * s1.1 + w2 * s2.1,
                );
                covered[index] = true;
                pixels.push((index, from));
            }
        }
        if pixels.is_empty() {
            continue;
        }
        let cost = |shift: (f64, f64)| {
            let (mut sum, mut count) = (0.0, 0.0);
            for &(index, from) in &pixels {
                if let Some(predicted) = reference.sample(from.0 + shift.0, from.1 + shift.1) {
                    sum += (f64::from(now.grey[index]) - predicted).powi(2);
                    count += 1.0;
                }
            }
            if count < 0.5 * pixels.len() as f64 {
                f64::INFINITY
            } else {
                sum / count
            }
        };
        let best = shifts
            .iter()
            .copied()
            .min_by(|&p, &q| cost(p).total_cmp(&cost(q)))
            .unwrap_or((0.0, 0.0));
        for &(index, from) in &pixels {
            let Some(predicted) = reference.sample(from.0 + best.0, from.1 + best.1) else {
                continue;
            };
            moments.add(predicted, f64::from(now.grey[index]));
        }
    }
    if moments.n < 100.0 {
        return None;
    }
    let (left, var_y) = moments.left()?;
    Some(WarpResidual {
        rms: left.sqrt(),
        unexplained: (left / var_y).sqrt(),
        pixels: moments.n as usize,
    })
}

/// Running sums for fitting `seen ≈ gain·predicted + offset` by least squares.
#[derive(Debug, Default, Clone, Copy)]
pub struct Moments {
    pub n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Moments {
    pub fn add(&mut self, predicted: f64, seen: f64) {
        self.n += 1.0;
        self.sx += predicted;
        self.sy += seen;
        self.sxx += predicted * predicted;
        self.syy += seen * seen;
        self.sxy += predicted * seen;
    }

    /// The variance the best gain and offset leave, and the variance of `seen`; `None` when
    /// `seen` is flat.
    pub fn left(&self) -> Option<(f64, f64)> {
        let n = self.n.max(1.0);
        let var_x = self.sxx / n - (self.sx / n).powi(2);
        let var_y = self.syy / n - (self.sy / n).powi(2);
        let cov = self.sxy / n - (self.sx / n) * (self.sy / n);
        if var_y < 1e-6 {
            return None;
        }
        // Least squares leaves var_y − cov²/var_x.
        let left = if var_x < 1e-6 {
            var_y
        } else {
            (var_y - cov * cov / var_x).max(0.0)
        };
        Some((left, var_y))
    }

    /// The fraction of `seen`'s spread left unexplained: 0 (perfect) … 1 (nothing explained).
    pub fn unexplained(&self) -> Option<f64> {
        self.left().map(|(left, var_y)| (left / var_y).sqrt())
    }
}

/// Delaunay triangulation (Bowyer-Watson) of `points`; points closer than half a pixel to an
/// earlier one are left out. Triangles as indices into `points`.
pub fn delaunay(points: &[Point]) -> Vec<[usize; 3]> {
    let kept: Vec<usize> = (0..points.len())
        .filter(|&i| (0..i).all(|j| dist(points[i], points[j]) > 0.5))
        .collect();
    let n = points.len();
    let (min, max) = bounds(points);
    let size = (max.0 - min.0).max(max.1 - min.1).max(1.0) * 20.0;
    let mid = ((min.0 + max.0) / 2.0, (min.1 + max.1) / 2.0);
    let mut all = points.to_vec();
    all.extend([
        (mid.0 - size, mid.1 - size),
        (mid.0 + size, mid.1 - size),
        (mid.0, mid.1 + size),
    ]);
    let mut triangles = vec![[n, n + 1, n + 2]];
    for i in kept {
        let p = all[i];
        let (bad, good): (Vec<[usize; 3]>, Vec<[usize; 3]>) = triangles
            .into_iter()
            .partition(|t| in_circumcircle(p, t.map(|v| all[v])));
        let edges: Vec<(usize, usize)> = bad
            .iter()
            .flat_map(|t| [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])])
            .collect();
        triangles = good;
        for &(a, b) in &edges {
            let shared = edges
                .iter()
                .filter(|&&(c, d)| (a == c && b == d) || (a == d && b == c))
                .count();
            if shared == 1 {
                triangles.push([a, b, i]);
            }
        }
    }
    triangles.retain(|t| t.iter().all(|&v| v < n));
    triangles
}

fn in_circumcircle(p: Point, [a, b, c]: [Point; 3]) -> bool {
    let d = 2.0 * (a.0 * (b.1 - c.1) + b.0 * (c.1 - a.1) + c.0 * (a.1 - b.1));
    if d.abs() < 1e-12 {
        return false;
    }
    let sq = |q: Point| q.0 * q.0 + q.1 * q.1;
    let ux = (sq(a) * (b.1 - c.1) + sq(b) * (c.1 - a.1) + sq(c) * (a.1 - b.1)) / d;
    let uy = (sq(a) * (c.0 - b.0) + sq(b) * (a.0 - c.0) + sq(c) * (b.0 - a.0)) / d;
    let r2 = (a.0 - ux).powi(2) + (a.1 - uy).powi(2);
    (p.0 - ux).powi(2) + (p.1 - uy).powi(2) < r2
}

fn bounds(points: &[Point]) -> (Point, Point) {
    points.iter().fold(
        ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN)),
        |(lo, hi), &(x, y)| ((lo.0.min(x), lo.1.min(y)), (hi.0.max(x), hi.1.max(y))),
    )
}

fn dist(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}
