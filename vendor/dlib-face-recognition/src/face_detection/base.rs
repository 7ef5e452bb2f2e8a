use super::location::FaceLocations;
use crate::matrix::ImageMatrix;

pub trait FaceDetectorTrait {
    /// Detect face rectangles from an image.
    ///
    /// Panics if dlib throws; see [`FaceDetectorTrait::try_face_locations`].
    fn face_locations(&self, image: &ImageMatrix) -> FaceLocations {
        self.try_face_locations(image)
            .unwrap_or_else(|e| panic!("dlib: {e}"))
    }

    /// Detect face rectangles from an image; a C++ exception is returned as its message.
    fn try_face_locations(&self, image: &ImageMatrix) -> Result<FaceLocations, String>;
}
