//! A C++ exception inside dlib fails the one picture it was thrown on, never the server. Unpatched,
//! such an exception crossing into Rust aborts the whole process, and dlib aborts by itself at its
//! second failed check even when the first was caught; vendor/dlib-face-recognition catches every
//! exception and returns it as an error. Real models, real photos.
//!
//! What makes dlib throw: landmarks that are neither 68 nor 5 points (the encoder's chip
//! alignment checks), allocations it cannot make, and the CNN detector on slivers under ~9 px.

mod support;

use axum::response::IntoResponse;
use dlib_face_recognition::{
    FaceDetectorCnn, FaceDetectorTrait, FaceEncoderNetwork, FaceEncoderTrait, FaceLandmarks, ImageMatrix,
};
use facegate::error::AppError;
use facegate::face::{FaceEngine, FaceError, FaceSettings, ImageInput, Landmarks};
use image::RgbImage;
use reqwest::StatusCode;
use serde_json::json;
use support::{PIN, TestServer, client, photo, photo_data_url, post, repo_path};

const ENGINE_FAILED: &str = "The face engine failed on this picture; try again.";

fn model(file: &str) -> std::path::PathBuf {
    let path = repo_path("models").join(file);
    assert!(path.is_file(), "{} is missing: run `make models`", path.display());
    path
}

#[test]
fn dlib_exceptions_come_back_as_errors_again_and_again() {
    let encoder =
        FaceEncoderNetwork::open(model("dlib_face_recognition_resnet_model_v1.dat")).expect("encoder");
    let image = ImageMatrix::from_image(&RgbImage::new(200, 200));
    // A failed DLIB_CASSERT (a dlib::fatal_error); the second one used to abort even when caught.
    for _ in 0..3 {
        let error = encoder
            .try_get_face_encodings(&image, &[FaceLandmarks::default()], 1)
            .err()
            .expect("no landmarks must be refused");
        assert!(error.contains("68 point"), "{error}");
    }
    // std::bad_alloc (here its array-length form: 2^62 pixels of 3 bytes cannot exist).
    for _ in 0..2 {
        let error = image
            .try_resize(1 << 31, 1 << 31)
            .err()
            .expect("too large to allocate");
        assert!(
            error.contains("bad_array_new_length") || error.contains("bad_alloc"),
            "{error}"
        );
    }
    // The encoder still works after all that.
    assert!(encoder.try_get_face_encodings(&image, &[], 1).is_ok());
}

#[test]
fn the_crates_original_methods_now_unwind_instead_of_aborting() {
    let encoder =
        FaceEncoderNetwork::open(model("dlib_face_recognition_resnet_model_v1.dat")).expect("encoder");
    let image = ImageMatrix::from_image(&RgbImage::new(200, 200));
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        encoder.get_face_encodings(&image, &[FaceLandmarks::default()], 1)
    }));
    let panic = unwound.err().expect("a panic, which can be caught");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.starts_with("dlib:") && message.contains("68 point"),
        "{message}"
    );
}

#[test]
fn a_failed_check_inside_libdlib_is_an_error_too() {
    // The CNN's convolutions are compiled into libdlib, whose own "first fatal error" flag the
    // patch sets back after each catch. A fresh detector: after a larger frame, dlib reads out of
    // bounds on such slivers instead of throwing (facegate never gives it frames under 32 px).
    let detector = FaceDetectorCnn::open(model("mmod_human_face_detector.dat")).expect("CNN detector");
    let sliver = ImageMatrix::from_image(&RgbImage::new(3, 3));
    for _ in 0..3 {
        let error = detector
            .try_face_locations(&sliver)
            .expect_err("dlib refuses a 3×3 picture");
        assert!(error.contains("Filter windows must be small enough"), "{error}");
    }
}

fn engine() -> FaceEngine {
    // One worker: the picture after the failure runs on the very worker that failed.
    let settings = FaceSettings {
        face_workers: 1,
        face_queue: 4,
        ..FaceSettings::default()
    };
    FaceEngine::start(&repo_path("models"), &settings).expect("models load")
}

/// Encodes `photo` with no landmarks on a face worker: dlib throws inside the encoder.
async fn encode_without_landmarks(engine: &FaceEngine, photo: &str) -> Result<(), FaceError> {
    let bytes = support::photo(photo);
    engine
        .with_pipeline(move |pipeline| {
            let frame = pipeline.decode(ImageInput::Bytes(bytes))?;
            pipeline.encode(&frame, &Landmarks::default()).map(|_| ())
        })
        .await
}

#[tokio::test]
async fn a_dlib_exception_fails_that_picture_and_the_worker_serves_the_next() {
    let engine = engine();
    let before = engine
        .analyze(ImageInput::Bytes(photo("obama.jpg")))
        .await
        .expect("a real photo");
    for _ in 0..2 {
        let error = encode_without_landmarks(&engine, "obama.jpg")
            .await
            .expect_err("dlib throws");
        let FaceError::Engine(cause) = &error else {
            panic!("expected an engine failure, got {error:?}");
        };
        assert!(
            cause.contains("encoding") && cause.contains("68 point"),
            "{cause}"
        );
        assert_eq!(error.to_string(), ENGINE_FAILED);
        assert_eq!(error.code(), "face_engine_failed");
        assert_eq!(error.kind(), facegate::face::FaceErrorKind::Internal);
    }
    let after = engine
        .analyze(ImageInput::Bytes(photo("obama.jpg")))
        .await
        .expect("the same worker, the next picture");
    assert!(
        after.encoding.distance(&before.encoding) < 1e-6,
        "the network is intact"
    );
    assert!(engine.models_loaded());
}

#[tokio::test]
async fn a_panicking_job_fails_alone_and_the_worker_reloads() {
    let engine = engine();
    let error = engine
        .with_pipeline(|_| -> Result<(), FaceError> { panic!("a bug in one job") })
        .await
        .expect_err("the panic is an error");
    assert!(
        matches!(&error, FaceError::Engine(cause) if cause.contains("a bug in one job")),
        "{error:?}"
    );
    assert!(engine.models_loaded());
    engine
        .analyze(ImageInput::Bytes(photo("obama2.jpg")))
        .await
        .expect("the worker serves the next picture");
}

#[tokio::test]
async fn over_http_the_failure_is_a_500_and_the_server_carries_on() {
    let server = TestServer::start(&["--allow-single-image", "true"]).await;
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg") });
    let (status, reply) = post(&client(), &server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");

    // The server's own face engine meets a picture dlib throws on…
    let error = encode_without_landmarks(&server.state.faces, "obama.jpg")
        .await
        .expect_err("dlib throws");
    // …which a request answers with 500 and a generic message (the cause is only logged).
    let response = AppError::from(error).into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(
        answer,
        json!({ "error": "face_engine_failed", "message": ENGINE_FAILED })
    );

    // The next request, with a real photo, is served as usual.
    let (status, reply) = post(
        &client(),
        &server,
        "/api/login",
        json!({ "image": photo_data_url("obama2.jpg"), "pin": PIN }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["username"], "Barack");
}
