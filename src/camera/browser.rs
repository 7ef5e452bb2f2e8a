//! The browser side of the camera: `getUserMedia`, the preview, the canvas capture.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DomException, HtmlCanvasElement, MediaStream, MediaStreamConstraints,
};

use super::{CameraError, CameraState, CapturedFrame};

/// JPEG quality for captured frames: high enough for the face encoder, ~50-100 KB at 640×480.
const JPEG_QUALITY: f64 = 0.92;

/// The running stream and the signals it drives. `Copy`, so event handlers can share it.
#[derive(Clone, Copy)]
pub(super) struct CameraSession {
    video: NodeRef<leptos::html::Video>,
    stream: StoredValue<Option<MediaStream>, LocalStorage>,
    set_state: WriteSignal<CameraState>,
    set_frame_size: WriteSignal<Option<(u32, u32)>>,
}

impl CameraSession {
    pub(super) fn new(
        video: NodeRef<leptos::html::Video>,
        set_state: WriteSignal<CameraState>,
        set_frame_size: WriteSignal<Option<(u32, u32)>>,
    ) -> Self {
        Self {
            video,
            stream: StoredValue::new_local(None),
            set_state,
            set_frame_size,
        }
    }

    pub(super) fn start(self) {
        self.stop();
        self.set_state.set(CameraState::Starting);
        leptos::task::spawn_local(async move {
            match self.open().await {
                Ok(()) => self.set_state.set(CameraState::Live),
                Err(error) => {
                    self.stop();
                    self.set_state.set(CameraState::Failed(error));
                }
            }
        });
    }

    async fn open(self) -> Result<(), CameraError> {
        let devices = window().navigator().media_devices().map_err(|_| {
            if window().is_secure_context() {
                CameraError::Unsupported
            } else {
                CameraError::InsecurePage
            }
        })?;
        let constraints = MediaStreamConstraints::new();
        let video = js_sys::Object::new();
        let ideal = |value: u32| {
            let o = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&o, &"ideal".into(), &value.into());
            o
        };
        let _ = js_sys::Reflect::set(&video, &"width".into(), &ideal(640));
        let _ = js_sys::Reflect::set(&video, &"height".into(), &ideal(480));
        let _ = js_sys::Reflect::set(&video, &"facingMode".into(), &"user".into());
        constraints.set_video(&video);
        constraints.set_audio(&JsValue::FALSE);
        let promise = devices
            .get_user_media_with_constraints(&constraints)
            .map_err(to_camera_error)?;
        let stream: MediaStream = JsFuture::from(promise)
            .await
            .map_err(to_camera_error)?
            .unchecked_into();
        // Keep the stream first, so that `stop` reaches it even if the page left meanwhile.
        self.stream.set_value(Some(stream.clone()));
        let Some(element) = self.video.get_untracked() else {
            return Err(CameraError::Other("the preview element is gone".into()));
        };
        element.set_src_object(Some(&stream));
        if let Ok(playing) = element.play() {
            JsFuture::from(playing).await.map_err(to_camera_error)?;
        }
        self.set_frame_size
            .set(Some((element.video_width(), element.video_height())));
        Ok(())
    }

    pub(super) fn stop(self) {
        if let Some(Some(stream)) = self.stream.try_update_value(Option::take) {
            for track in stream.get_tracks().iter() {
                track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
            }
        }
        if let Some(element) = self.video.get_untracked() {
            element.set_src_object(None);
        }
    }

    /// Grabs the frame on screen now, at the camera's own resolution.
    pub(super) fn capture(self) -> Result<CapturedFrame, CameraError> {
        let fail = |what: &str| CameraError::Other(format!("could not capture a picture ({what})"));
        let video = self.video.get_untracked().ok_or_else(|| fail("no preview"))?;
        let (width, height) = (video.video_width(), video.video_height());
        if width == 0 || height == 0 {
            return Err(fail("the camera has not delivered a frame yet"));
        }
        let canvas: HtmlCanvasElement = document()
            .create_element("canvas")
            .map_err(|_| fail("no canvas"))?
            .unchecked_into();
        canvas.set_width(width);
        canvas.set_height(height);
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .ok_or_else(|| fail("no 2D context"))?
            .unchecked_into();
        context
            .draw_image_with_html_video_element(&video, 0.0, 0.0)
            .map_err(|_| fail("drawing failed"))?;
        let jpeg_data_url = canvas
            .to_data_url_with_type_and_encoder_options("image/jpeg", &JsValue::from_f64(JPEG_QUALITY))
            .map_err(|_| fail("JPEG encoding failed"))?;
        self.set_frame_size.set(Some((width, height)));
        Ok(CapturedFrame {
            jpeg_data_url,
            width,
            height,
        })
    }
}

fn to_camera_error(error: JsValue) -> CameraError {
    match error.dyn_ref::<DomException>() {
        Some(e) => CameraError::from_dom_exception(&e.name(), &e.message()),
        None => CameraError::Other(error.as_string().unwrap_or_else(|| "unknown error".into())),
    }
}
