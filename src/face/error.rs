//! Why a picture was refused. One variant per reason, each with a stable [`FaceError::code`], an
//! [`FaceErrorKind`] (which HTTP status it becomes is `crate::error`'s business), and a `Display` that is the sentence shown to the person.

/// How the web layer should answer a [`FaceError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceErrorKind {
    /// The request itself is malformed (bad base64, damaged picture): 400.
    BadInput,
    /// The picture is larger than the configured limits: 413.
    TooLarge,
    /// The picture is in a format we do not read: 415.
    UnsupportedFormat,
    /// A readable picture that cannot be used (no face, blurry…): 422.
    Refused,
    /// Every face worker is busy and the queue is full: 503, try again.
    Busy,
    /// A bug or a broken model: 500.
    Internal,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaceError {
    #[error("No picture was sent.")]
    EmptyImage,
    #[error("The picture is not valid base64. Send the JPEG or PNG bytes, or a data: URL.")]
    BadBase64,
    #[error("The data: URL is malformed ({0}). Send data:image/jpeg;base64,… as the browser makes it.")]
    BadDataUrl(&'static str),
    #[error("The {format} picture is damaged or incomplete and could not be read. Take the picture again.")]
    Undecodable { format: &'static str },
    #[error(
        "The picture is {} large; the limit is {}. Send a smaller picture.",
        megabytes(*size),
        megabytes(*limit)
    )]
    TooManyBytes { size: usize, limit: usize },
    #[error(
        "The picture is {width}×{height} pixels; the limit is {limit} pixels a side. Send a smaller picture."
    )]
    TooManyPixels { width: u32, height: u32, limit: u32 },
    /// `what` is a sentence naming what was sent ("GIF pictures are not supported.").
    #[error("{what} Send a JPEG or PNG picture.")]
    UnsupportedFormat { what: String },
    #[error("No face found. Face the camera in good light.")]
    NoFace,
    #[error("{count} faces found; only one person may be in the picture.")]
    MultipleFaces { count: usize },
    #[error(
        "Your face is too small in the picture ({size} px, at least {min} px needed). Move closer to the camera."
    )]
    FaceTooSmall { size: u32, min: u32 },
    #[error("The picture is too dark. Turn on a light or face a window.")]
    TooDark { brightness: f64, min: f64 },
    #[error("The picture is too bright. Move out of direct light or away from the window.")]
    TooBright { brightness: f64, max: f64 },
    #[error("The picture is blurry. Hold still and make sure the camera is in focus.")]
    TooBlurry { sharpness: f64, min: f64 },
    #[error("{}", turned_message(*yaw_degrees, *pitch_degrees, *max_yaw_degrees))]
    FaceTurned {
        yaw_degrees: f64,
        pitch_degrees: f64,
        max_yaw_degrees: f64,
        max_pitch_degrees: f64,
    },
    #[error("The server is busy. Try again in a moment.")]
    Busy,
    /// The cause is for the log; the person only sees that something failed.
    #[error("Something went wrong while reading the face. Try again.")]
    Internal(String),
    /// dlib failed on this picture (a C++ exception, or a panic in its worker); the worker
    /// carries on with the next one. The cause is for the log.
    #[error("The face engine failed on this picture; try again.")]
    Engine(String),
}

impl FaceError {
    /// A stable, machine-readable name for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyImage => "empty_image",
            Self::BadBase64 => "bad_base64",
            Self::BadDataUrl(_) => "bad_data_url",
            Self::Undecodable { .. } => "undecodable_image",
            Self::TooManyBytes { .. } => "image_too_large",
            Self::TooManyPixels { .. } => "image_dimensions_too_large",
            Self::UnsupportedFormat { .. } => "unsupported_image_format",
            Self::NoFace => "no_face",
            Self::MultipleFaces { .. } => "multiple_faces",
            Self::FaceTooSmall { .. } => "face_too_small",
            Self::TooDark { .. } => "too_dark",
            Self::TooBright { .. } => "too_bright",
            Self::TooBlurry { .. } => "too_blurry",
            Self::FaceTurned { .. } => "face_turned",
            Self::Busy => "busy",
            Self::Internal(_) => "internal",
            Self::Engine(_) => "face_engine_failed",
        }
    }

    pub fn kind(&self) -> FaceErrorKind {
        match self {
            Self::EmptyImage | Self::BadBase64 | Self::BadDataUrl(_) | Self::Undecodable { .. } => {
                FaceErrorKind::BadInput
            }
            Self::TooManyBytes { .. } | Self::TooManyPixels { .. } => FaceErrorKind::TooLarge,
            Self::UnsupportedFormat { .. } => FaceErrorKind::UnsupportedFormat,
            Self::NoFace
            | Self::MultipleFaces { .. }
            | Self::FaceTooSmall { .. }
            | Self::TooDark { .. }
            | Self::TooBright { .. }
            | Self::TooBlurry { .. }
            | Self::FaceTurned { .. } => FaceErrorKind::Refused,
            Self::Busy => FaceErrorKind::Busy,
            Self::Internal(_) | Self::Engine(_) => FaceErrorKind::Internal,
        }
    }
}

impl FaceError {
    /// dlib threw a C++ exception at `step` (vendor/dlib-face-recognition catches it).
    pub fn dlib(step: &str, cause: String) -> Self {
        Self::Engine(format!("dlib threw during {step}: {cause}"))
    }
}

fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Says which way to correct: sideways turns are the common case, so they win when both are off.
fn turned_message(yaw: f64, pitch: f64, max_yaw: f64) -> String {
    if yaw.abs() > max_yaw {
        format!(
            "Your head is turned {:.0}° to the side. Look straight at the camera.",
            yaw.abs()
        )
    } else {
        let direction = if pitch > 0.0 { "up" } else { "down" };
        format!(
            "Your head is tilted {:.0}° {direction}. Look straight at the camera.",
            pitch.abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_for_people() {
        assert_eq!(
            FaceError::MultipleFaces { count: 2 }.to_string(),
            "2 faces found; only one person may be in the picture."
        );
        assert_eq!(
            FaceError::NoFace.to_string(),
            "No face found. Face the camera in good light."
        );
        let turned = FaceError::FaceTurned {
            yaw_degrees: -41.2,
            pitch_degrees: 3.0,
            max_yaw_degrees: 30.0,
            max_pitch_degrees: 25.0,
        };
        assert_eq!(
            turned.to_string(),
            "Your head is turned 41° to the side. Look straight at the camera."
        );
        let internal = FaceError::Internal("dlib exploded".into());
        assert!(!internal.to_string().contains("dlib"), "causes stay in the log");
        let engine = FaceError::Engine("std::bad_alloc".into());
        assert_eq!(
            engine.to_string(),
            "The face engine failed on this picture; try again."
        );
        assert_eq!(engine.kind(), FaceErrorKind::Internal);
    }

    #[test]
    fn each_reason_has_its_kind() {
        assert_eq!(FaceError::Busy.kind(), FaceErrorKind::Busy);
        assert_eq!(FaceError::BadBase64.kind(), FaceErrorKind::BadInput);
        assert_eq!(
            FaceError::TooManyPixels {
                width: 1,
                height: 1,
                limit: 0
            }
            .kind(),
            FaceErrorKind::TooLarge
        );
        assert_eq!(
            FaceError::TooBlurry {
                sharpness: 1.0,
                min: 2.0
            }
            .kind(),
            FaceErrorKind::Refused
        );
    }
}
