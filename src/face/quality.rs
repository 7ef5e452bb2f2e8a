//! Is this face good enough to enrol or to log in with? Lighting, sharpness and head pose,
//! measured on the face itself, not on the whole frame.

use dlib_face_recognition::FaceLandmarks;
use image::{GrayImage, RgbImage, imageops::FilterType};

use super::{FaceBox, FaceError, FaceSettings};

/// What was measured; returned with every accepted face (and logged with refusals).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QualityReport {
    /// Side of the face box, in pixels of the original picture.
    pub face_size: u32,
    /// Mean grey level in the face box, 0-255.
    pub brightness: f64,
    /// Variance of the Laplacian of the face scaled to at most 128 px: low means blurry.
    pub sharpness: f64,
    /// Head turn to the side, degrees (estimate from landmarks; + = towards the image's right).
    pub yaw_degrees: f64,
    /// Head tilt, degrees (estimate; + = looking up).
    pub pitch_degrees: f64,
}

/// The face's pixels in grey, clamped to the picture.
pub fn face_crop(image: &RgbImage, face: &FaceBox) -> Option<GrayImage> {
    let left = face.left.clamp(0, image.width() as i64) as u32;
    let top = face.top.clamp(0, image.height() as i64) as u32;
    let right = face.right.clamp(0, image.width() as i64) as u32;
    let bottom = face.bottom.clamp(0, image.height() as i64) as u32;
    if right <= left || bottom <= top {
        return None;
    }
    let crop = image::imageops::crop_imm(image, left, top, right - left, bottom - top).to_image();
    Some(image::DynamicImage::ImageRgb8(crop).into_luma8())
}

pub fn mean_brightness(face: &GrayImage) -> f64 {
    let sum: u64 = face.pixels().map(|p| u64::from(p.0[0])).sum();
    sum as f64 / (face.width() as f64 * face.height() as f64).max(1.0)
}

/// Variance of the 4-neighbour Laplacian, on the face scaled to at most 128 px so that the
/// measure does not depend on how close the camera is.
pub fn sharpness(face: &GrayImage) -> f64 {
    const SIDE: u32 = 128;
    let scaled;
    let face = if face.width().max(face.height()) > SIDE {
        let k = SIDE as f64 / face.width().max(face.height()) as f64;
        let (w, h) = (
            ((face.width() as f64 * k) as u32).max(3),
            ((face.height() as f64 * k) as u32).max(3),
        );
        scaled = image::imageops::resize(face, w, h, FilterType::Triangle);
        &scaled
    } else {
        face
    };
    let (w, h) = face.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let at = |x: u32, y: u32| f64::from(face.get_pixel(x, y).0[0]);
    let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0.0);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let l = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y);
            sum += l;
            sum_sq += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    sum_sq / n - mean * mean
}

/// Yaw and pitch, in degrees, from the 68-point landmarks (see [`super::pose`]).
pub fn head_pose(landmarks: &FaceLandmarks) -> Option<(f64, f64)> {
    let points: Vec<(f64, f64)> = landmarks.iter().map(|p| (p.x() as f64, p.y() as f64)).collect();
    super::pose::estimate_pose(&points).map(|pose| (pose.yaw_degrees, pose.pitch_degrees))
}

/// Checks size and lighting, then sharpness: the ones that need no landmarks, cheapest first.
pub fn check_face(
    image: &RgbImage,
    face: &FaceBox,
    settings: &FaceSettings,
) -> Result<QualityReport, FaceError> {
    let face_size = face.size();
    if face_size < settings.min_face_size {
        return Err(FaceError::FaceTooSmall {
            size: face_size,
            min: settings.min_face_size,
        });
    }
    let crop = face_crop(image, face).ok_or(FaceError::NoFace)?;
    let brightness = mean_brightness(&crop);
    if brightness < settings.min_brightness {
        return Err(FaceError::TooDark {
            brightness,
            min: settings.min_brightness,
        });
    }
    if brightness > settings.max_brightness {
        return Err(FaceError::TooBright {
            brightness,
            max: settings.max_brightness,
        });
    }
    let sharpness = sharpness(&crop);
    if sharpness < settings.min_sharpness {
        return Err(FaceError::TooBlurry {
            sharpness,
            min: settings.min_sharpness,
        });
    }
    Ok(QualityReport {
        face_size,
        brightness,
        sharpness,
        yaw_degrees: 0.0,
        pitch_degrees: 0.0,
    })
}

/// Checks the head pose from the landmarks, completing `report`.
pub fn check_pose(
    landmarks: &FaceLandmarks,
    mut report: QualityReport,
    settings: &FaceSettings,
) -> Result<QualityReport, FaceError> {
    let Some((yaw, pitch)) = head_pose(landmarks) else {
        return Ok(report);
    };
    if yaw.abs() > settings.max_yaw_degrees || pitch.abs() > settings.max_pitch_degrees {
        return Err(FaceError::FaceTurned {
            yaw_degrees: yaw,
            pitch_degrees: pitch,
            max_yaw_degrees: settings.max_yaw_degrees,
            max_pitch_degrees: settings.max_pitch_degrees,
        });
    }
    report.yaw_degrees = yaw;
    report.pitch_degrees = pitch;
    Ok(report)
}
