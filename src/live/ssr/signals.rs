//! What the 68 landmarks say about movement, as numbers that do not change when a picture is
//! moved, turned in its plane or zoomed: a photo waved at the camera keeps them constant, a face
//! changes them.
//!
//! Landmark indices are dlib's 68-point layout: jaw 0-16, nose tip 30, eyes 36-41 and 42-47,
//! mouth corners 48 and 54, inner lips 60-67. "Left"/"right" below are the picture's.

type Point = (f64, f64);

/// The measures of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceSignals {
    /// Where the nose tip sits between the two ends of the jaw line, −1 (at the picture's left
    /// end) … 1 (right end); 0 is a frontal face. Positive: the person turned to *their* left
    /// (the nose points to the picture's right in an unmirrored frame).
    pub yaw: f64,
    /// Mean eye aspect ratio (eye height / eye width), ~0.25-0.35 open, falls when the eyes close.
    pub eyes: f64,
    /// Inner-lip opening / mouth width: ~0-0.05 closed, 0.3+ wide open.
    pub mouth: f64,
    /// Distance between the outer eye corners, in pixels: the face's scale.
    pub eye_span: f64,
}

impl FaceSignals {
    /// `None` unless there are 68 points and the face has a usable size.
    pub fn from_landmarks(points: &[Point]) -> Option<Self> {
        if points.len() != 68 {
            return None;
        }
        let (jaw_left, jaw_right, nose) = (points[0], points[16], points[30]);
        let jaw = sub(jaw_right, jaw_left);
        let jaw_len2 = dot(jaw, jaw);
        let eye_span = dist(points[36], points[45]);
        if jaw_len2 < 1.0 || eye_span < 1.0 {
            return None;
        }
        let along = dot(sub(nose, jaw_left), jaw) / jaw_len2;
        let mouth_width = dist(points[48], points[54]);
        Some(Self {
            yaw: 2.0 * along - 1.0,
            eyes: (eye_ratio(&points[36..42]) + eye_ratio(&points[42..48])) / 2.0,
            mouth: if mouth_width < 1.0 {
                0.0
            } else {
                dist(points[62], points[66]) / mouth_width
            },
            eye_span,
        })
    }
}

/// (|p1-p5| + |p2-p4|) / (2 |p0-p3|) for one eye's six points.
fn eye_ratio(eye: &[Point]) -> f64 {
    let width = dist(eye[0], eye[3]);
    if width < 1e-6 {
        return 0.0;
    }
    (dist(eye[1], eye[5]) + dist(eye[2], eye[4])) / (2.0 * width)
}

/// How much of the landmarks' motion from `reference` to `points` is *not* a similarity
/// transform (shift, in-plane rotation, zoom): the root-mean-square distance left after the
/// best such alignment, in units of the reference's eye span. A photo moved about as a whole
/// stays near the landmark detector's own jitter; a living face blinking, talking or turning
/// goes well above it.
pub fn non_rigid_residual(reference: &[Point], points: &[Point]) -> Option<f64> {
    if reference.len() != 68 {
        return None;
    }
    let span = dist(reference[36], reference[45]).max(1.0);
    similarity_residual(reference, points).map(|r| r / span)
}

/// The root-mean-square distance, in pixels, between `points` and `reference` after the best
/// similarity alignment (shift, in-plane rotation, zoom) of the one onto the other.
pub fn similarity_residual(reference: &[Point], points: &[Point]) -> Option<f64> {
    if reference.len() != points.len() || reference.len() < 3 {
        return None;
    }
    let n = reference.len() as f64;
    let mean = |ps: &[Point]| {
        let (x, y) = ps.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
        (x / n, y / n)
    };
    let (ra, pa) = (mean(reference), mean(points));
    // Least-squares similarity p ≈ s R r + t, in complex form: a = Σ conj(r)·p / Σ |r|².
    let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
    for (r, p) in reference.iter().zip(points) {
        let (rx, ry) = (r.0 - ra.0, r.1 - ra.1);
        let (px, py) = (p.0 - pa.0, p.1 - pa.1);
        re += rx * px + ry * py;
        im += rx * py - ry * px;
        norm += rx * rx + ry * ry;
    }
    if norm < 1e-9 {
        return None;
    }
    let (a, b) = (re / norm, im / norm);
    let residual2 = reference
        .iter()
        .zip(points)
        .map(|(r, p)| {
            let (rx, ry) = (r.0 - ra.0, r.1 - ra.1);
            let fitted = (a * rx - b * ry, b * rx + a * ry);
            let d = (p.0 - pa.0 - fitted.0, p.1 - pa.1 - fitted.1);
            d.0 * d.0 + d.1 * d.1
        })
        .sum::<f64>()
        / n;
    Some(residual2.sqrt())
}

fn sub(a: Point, b: Point) -> Point {
    (a.0 - b.0, a.1 - b.1)
}

fn dot(a: Point, b: Point) -> f64 {
    a.0 * b.0 + a.1 * b.1
}

fn dist(a: Point, b: Point) -> f64 {
    let d = sub(a, b);
    dot(d, d).sqrt()
}

/// A synthetic frontal face for tests: jaw arc 20…180 px, nose tip at 100, outer eye corners
/// 90 px apart, mouth 50 px wide and slightly open.
#[cfg(test)]
pub fn test_face() -> Vec<Point> {
    let mut p = vec![(100.0, 120.0); 68];
    for (i, point) in p.iter_mut().enumerate().take(17) {
        let a = std::f64::consts::PI * (i as f64 / 16.0);
        *point = (100.0 - 80.0 * a.cos(), 100.0 + 90.0 * a.sin());
    }
    for (i, point) in p.iter_mut().enumerate().skip(17) {
        *point = (60.0 + (i % 7) as f64 * 12.0, 60.0 + (i % 5) as f64 * 9.0);
    }
    p[30] = (100.0, 110.0);
    let eye = |cx: f64| {
        [
            (cx - 15.0, 80.0),
            (cx - 5.0, 75.0),
            (cx + 5.0, 75.0),
            (cx + 15.0, 80.0),
            (cx + 5.0, 85.0),
            (cx - 5.0, 85.0),
        ]
    };
    p[36..42].copy_from_slice(&eye(70.0));
    p[42..48].copy_from_slice(&eye(130.0));
    p[48] = (75.0, 150.0);
    p[54] = (125.0, 150.0);
    p[62] = (100.0, 148.0);
    p[66] = (100.0, 152.0);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face() -> Vec<Point> {
        test_face()
    }

    fn transform(points: &[Point], scale: f64, angle: f64, shift: Point) -> Vec<Point> {
        let (s, c) = angle.sin_cos();
        points
            .iter()
            .map(|&(x, y)| {
                (
                    scale * (c * x - s * y) + shift.0,
                    scale * (s * x + c * y) + shift.1,
                )
            })
            .collect()
    }

    #[test]
    fn signals_of_a_frontal_face() {
        let signals = FaceSignals::from_landmarks(&face()).expect("signals");
        assert!(signals.yaw.abs() < 0.01, "{signals:?}");
        assert!((signals.eyes - 1.0 / 3.0).abs() < 1e-9, "{signals:?}");
        assert!((signals.mouth - 0.08).abs() < 1e-9, "{signals:?}");
        assert_eq!(FaceSignals::from_landmarks(&face()[..5]), None);
    }

    #[test]
    fn signals_ignore_moving_the_picture() {
        let base = FaceSignals::from_landmarks(&face()).expect("signals");
        let moved =
            FaceSignals::from_landmarks(&transform(&face(), 1.7, 0.4, (33.0, -20.0))).expect("signals");
        assert!((base.yaw - moved.yaw).abs() < 1e-9);
        assert!((base.eyes - moved.eyes).abs() < 1e-9);
        assert!((base.mouth - moved.mouth).abs() < 1e-9);
    }

    #[test]
    fn the_residual_ignores_similarity_transforms_but_not_expressions() {
        let reference = face();
        let moved = transform(&reference, 0.6, -0.3, (120.0, 45.0));
        assert!(non_rigid_residual(&reference, &moved).expect("residual") < 1e-9);
        let mut open_mouth = reference.clone();
        for point in &mut open_mouth[55..68] {
            point.1 += 12.0;
        }
        let residual = non_rigid_residual(&reference, &transform(&open_mouth, 0.6, -0.3, (120.0, 45.0)))
            .expect("residual");
        assert!(residual > 0.02, "{residual}");
    }
}
