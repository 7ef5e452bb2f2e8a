//! A decoded picture, held both as Rust pixels (for the quality checks) and as dlib's matrix
//! (for landmarks and encoding), so the copy into dlib's layout is made once.

use dlib_face_recognition::ImageMatrix;
use image::RgbImage;

use super::FaceError;

pub struct Frame {
    image: RgbImage,
    matrix: ImageMatrix,
}

impl Frame {
    /// Fails only when dlib cannot allocate its copy.
    pub fn new(image: RgbImage) -> Result<Self, FaceError> {
        let matrix =
            ImageMatrix::try_from_image(&image).map_err(|e| FaceError::dlib("copying the picture", e))?;
        Ok(Self { image, matrix })
    }

    pub fn image(&self) -> &RgbImage {
        &self.image
    }

    pub fn matrix(&self) -> &ImageMatrix {
        &self.matrix
    }

    pub fn width(&self) -> u32 {
        self.image.width()
    }

    pub fn height(&self) -> u32 {
        self.image.height()
    }

    pub fn long_side(&self) -> u32 {
        self.width().max(self.height())
    }
}
