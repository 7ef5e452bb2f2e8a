use super::encodings::FaceEncodings;
use crate::landmark_prediction::FaceLandmarks;
use crate::matrix::ImageMatrix;

pub trait FaceEncoderTrait {
    /// Get a number of face encodings from an image and a list of landmarks, and jitter them a certain amount.
    ///
    /// It is recommended to keep `num_jitters` at 0 unless you know what you're doing.
    ///
    /// Panics if dlib throws; see [`FaceEncoderTrait::try_get_face_encodings`].
    fn get_face_encodings(
        &self,
        image: &ImageMatrix,
        landmarks: &[FaceLandmarks],
        num_jitters: u32,
    ) -> FaceEncodings {
        self.try_get_face_encodings(image, landmarks, num_jitters)
            .unwrap_or_else(|e| panic!("dlib: {e}"))
    }

    /// As [`FaceEncoderTrait::get_face_encodings`]; a C++ exception (e.g. landmarks that are
    /// neither 68 nor 5 points) is returned as its message.
    fn try_get_face_encodings(
        &self,
        image: &ImageMatrix,
        landmarks: &[FaceLandmarks],
        num_jitters: u32,
    ) -> Result<FaceEncodings, String>;
}
