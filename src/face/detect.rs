//! Finding faces. dlib's HOG detector costs time in proportion to the pixels it scans and finds
//! faces from ~80 px up, so it searches a copy whose longest side is at most `detect_max_side`;
//! if that finds nothing, it searches once more at twice that scale for faces far from the camera.

use dlib_face_recognition::{FaceDetectorTrait, ImageMatrix, Rectangle};
use image::{RgbImage, imageops::FilterType};

use super::FaceSettings;

/// A face box in the pixels of the original picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaceBox {
    pub left: i64,
    pub top: i64,
    pub right: i64,
    pub bottom: i64,
}

impl FaceBox {
    pub fn width(&self) -> i64 {
        self.right - self.left
    }

    pub fn height(&self) -> i64 {
        self.bottom - self.top
    }

    /// The smaller side: what "face size" means for the too-small check.
    pub fn size(&self) -> u32 {
        self.width().min(self.height()).max(0) as u32
    }

    pub fn to_rectangle(self) -> Rectangle {
        Rectangle {
            left: self.left as _,
            top: self.top as _,
            right: self.right as _,
            bottom: self.bottom as _,
        }
    }
}

/// All faces in `image`, in its own pixels.
pub fn find_faces(
    detector: &dyn FaceDetectorTrait,
    image: &RgbImage,
    settings: &FaceSettings,
) -> Vec<FaceBox> {
    let longest = image.width().max(image.height()).max(1);
    let scale = (settings.detect_max_side as f64 / longest as f64).min(1.0);
    let faces = detect_at(detector, image, scale);
    if !faces.is_empty() || !settings.detect_retry {
        return faces;
    }
    // A second look at twice the scale; at most 2× the original (an upscale of small frames).
    detect_at(detector, image, (scale * 2.0).min(2.0))
}

fn detect_at(detector: &dyn FaceDetectorTrait, image: &RgbImage, scale: f64) -> Vec<FaceBox> {
    let scaled;
    let working = if (scale - 1.0).abs() < 1e-9 {
        image
    } else {
        let width = ((image.width() as f64 * scale).round() as u32).max(1);
        let height = ((image.height() as f64 * scale).round() as u32).max(1);
        scaled = image::imageops::resize(image, width, height, FilterType::Triangle);
        &scaled
    };
    let matrix = ImageMatrix::from_image(working);
    detector
        .face_locations(&matrix)
        .iter()
        .map(|r| FaceBox {
            left: (r.left as f64 / scale).round() as i64,
            top: (r.top as f64 / scale).round() as i64,
            right: (r.right as f64 / scale).round() as i64,
            bottom: (r.bottom as f64 / scale).round() as i64,
        })
        .collect()
}
