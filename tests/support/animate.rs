//! The animated-photo attack (issue 14, species 1), for the tests only: one ordinary photo of a
//! person, its own 68 landmarks (found by facegate's own pipeline) moved to perform whatever the
//! challenge asks, and the photo warped along with them — piecewise-affine over a Delaunay
//! triangulation of the landmarks and a fixed ring around the face:
//!
//! - a turn: the inner face (brows, eyes, nose, mouth) slid sideways against the jaw line
//!   ([`TurnStyle::Slide`], the attack seen in the wild), or, smarter, the nose slid further than
//!   the eyes and mouth, as if the attacker knew about parallax ([`TurnStyle::DepthWeighted`]);
//! - an open mouth: lower lip and chin dropped, a dark mouth interior painted in;
//! - a blink: the upper eyelids pulled onto the lower ones;
//!
//! plus hand-held drift (shift, zoom, in-plane rotation), sensor noise and JPEG recompression.
//! Every amplitude and timing is drawn at random per attempt.

use facegate::face::{FacePipeline, ImageInput};

use super::warp_residual::delaunay;
use facegate::live::Step;
use image::{Rgb, RgbImage};
use rand::Rng;

type Point = (f64, f64);

/// Output frames: the size a webcam page sends.
pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 360;
/// Frames per second of an animation (as the clips in .cache/media/frames).
pub const FPS: f64 = 10.0;

/// How a head turn is faked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnStyle {
    /// The inner face slid sideways against the jaw line as one piece.
    Slide,
    /// The nose slid about twice as far as the eyes and mouth (a 2.5D-aware attacker).
    DepthWeighted,
}

/// A photo and its 68 landmarks.
pub struct Photo {
    image: RgbImage,
    landmarks: Vec<Point>,
}

impl Photo {
    /// Finds the face in `image` with the pipeline (enlarging small pictures until it can).
    pub fn new(image: RgbImage, pipeline: &FacePipeline) -> Option<Self> {
        let mut image = image;
        for _ in 0..3 {
            let mut png = std::io::Cursor::new(Vec::new());
            image::DynamicImage::ImageRgb8(image.clone())
                .write_to(&mut png, image::ImageOutputFormat::Png)
                .ok()?;
            let observed = pipeline
                .observe(ImageInput::Bytes(png.into_inner()), false)
                .ok()?;
            if let Some(landmarks) = observed.landmarks {
                return Some(Self { image, landmarks });
            }
            let (w, h) = image.dimensions();
            if w > 2000 {
                break;
            }
            image = image::imageops::resize(&image, w * 2, h * 2, image::imageops::FilterType::Triangle);
        }
        None
    }

    /// Reads a picture file and finds its face.
    pub fn open(path: &std::path::Path, pipeline: &FacePipeline) -> Option<Self> {
        let image = image::open(path).ok()?.to_rgb8();
        Self::new(image, pipeline)
    }

    fn eye_span(&self) -> f64 {
        dist(self.landmarks[36], self.landmarks[45])
    }
}

/// The movements' strength at one moment, each 0 (rest) … 1 (full).
#[derive(Debug, Clone, Copy, Default)]
struct Pose {
    /// Signed: +1 is the person's left (the nose towards the picture's right).
    turn: f64,
    mouth: f64,
    blink: f64,
}

/// Per-attempt random amplitudes.
struct Amplitudes {
    /// Inner-face slide for a full turn, in eye spans.
    slide: f64,
    /// Lower lip / chin drop for a full open mouth, in eye spans.
    drop: f64,
    /// Fraction of the way the upper lids go onto the lower ones.
    lid: f64,
}

/// Performs `steps` with `photo`: JPEG frames at [`FPS`], with capture times from 0 (ms).
pub fn animate(photo: &Photo, steps: &[Step], style: TurnStyle, rng: &mut impl Rng) -> Vec<(f64, Vec<u8>)> {
    let poses = timeline(steps, rng);
    let amplitudes = Amplitudes {
        slide: rng.gen_range(0.22..0.38),
        drop: rng.gen_range(0.25..0.42),
        lid: rng.gen_range(0.8..0.95),
    };
    let span = photo.eye_span();
    // Where the face sits in the output, and how large.
    let scale = rng.gen_range(72.0..96.0) / span;
    let centre_src = mean(&photo.landmarks);
    let centre_out = (
        f64::from(WIDTH) / 2.0 + rng.gen_range(-30.0..30.0),
        f64::from(HEIGHT) / 2.0 + rng.gen_range(-15.0..25.0),
    );
    let drift = Drift::random(rng);
    let noise = rng.gen_range(1.5..4.0);
    let quality = rng.gen_range(75..93);

    // The mesh: landmarks (minus near-duplicates, e.g. the lips of a closed mouth) and a ring.
    let radius = photo
        .landmarks
        .iter()
        .map(|&p| dist(p, centre_src))
        .fold(0.0, f64::max);
    let mut vertices: Vec<usize> = Vec::new();
    for i in 0..68 {
        if vertices
            .iter()
            .all(|&j| dist(photo.landmarks[i], photo.landmarks[j]) > 1.5)
        {
            vertices.push(i);
        }
    }
    let ring: Vec<Point> = (0..16)
        .map(|k| {
            let a = f64::from(k) * std::f64::consts::TAU / 16.0;
            (
                centre_src.0 + 1.7 * radius * a.cos(),
                centre_src.1 + 1.7 * radius * a.sin(),
            )
        })
        .collect();
    let mut source: Vec<Point> = vertices.iter().map(|&i| photo.landmarks[i]).collect();
    source.extend(&ring);
    let triangles = delaunay(&source);

    poses
        .iter()
        .enumerate()
        .map(|(frame, pose)| {
            let t = frame as f64 / FPS;
            let moved = deform(&photo.landmarks, pose, &amplitudes, span, style);
            let to_out = drift.at(t, scale, centre_src, centre_out, rng);
            let mut target: Vec<Point> = vertices.iter().map(|&i| to_out.apply(moved[i])).collect();
            target.extend(ring.iter().map(|&p| to_out.apply(p)));
            let mut out = background(&photo.image, &to_out);
            for tri in &triangles {
                warp_triangle(
                    &photo.image,
                    &mut out,
                    tri.map(|v| source[v]),
                    tri.map(|v| target[v]),
                );
            }
            if pose.mouth > 0.05 {
                let inner: Vec<Point> = (60..68).map(|i| to_out.apply(moved[i])).collect();
                paint_mouth(&mut out, &inner, rng);
            }
            add_noise(&mut out, noise, rng);
            (frame as f64 * 1000.0 / FPS, jpeg(&out, quality))
        })
        .collect()
}

/// The pose of every frame: a rest to frame the face, each step (ramp out, hold, ramp back,
/// rest), a rest to confirm.
fn timeline(steps: &[Step], rng: &mut impl Rng) -> Vec<Pose> {
    let frames = |seconds: f64| (seconds * FPS).round().max(1.0) as usize;
    let mut poses = vec![Pose::default(); frames(rng.gen_range(1.0..1.6))];
    for &step in steps {
        let (ramp, hold) = match step {
            Step::Blink => (rng.gen_range(0.1..0.2), rng.gen_range(0.1..0.25)),
            _ => (rng.gen_range(0.3..0.6), rng.gen_range(0.3..0.6)),
        };
        let (up, held) = (frames(ramp), frames(hold));
        let strength: Vec<f64> = (1..=up)
            .map(|k| smooth(k as f64 / up as f64))
            .chain(std::iter::repeat_n(1.0, held))
            .chain((0..up).rev().map(|k| smooth(k as f64 / up as f64)))
            .collect();
        for s in strength {
            let mut pose = Pose::default();
            match step {
                Step::TurnLeft => pose.turn = s,
                Step::TurnRight => pose.turn = -s,
                Step::OpenMouth => pose.mouth = s,
                Step::Blink => pose.blink = s,
            }
            poses.push(pose);
        }
        poses.extend(std::iter::repeat_n(
            Pose::default(),
            frames(rng.gen_range(0.4..0.9)),
        ));
    }
    poses.extend(std::iter::repeat_n(
        Pose::default(),
        frames(rng.gen_range(1.2..1.8)),
    ));
    poses
}

fn smooth(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// The landmarks moved to `pose` (source picture coordinates).
fn deform(points: &[Point], pose: &Pose, amp: &Amplitudes, span: f64, style: TurnStyle) -> Vec<Point> {
    let mut p = points.to_vec();
    if pose.turn != 0.0 {
        let shift = pose.turn * amp.slide * span;
        for (i, point) in p.iter_mut().enumerate().skip(17) {
            let weight = match (style, i) {
                (TurnStyle::Slide, _) => 1.0,
                (TurnStyle::DepthWeighted, 30..=35) => 1.0,
                (TurnStyle::DepthWeighted, 27..=29) => 0.8,
                (TurnStyle::DepthWeighted, _) => 0.5,
            };
            point.0 += weight * shift;
        }
    }
    if pose.mouth > 0.0 {
        let drop = pose.mouth * amp.drop * span;
        // Lower lip (outer 55-59, inner 65-67) fully, the chin and jaw fading towards the ears.
        for i in (55..60).chain(65..68) {
            p[i].1 += drop;
        }
        for (i, weight) in [
            (5, 0.4),
            (6, 0.65),
            (7, 0.85),
            (8, 1.0),
            (9, 0.85),
            (10, 0.65),
            (11, 0.4),
        ] {
            p[i].1 += weight * drop;
        }
        for i in [48, 54, 60, 64] {
            p[i].1 += 0.35 * drop;
        }
    }
    if pose.blink > 0.0 {
        let pull = pose.blink * amp.lid;
        for (upper, lower) in [(37, 41), (38, 40), (43, 47), (44, 46)] {
            let dy = points[lower].1 - points[upper].1;
            let dx = points[lower].0 - points[upper].0;
            p[upper].0 += pull * dx;
            p[upper].1 += pull * dy;
        }
    }
    p
}

/// A similarity transform: scale·R(angle)·(p − from) + to.
#[derive(Clone, Copy)]
struct Similarity {
    scale: f64,
    cos: f64,
    sin: f64,
    from: Point,
    to: Point,
}

impl Similarity {
    fn apply(&self, (x, y): Point) -> Point {
        let (dx, dy) = (x - self.from.0, y - self.from.1);
        (
            self.scale * (self.cos * dx - self.sin * dy) + self.to.0,
            self.scale * (self.sin * dx + self.cos * dy) + self.to.1,
        )
    }

    fn invert(&self, (x, y): Point) -> Point {
        let (dx, dy) = ((x - self.to.0) / self.scale, (y - self.to.1) / self.scale);
        (
            self.cos * dx + self.sin * dy + self.from.0,
            -self.sin * dx + self.cos * dy + self.from.1,
        )
    }
}

/// Hand-held drift: slow sinusoids of shift, zoom and in-plane rotation, plus a little shake.
struct Drift {
    shift: (f64, f64),
    zoom: f64,
    angle: f64,
    freq: [f64; 4],
    phase: [f64; 4],
}

impl Drift {
    fn random(rng: &mut impl Rng) -> Self {
        Self {
            shift: (rng.gen_range(2.0..9.0), rng.gen_range(2.0..7.0)),
            zoom: rng.gen_range(0.01..0.05),
            angle: rng.gen_range(0.5_f64..3.0).to_radians(),
            freq: [(); 4].map(|_| rng.gen_range(0.15..0.6)),
            phase: [(); 4].map(|_| rng.gen_range(0.0..std::f64::consts::TAU)),
        }
    }

    fn at(&self, t: f64, scale: f64, from: Point, to: Point, rng: &mut impl Rng) -> Similarity {
        let wave = |k: usize| (std::f64::consts::TAU * self.freq[k] * t + self.phase[k]).sin();
        let angle = self.angle * wave(2);
        Similarity {
            scale: scale * (1.0 + self.zoom * wave(3)),
            cos: angle.cos(),
            sin: angle.sin(),
            from,
            to: (
                to.0 + self.shift.0 * wave(0) + rng.gen_range(-0.6..0.6),
                to.1 + self.shift.1 * wave(1) + rng.gen_range(-0.6..0.6),
            ),
        }
    }
}

/// The whole picture under the drift alone (grey outside the photo).
fn background(photo: &RgbImage, to_out: &Similarity) -> RgbImage {
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let (sx, sy) = to_out.invert((f64::from(x), f64::from(y)));
        sample(photo, sx, sy)
    })
}

/// Bilinear sample; grey outside the picture.
fn sample(image: &RgbImage, x: f64, y: f64) -> Rgb<u8> {
    let (w, h) = image.dimensions();
    if x < 0.0 || y < 0.0 || x > f64::from(w - 1) || y > f64::from(h - 1) {
        return Rgb([128, 128, 128]);
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let px = |x, y| image.get_pixel(x, y).0.map(f64::from);
    let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    Rgb([0, 1, 2].map(|k| {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bottom = c[k] + (d[k] - c[k]) * fx;
        (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8
    }))
}

/// Fills the output triangle `to` with the photo's triangle `from` (an affine map).
fn warp_triangle(photo: &RgbImage, out: &mut RgbImage, from: [Point; 3], to: [Point; 3]) {
    let [a, b, c] = to;
    let area = (b.0 - a.0) * (c.1 - a.1) - (c.0 - a.0) * (b.1 - a.1);
    if area.abs() < 1e-6 {
        return;
    }
    let min_x = a.0.min(b.0).min(c.0).floor().max(0.0) as u32;
    let max_x = a.0.max(b.0).max(c.0).ceil().min(f64::from(WIDTH - 1)) as u32;
    let min_y = a.1.min(b.1).min(c.1).floor().max(0.0) as u32;
    let max_y = a.1.max(b.1).max(c.1).ceil().min(f64::from(HEIGHT - 1)) as u32;
    for y in min_y..=max_y {
        for x in min_x..=max_x {
            let p = (f64::from(x), f64::from(y));
            let w1 = ((p.0 - a.0) * (c.1 - a.1) - (c.0 - a.0) * (p.1 - a.1)) / area;
            let w2 = ((b.0 - a.0) * (p.1 - a.1) - (p.0 - a.0) * (b.1 - a.1)) / area;
            let w0 = 1.0 - w1 - w2;
            if w0 < -1e-9 || w1 < -1e-9 || w2 < -1e-9 {
                continue;
            }
            let sx = w0 * from[0].0 + w1 * from[1].0 + w2 * from[2].0;
            let sy = w0 * from[0].1 + w1 * from[1].1 + w2 * from[2].1;
            out.put_pixel(x, y, sample(photo, sx, sy));
        }
    }
}

/// A dark mouth interior inside the inner-lip polygon (points 60-67, in output pixels).
fn paint_mouth(out: &mut RgbImage, inner: &[Point], rng: &mut impl Rng) {
    let shade = [
        rng.gen_range(25.0..45.0),
        rng.gen_range(12.0..25.0),
        rng.gen_range(12.0..28.0),
    ];
    let (lo, hi) = inner
        .iter()
        .fold(((f64::MAX, f64::MAX), (0.0_f64, 0.0_f64)), |(lo, hi), &(x, y)| {
            ((lo.0.min(x), lo.1.min(y)), (hi.0.max(x), hi.1.max(y)))
        });
    let (min_x, min_y) = (lo.0.max(0.0) as u32, lo.1.max(0.0) as u32);
    let max_x = hi.0.min(f64::from(WIDTH - 1)) as u32;
    let max_y = hi.1.min(f64::from(HEIGHT - 1)) as u32;
    for y in min_y..=max_y {
        for x in min_x..=max_x {
            if inside(inner, (f64::from(x) + 0.5, f64::from(y) + 0.5)) {
                out.put_pixel(x, y, Rgb(shade.map(|v: f64| v as u8)));
            }
        }
    }
}

/// Even-odd point-in-polygon test.
fn inside(polygon: &[Point], p: Point) -> bool {
    let mut result = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            result = !result;
        }
        j = i;
    }
    result
}

fn add_noise(out: &mut RgbImage, sigma: f64, rng: &mut impl Rng) {
    for pixel in out.pixels_mut() {
        // Box-Muller: one normal deviate per channel.
        for channel in &mut pixel.0 {
            let (u1, u2): (f64, f64) = (rng.gen_range(1e-9..1.0), rng.r#gen());
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            *channel = (f64::from(*channel) + sigma * normal).round().clamp(0.0, 255.0) as u8;
        }
    }
}

fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(image)
        .expect("encode JPEG");
    bytes
}

fn mean(points: &[Point]) -> Point {
    let n = points.len().max(1) as f64;
    let (x, y) = points.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
    (x / n, y / n)
}

fn dist(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// The frames as the `{t_ms, image}` JSON a client uploads or sends on the live socket.
pub fn as_json(frames: &[(f64, Vec<u8>)]) -> Vec<serde_json::Value> {
    use base64::Engine;
    frames
        .iter()
        .map(|(t_ms, bytes)| {
            serde_json::json!({
                "t_ms": t_ms,
                "image": format!(
                    "data:image/jpeg;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
            })
        })
        .collect()
}
