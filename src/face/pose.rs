//! Head pose from the 68 landmarks: a generic 3D face (six points) is fitted to the detected
//! points under weak perspective (scaled orthographic projection, fine at webcam distance) by
//! least squares, giving the head's rotation and from it yaw and pitch.

use serde::Serialize;

/// Where a head points, in degrees. Yaw > 0: the nose points towards the picture's right.
/// Pitch > 0: the nose points up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeadPose {
    pub(crate) yaw_degrees: f64,
    pub(crate) pitch_degrees: f64,
}

/// The six points of the usual generic head model (arbitrary units; x right, y up, z towards
/// the camera), and their indices among dlib's 68 landmarks.
const MODEL: [(usize, [f64; 3]); 6] = [
    (30, [0.0, 0.0, 0.0]),          // nose tip
    (8, [0.0, -330.0, -65.0]),      // chin
    (36, [-225.0, 170.0, -135.0]),  // outer corner of the eye on the picture's left
    (45, [225.0, 170.0, -135.0]),   // outer corner of the eye on the picture's right
    (48, [-150.0, -150.0, -125.0]), // mouth corner, picture's left
    (54, [150.0, -150.0, -125.0]),  // mouth corner, picture's right
];

/// Estimates the pose from the 68 landmarks in picture coordinates (y down); `None` for another
/// number of points or a degenerate fit.
pub fn estimate_pose(landmarks: &[(f64, f64)]) -> Option<HeadPose> {
    if landmarks.len() != 68 {
        return None;
    }
    let n = MODEL.len() as f64;
    // Centre both point sets; y flipped so the picture's axes match the model's.
    let image: Vec<[f64; 2]> = MODEL
        .iter()
        .map(|&(index, _)| [landmarks[index].0, -landmarks[index].1])
        .collect();
    let image_mean = [0, 1].map(|k| image.iter().map(|p| p[k]).sum::<f64>() / n);
    let model_mean = [0, 1, 2].map(|k| MODEL.iter().map(|(_, p)| p[k]).sum::<f64>() / n);

    // Least squares for the 2×3 projection M: M = (Σ x Xᵀ)(Σ X Xᵀ)⁻¹.
    let mut xx = [[0.0; 3]; 3];
    let mut ux = [[0.0; 3]; 2];
    for ((_, model), image) in MODEL.iter().zip(&image) {
        let m = [0, 1, 2].map(|k| model[k] - model_mean[k]);
        let u = [0, 1].map(|k| image[k] - image_mean[k]);
        for r in 0..3 {
            for c in 0..3 {
                xx[r][c] += m[r] * m[c];
            }
        }
        for r in 0..2 {
            for c in 0..3 {
                ux[r][c] += u[r] * m[c];
            }
        }
    }
    let inverse = invert3(&xx)?;
    let row = |r: usize| [0, 1, 2].map(|c| (0..3).map(|k| ux[r][k] * inverse[k][c]).sum::<f64>());

    // The two rows are the first two rows of a rotation, scaled: normalise, orthogonalise.
    let r1 = normalised(row(0))?;
    let r2 = row(1);
    let r2 = normalised(sub(r2, scale(r1, dot(r1, r2))))?;
    let r3 = cross(r1, r2);
    // The face's forward axis (model +z) seen from the camera.
    let forward = [r1[2], r2[2], r3[2]];
    Some(HeadPose {
        yaw_degrees: forward[0].atan2(forward[2]).to_degrees(),
        pitch_degrees: forward[1].atan2(forward[0].hypot(forward[2])).to_degrees(),
    })
}

fn invert3(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let cofactor = |r: usize, c: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((c + 1) % 3, (c + 2) % 3);
        m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]
    };
    let det: f64 = (0..3).map(|c| m[0][c] * cofactor(0, c)).sum();
    if det.abs() < 1e-12 {
        return None;
    }
    // inverse = adjugate / det; the adjugate is the transposed cofactor matrix.
    Some([0, 1, 2].map(|r| [0, 1, 2].map(|c| cofactor(c, r) / det)))
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    a.map(|v| v * s)
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn normalised(a: [f64; 3]) -> Option<[f64; 3]> {
    let length = dot(a, a).sqrt();
    (length > 1e-9).then(|| scale(a, 1.0 / length))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model turned by `yaw` then tilted by `pitch`, projected orthographically into a
    /// picture (y down) at a scale and offset, as 68 landmarks (unused ones at the nose).
    fn project(yaw: f64, pitch: f64) -> Vec<(f64, f64)> {
        let (sy, cy) = yaw.to_radians().sin_cos();
        let (sp, cp) = pitch.to_radians().sin_cos();
        let mut points = vec![(300.0, 200.0); 68];
        for (index, [x, y, z]) in MODEL {
            // Yaw about the vertical axis (nose to +x for yaw > 0), then pitch about x (nose up).
            let (x1, z1) = (x * cy + z * sy, -x * sy + z * cy);
            let (y2, _z2) = (y * cp + z1 * sp, -y * sp + z1 * cp);
            points[index] = (300.0 + 0.4 * x1, 200.0 - 0.4 * y2);
        }
        points
    }

    #[test]
    fn recovers_known_rotations() {
        for (yaw, pitch) in [(0.0, 0.0), (25.0, 0.0), (-40.0, 0.0), (0.0, 15.0), (20.0, -12.0)] {
            let pose = estimate_pose(&project(yaw, pitch)).expect("a pose");
            assert!((pose.yaw_degrees - yaw).abs() < 1.5, "yaw {yaw}: {pose:?}");
            assert!(
                (pose.pitch_degrees - pitch).abs() < 1.5,
                "pitch {pitch}: {pose:?}"
            );
        }
    }

    #[test]
    fn needs_68_points() {
        assert_eq!(estimate_pose(&[(0.0, 0.0); 5]), None);
        assert_eq!(estimate_pose(&[(1.0, 1.0); 68]), None);
    }
}
