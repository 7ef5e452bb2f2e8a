//! Is the face good enough to encode? Lighting and sharpness are measured on a grey copy of the
//! face box scaled down to at most [`PATCH_SIDE`] pixels, so the numbers mean the same for a
//! face of 100 px and of 1000 px; size and pose come from the detector and the landmarks.

use image::{GrayImage, RgbImage, imageops};
use serde::Serialize;

use super::{FaceError, FaceSettings, HeadPose, detect::FaceBox};

/// Faces are scaled to this many pixels (longer side) before measuring: about the size the
/// encoder sees (its 150 px chip holds the face with 25 % padding each side), so one threshold
/// means the same for a 70 px webcam face and a 1000 px photo.
pub const PATCH_SIDE: u32 = 100;

/// What the checks measured on an accepted face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityReport {
    /// Side of the detector's box, in pixels of the original picture.
    pub face_size: u32,
    /// Mean grey level (0-255) inside the face box.
    pub brightness: f64,
    /// Variance of the Laplacian of the face relative to its contrast, in percent (higher is
    /// sharper; see `FacePatch::sharpness`).
    pub sharpness: f64,
    pub yaw_degrees: f64,
    pub pitch_degrees: f64,
}

/// A grey copy of the face, `PATCH_SIDE` pixels on its longer side.
pub struct FacePatch {
    grey: GrayImage,
}

impl FacePatch {
    pub fn cut(frame: &RgbImage, face: FaceBox) -> Self {
        let view = imageops::crop_imm(frame, face.left, face.top, face.width, face.height);
        let longer = face.width.max(face.height).max(1);
        let fit = |side: u32| (u64::from(side) * u64::from(PATCH_SIDE) / u64::from(longer)).max(1) as u32;
        let (width, height) = (fit(face.width), fit(face.height));
        let grey = if longer > PATCH_SIDE {
            // Area averaging: what a smaller face at the same sharpness would look like.
            let small: RgbImage = imageops::thumbnail(&*view, width, height);
            imageops::grayscale(&small)
        } else {
            let grey = imageops::grayscale(&*view);
            imageops::resize(&grey, width, height, imageops::FilterType::Triangle)
        };
        Self { grey }
    }

    pub fn brightness(&self) -> f64 {
        mean_grey(&self.grey)
    }

    /// Variance of the 4-neighbour Laplacian relative to the variance of the grey levels, in
    /// percent: edges and fine texture give large Laplacian responses and blur flattens them,
    /// while dividing by the contrast keeps a dim or flat-lit face from reading as blurred.
    /// 0 for patches too small or too flat to measure.
    pub fn sharpness(&self) -> f64 {
        let (width, height) = self.grey.dimensions();
        if width < 3 || height < 3 {
            return 0.0;
        }
        let at = |x: u32, y: u32| f64::from(self.grey.get_pixel(x, y).0[0]);
        let mut laplacian = Moments::default();
        let mut grey = Moments::default();
        for y in 1..height - 1 {
            for x in 1..width - 1 {
                let centre = at(x, y);
                laplacian.add(at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * centre);
                grey.add(centre);
            }
        }
        // Below one grey level of spread there is nothing to measure sharpness on.
        let contrast = grey.variance();
        if contrast < 1.0 {
            0.0
        } else {
            100.0 * laplacian.variance() / contrast
        }
    }
}

/// Running sum and sum of squares.
#[derive(Default)]
struct Moments {
    count: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn add(&mut self, value: f64) {
        self.count += 1.0;
        self.sum += value;
        self.sum_sq += value * value;
    }

    fn variance(&self) -> f64 {
        if self.count == 0.0 {
            return 0.0;
        }
        let mean = self.sum / self.count;
        (self.sum_sq / self.count - mean * mean).max(0.0)
    }
}

/// Mean grey level of a whole picture, from at most ~64k sampled pixels: tells "too dark" from
/// "no face" when the detector finds nothing.
pub fn frame_brightness(frame: &RgbImage) -> f64 {
    let (width, height) = frame.dimensions();
    let step = ((u64::from(width) * u64::from(height) / 65_536) as f64)
        .sqrt()
        .max(1.0) as usize;
    let (mut sum, mut count) = (0.0, 0.0);
    for y in (0..height).step_by(step) {
        for x in (0..width).step_by(step) {
            sum += luma(frame.get_pixel(x, y).0);
            count += 1.0;
        }
    }
    if count == 0.0 { 0.0 } else { sum / count }
}

fn mean_grey(grey: &GrayImage) -> f64 {
    let pixels = grey.as_raw();
    if pixels.is_empty() {
        return 0.0;
    }
    pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / pixels.len() as f64
}

/// Rec. 709 luma, as `imageops::grayscale` computes it.
fn luma([r, g, b]: [u8; 3]) -> f64 {
    0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
}

pub fn check_size(size: u32, settings: &FaceSettings) -> Result<(), FaceError> {
    if size < settings.min_face_size {
        return Err(FaceError::FaceTooSmall {
            size,
            min: settings.min_face_size,
        });
    }
    Ok(())
}

pub fn check_lighting(brightness: f64, settings: &FaceSettings) -> Result<(), FaceError> {
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
    Ok(())
}

pub fn check_sharpness(sharpness: f64, settings: &FaceSettings) -> Result<(), FaceError> {
    if sharpness < settings.min_sharpness {
        return Err(FaceError::TooBlurry {
            sharpness,
            min: settings.min_sharpness,
        });
    }
    Ok(())
}

pub fn check_pose(pose: HeadPose, settings: &FaceSettings) -> Result<(), FaceError> {
    if pose.yaw_degrees.abs() > settings.max_yaw_degrees
        || pose.pitch_degrees.abs() > settings.max_pitch_degrees
    {
        return Err(FaceError::FaceTurned {
            yaw_degrees: pose.yaw_degrees,
            pitch_degrees: pose.pitch_degrees,
            max_yaw_degrees: settings.max_yaw_degrees,
            max_pitch_degrees: settings.max_pitch_degrees,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn whole(image: &RgbImage) -> FaceBox {
        FaceBox {
            left: 0,
            top: 0,
            width: image.width(),
            height: image.height(),
        }
    }

    #[test]
    fn flat_patches_have_no_sharpness_and_their_own_brightness() {
        let grey = RgbImage::from_pixel(300, 200, Rgb([100, 100, 100]));
        let patch = FacePatch::cut(&grey, whole(&grey));
        assert_eq!(patch.grey.dimensions(), (100, 66));
        assert!((patch.brightness() - 100.0).abs() < 0.5);
        assert!(patch.sharpness() < 1e-9);
        assert!((frame_brightness(&grey) - 100.0).abs() < 0.5);
    }

    #[test]
    fn blur_lowers_sharpness() {
        let checker = RgbImage::from_fn(128, 128, |x, y| {
            if (x / 4 + y / 4) % 2 == 0 {
                Rgb([220, 220, 220])
            } else {
                Rgb([30, 30, 30])
            }
        });
        let blurred = imageops::blur(&checker, 3.0);
        let sharp = FacePatch::cut(&checker, whole(&checker)).sharpness();
        let soft = FacePatch::cut(&blurred, whole(&blurred)).sharpness();
        assert!(sharp > 10.0 * soft, "{sharp} vs {soft}");
        // Relative to contrast: the same pattern at a quarter of the contrast is as sharp.
        let dim = RgbImage::from_fn(128, 128, |x, y| Rgb(checker.get_pixel(x, y).0.map(|v| v / 4)));
        let dim_sharpness = FacePatch::cut(&dim, whole(&dim)).sharpness();
        assert!(
            (dim_sharpness / sharp - 1.0).abs() < 0.1,
            "{dim_sharpness} vs {sharp}"
        );
    }

    #[test]
    fn checks_use_the_settings() {
        let settings = FaceSettings::default();
        assert!(check_lighting(10.0, &settings).is_err());
        assert!(check_lighting(250.0, &settings).is_err());
        assert!(check_lighting(120.0, &settings).is_ok());
        assert!(check_size(10, &settings).is_err());
        let turned = HeadPose {
            yaw_degrees: -45.0,
            pitch_degrees: 0.0,
        };
        assert_eq!(
            check_pose(turned, &settings).map_err(|e| e.code()),
            Err("face_turned")
        );
    }
}
