//! The browser side of the camera: `getUserMedia`, the preview, grabbing frames on a canvas.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DomException, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    MediaStreamConstraints,
};

use super::{CameraError, CameraState, CapturedFrame, scaled_size};

/// `HTMLMediaElement.HAVE_CURRENT_DATA`: from here on the video has a frame to draw.
const HAVE_CURRENT_DATA: u16 = 2;

/// The running stream and the signals it drives; clones share the stream.
///
/// The stream is held outside Leptos' reactive arena on purpose: the arena's values are disposed
/// when the component unmounts, before `on_cleanup` runs, and the tracks must still be reachable
/// then to be stopped.
#[derive(Clone)]
pub(super) struct CameraSession {
    video: NodeRef<leptos::html::Video>,
    stream: SendWrapper<Rc<RefCell<Option<MediaStream>>>>,
    /// Watches for the preview leaving the page; see [`CameraSession::watch_unmount`].
    watcher: SendWrapper<Rc<RefCell<Option<IntervalHandle>>>>,
    /// The `<video>` the stream plays in, once started.
    preview: SendWrapper<Rc<RefCell<Option<HtmlVideoElement>>>>,
    /// Bumped by every start and stop, so that a `getUserMedia` still pending from an earlier
    /// start cannot turn the camera back on (or leave a second stream running) when it resolves.
    generation: SendWrapper<Rc<Cell<u64>>>,
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
            stream: SendWrapper::new(Rc::new(RefCell::new(None))),
            watcher: SendWrapper::new(Rc::new(RefCell::new(None))),
            preview: SendWrapper::new(Rc::new(RefCell::new(None))),
            generation: SendWrapper::new(Rc::new(Cell::new(0))),
            set_state,
            set_frame_size,
        }
    }

    pub(super) fn start(&self) {
        self.stop();
        let generation = self.generation.get();
        self.set_state.set(CameraState::Starting);
        let this = self.clone();
        leptos::task::spawn_local(async move {
            let opened = this.open(generation).await;
            if !this.is_current(generation) {
                return; // a later start or stop owns the camera and its state now
            }
            match opened {
                Ok(()) => this.set_state.set(CameraState::Live),
                Err(error) => {
                    this.stop();
                    this.set_state.set(CameraState::Failed(error));
                }
            }
        });
    }

    fn is_current(&self, generation: u64) -> bool {
        self.generation.get() == generation
    }

    /// Opens the camera into the preview. When a later start or stop supersedes this one, it
    /// stops what it opened and returns; the caller then leaves the state alone.
    async fn open(&self, generation: u64) -> Result<(), CameraError> {
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
        if !self.is_current(generation) {
            stop_tracks(&stream);
            return Ok(());
        }
        // Keep the stream first, so that `stop` reaches it even if the page left meanwhile.
        *self.stream.borrow_mut() = Some(stream.clone());
        let Some(element) = self.video.try_get_untracked().flatten() else {
            return Err(CameraError::Other("the preview element is gone".into()));
        };
        element.set_src_object(Some(&stream));
        *self.preview.borrow_mut() = Some(element.clone());
        if let Ok(playing) = element.play() {
            JsFuture::from(playing).await.map_err(to_camera_error)?;
        }
        if !self.is_current(generation) {
            return Ok(()); // the stop that superseded us has stopped this stream
        }
        self.set_frame_size
            .set(Some((element.video_width(), element.video_height())));
        self.watch_unmount(element);
        Ok(())
    }

    /// Stops the camera once the preview is no longer in the document. `on_cleanup` alone is not
    /// enough: leptos_router 0.8 skips the old route's cleanup on the first client-side
    /// navigation after hydration (leptos-rs/leptos#2785), which would leave the camera on.
    fn watch_unmount(&self, element: HtmlVideoElement) {
        let this = self.clone();
        let handle = set_interval_with_handle(
            move || {
                if !element.is_connected() {
                    this.stop();
                }
            },
            std::time::Duration::from_millis(250),
        );
        *self.watcher.borrow_mut() = handle.ok();
    }

    pub(super) fn stop(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        if let Some(watcher) = self.watcher.borrow_mut().take() {
            watcher.clear();
        }
        if let Some(stream) = self.stream.borrow_mut().take() {
            stop_tracks(&stream);
        }
        // Whatever the preview still plays is ours too: stop it, even if the handle above was
        // lost or stale.
        if let Some(element) = self.preview.borrow_mut().take() {
            if let Some(playing) = element.src_object() {
                stop_tracks(&playing);
            }
            element.set_src_object(None);
        }
    }
}

/// The frame `video` shows now as a JPEG of `quality` (0-1), scaled down so that its longest side
/// is at most `longest_side` pixels. `Ok(None)` while the camera has not delivered a frame yet.
/// The frame is not mirrored: the preview's mirroring is only for the person's comfort.
pub fn grab_jpeg(
    video: &HtmlVideoElement,
    longest_side: u32,
    quality: f64,
) -> Result<Option<CapturedFrame>, CameraError> {
    let fail = |what: &str| CameraError::Other(format!("could not grab a picture ({what})"));
    let (source_width, source_height) = (video.video_width(), video.video_height());
    if video.ready_state() < HAVE_CURRENT_DATA || source_width == 0 || source_height == 0 {
        return Ok(None);
    }
    let (width, height) = scaled_size(source_width, source_height, longest_side);
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
        .draw_image_with_html_video_element_and_dw_and_dh(
            video,
            0.0,
            0.0,
            f64::from(width),
            f64::from(height),
        )
        .map_err(|_| fail("drawing failed"))?;
    let jpeg_data_url = canvas
        .to_data_url_with_type_and_encoder_options("image/jpeg", &JsValue::from_f64(quality))
        .map_err(|_| fail("JPEG encoding failed"))?;
    Ok(Some(CapturedFrame {
        jpeg_data_url,
        width,
        height,
    }))
}

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
    }
}

fn to_camera_error(error: JsValue) -> CameraError {
    match error.dyn_ref::<DomException>() {
        Some(e) => CameraError::from_dom_exception(&e.name(), &e.message()),
        None => CameraError::Other(error.as_string().unwrap_or_else(|| "unknown error".into())),
    }
}
