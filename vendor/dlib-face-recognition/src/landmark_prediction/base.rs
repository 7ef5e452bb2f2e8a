use super::landmarks::FaceLandmarks;
use crate::geometry::Rectangle;
use crate::matrix::ImageMatrix;

pub trait LandmarkPredictorTrait {
    /// Detect face landmarks.
    ///
    /// This will generally always return the number of landmarks as defined by the model.
    ///
    /// Panics if dlib throws; see [`LandmarkPredictorTrait::try_face_landmarks`].
    fn face_landmarks(&self, image: &ImageMatrix, rect: &Rectangle) -> FaceLandmarks {
        self.try_face_landmarks(image, rect)
            .unwrap_or_else(|e| panic!("dlib: {e}"))
    }

    /// Detect face landmarks; a C++ exception is returned as its message.
    fn try_face_landmarks(
        &self,
        image: &ImageMatrix,
        rect: &Rectangle,
    ) -> Result<FaceLandmarks, String>;
}
