//! Finding faces: the detector searches a copy scaled so that its longer side is at most
//! `detect_max_side` (large frames cost time without finding more faces at webcam distance), and
//! the boxes are scaled back to the original picture. With `detect_retry`, an empty result is
//! followed by one more search at twice the scale, which also upscales small frames 2× (like
//! face_recognition's default `number_of_times_to_upsample=1`).

use dlib_face_recognition::{ImageMatrix, Rectangle};
use image::imageops;

use super::models::Detector;
use super::{FaceError, Frame};

/// A face as the detector drew it, in pixels of the original picture. Right and bottom are
/// exclusive. May reach past the picture's edges when the face is cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceRect {
    pub left: i64,
    pub top: i64,
    pub right: i64,
    pub bottom: i64,
}

/// A face box inside the picture, in its pixels: the live protocol's own type, so what the
/// detector finds is what the socket sends (one type, shared with the browser).
pub use crate::live::FaceBox;

impl FaceRect {
    pub fn width(&self) -> i64 {
        self.right - self.left
    }

    pub fn height(&self) -> i64 {
        self.bottom - self.top
    }

    /// The face's size: the shorter side of the box, as drawn (also the part outside the picture).
    pub fn size(&self) -> u32 {
        u32::try_from(self.width().min(self.height()).max(0)).unwrap_or(u32::MAX)
    }

    pub fn area(&self) -> i64 {
        self.width().max(0) * self.height().max(0)
    }

    /// The part inside a `width`×`height` picture; `None` if nothing is inside.
    pub fn clipped(&self, width: u32, height: u32) -> Option<FaceRect> {
        let clipped = FaceRect {
            left: self.left.clamp(0, i64::from(width)),
            top: self.top.clamp(0, i64::from(height)),
            right: self.right.clamp(0, i64::from(width)),
            bottom: self.bottom.clamp(0, i64::from(height)),
        };
        (clipped.width() > 0 && clipped.height() > 0).then_some(clipped)
    }

    /// As a [`FaceBox`]; meant for a clipped rectangle (negative corners become 0).
    pub fn to_box(&self) -> FaceBox {
        let non_negative = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        FaceBox {
            left: non_negative(self.left),
            top: non_negative(self.top),
            width: non_negative(self.width()),
            height: non_negative(self.height()),
        }
    }

    /// A box inside the picture, as a rectangle.
    pub fn from_box(face: FaceBox) -> Self {
        FaceRect {
            left: i64::from(face.left),
            top: i64::from(face.top),
            right: i64::from(face.left) + i64::from(face.width),
            bottom: i64::from(face.top) + i64::from(face.height),
        }
    }

    /// dlib's rectangle: right and bottom inclusive.
    pub fn to_dlib(self) -> Rectangle {
        Rectangle {
            left: self.left as _,
            top: self.top as _,
            right: (self.right - 1) as _,
            bottom: (self.bottom - 1) as _,
        }
    }

    /// From a dlib rectangle found in a copy scaled by `scale_x`, `scale_y` (copy / original).
    fn from_scaled_dlib(rect: &Rectangle, scale_x: f64, scale_y: f64) -> Self {
        // dlib's coordinates are C `long`s.
        let x = |v: std::os::raw::c_long| (v as f64 / scale_x).round() as i64;
        let y = |v: std::os::raw::c_long| (v as f64 / scale_y).round() as i64;
        FaceRect {
            left: x(rect.left),
            top: y(rect.top),
            right: x(rect.right + 1),
            bottom: y(rect.bottom + 1),
        }
    }
}

/// How the detector searches a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectOptions {
    pub max_side: u32,
    pub retry: bool,
}

/// The faces in `frame`, largest first.
pub fn detect_faces(
    detector: &Detector,
    frame: &Frame,
    options: DetectOptions,
) -> Result<Vec<FaceRect>, FaceError> {
    let scale = (f64::from(options.max_side) / f64::from(frame.long_side())).min(1.0);
    let mut faces = detect_at_scale(detector, frame, scale)?;
    if faces.is_empty() && options.retry {
        faces = detect_at_scale(detector, frame, (scale * 2.0).min(2.0))?;
    }
    faces.sort_by_key(|face| std::cmp::Reverse(face.area()));
    Ok(faces)
}

/// The search window around the previous frame's face, as a multiple of that face's side: a
/// face moves a fraction of its size between two live frames (docs/live.md, continuity).
const WINDOW_FACES: f64 = 1.5;

/// In the window, the face is searched at a scale that makes it this many pixels wide (never
/// enlarged): well above the HOG detector's 80 px window, so a face that shrank by a fifth is
/// still found, and a fraction of the pixels of the whole frame at `max_side`.
const WINDOW_FACE_PX: f64 = 100.0;

/// The faces in a window around `near` (the previous frame's face), largest first, in
/// original-picture pixels: what a live frame costs when the face is followed rather than
/// searched for over the whole frame (~1 ms instead of ~9 for a 360×288 frame). Empty when the
/// face left the window; the caller then searches the whole frame.
pub fn detect_near(detector: &Detector, frame: &Frame, near: FaceRect) -> Result<Vec<FaceRect>, FaceError> {
    let side = near.width().max(near.height()).max(1) as f64;
    let half = side * WINDOW_FACES / 2.0;
    let centre_x = (near.left + near.right) as f64 / 2.0;
    let centre_y = (near.top + near.bottom) as f64 / 2.0;
    let clamp_x = |v: f64| (v.round().max(0.0) as u32).min(frame.width());
    let clamp_y = |v: f64| (v.round().max(0.0) as u32).min(frame.height());
    let (left, top) = (clamp_x(centre_x - half), clamp_y(centre_y - half));
    let (right, bottom) = (clamp_x(centre_x + half), clamp_y(centre_y + half));
    if right <= left || bottom <= top {
        return Ok(Vec::new());
    }
    let window = imageops::crop_imm(frame.image(), left, top, right - left, bottom - top).to_image();
    let scale = (WINDOW_FACE_PX / side).min(1.0);
    let width = scaled(window.width(), scale);
    let height = scaled(window.height(), scale);
    if width.min(height) < MIN_SEARCH_SIDE {
        return Ok(Vec::new());
    }
    let copy = if scale < 1.0 {
        imageops::thumbnail(&window, width, height)
    } else {
        window
    };
    let matrix =
        ImageMatrix::try_from_image(&copy).map_err(|e| FaceError::dlib("copying the search window", e))?;
    let scale_x = f64::from(width) / f64::from(right - left);
    let scale_y = f64::from(height) / f64::from(bottom - top);
    let mut faces: Vec<FaceRect> = collect(detector, &matrix, scale_x, scale_y)?
        .into_iter()
        .map(|face| FaceRect {
            left: face.left + i64::from(left),
            top: face.top + i64::from(top),
            right: face.right + i64::from(left),
            bottom: face.bottom + i64::from(top),
        })
        .collect();
    faces.sort_by_key(|face| std::cmp::Reverse(face.area()));
    Ok(faces)
}

/// Below this many pixels a side no face can be found (HOG's window is 80 px, the CNN's smallest
/// face ~40 px), and dlib's CNN throws on such slivers or, after a larger frame, reads out of
/// bounds and crashes: such copies are not searched.
const MIN_SEARCH_SIDE: u32 = 32;

fn detect_at_scale(detector: &Detector, frame: &Frame, scale: f64) -> Result<Vec<FaceRect>, FaceError> {
    if scaled(frame.width().min(frame.height()), scale) < MIN_SEARCH_SIDE {
        return Ok(Vec::new());
    }
    if scale == 1.0 {
        return collect(detector, frame.matrix(), 1.0, 1.0);
    }
    let width = scaled(frame.width(), scale);
    let height = scaled(frame.height(), scale);
    let copy = if scale < 1.0 {
        // Area averaging: no aliasing however large the frame, and fast integer arithmetic.
        ImageMatrix::try_from_image(&imageops::thumbnail(frame.image(), width, height))
    } else {
        frame.matrix().try_resize(width as usize, height as usize)
    }
    .map_err(|e| FaceError::dlib("scaling the picture", e))?;
    let scale_x = f64::from(width) / f64::from(frame.width());
    let scale_y = f64::from(height) / f64::from(frame.height());
    collect(detector, &copy, scale_x, scale_y)
}

fn collect(
    detector: &Detector,
    image: &ImageMatrix,
    scale_x: f64,
    scale_y: f64,
) -> Result<Vec<FaceRect>, FaceError> {
    let faces = detector
        .face_locations(image)
        .map_err(|e| FaceError::dlib("face detection", e))?;
    Ok(faces
        .iter()
        .map(|rect| FaceRect::from_scaled_dlib(rect, scale_x, scale_y))
        .collect())
}

fn scaled(side: u32, scale: f64) -> u32 {
    ((f64::from(side) * scale).round() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_scale_back_and_clip() {
        let dlib = Rectangle {
            left: -10,
            top: 20,
            right: 89,
            bottom: 119,
        };
        let rect = FaceRect::from_scaled_dlib(&dlib, 0.5, 0.5);
        assert_eq!(
            rect,
            FaceRect {
                left: -20,
                top: 40,
                right: 180,
                bottom: 240
            }
        );
        assert_eq!(rect.size(), 200);
        let inside = rect.clipped(150, 1000).expect("overlaps");
        assert_eq!(
            inside.to_box(),
            FaceBox {
                left: 0,
                top: 40,
                width: 150,
                height: 200
            }
        );
        assert_eq!(rect.clipped(10, 10), None);
        let back = inside.to_dlib();
        assert_eq!((back.left, back.right, back.bottom), (0, 149, 239));
    }
}
