//! The camera: a live `<video>` preview from `getUserMedia` and a capture button that turns the
//! current frame into a JPEG `data:` URL — the first step of a frame's trip to the face engine.
//!
//! On the server this renders the markup only; the camera starts after hydration. Every way the
//! camera can fail (refused, absent, busy, insecure page) ends in a readable message with a retry
//! button, and the tracks are stopped when the component goes away.

#[cfg(feature = "hydrate")]
mod browser;

use leptos::prelude::*;

/// One captured frame, ready to send to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedFrame {
    /// `data:image/jpeg;base64,…`, the form the server functions and REST API accept.
    pub jpeg_data_url: String,
    pub width: u32,
    pub height: u32,
}

/// Why the camera is not showing a picture, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CameraError {
    PermissionDenied,
    NoCamera,
    Busy,
    InsecurePage,
    Unsupported,
    Other(String),
}

impl CameraError {
    pub fn message(&self) -> String {
        match self {
            Self::PermissionDenied => "Camera access was refused. Allow the camera for this site in your browser's address bar, then press Retry.".into(),
            Self::NoCamera => "No camera was found. Connect a camera, then press Retry.".into(),
            Self::Busy => "The camera is in use by another application or tab. Close it, then press Retry.".into(),
            Self::InsecurePage => "The browser only allows the camera on HTTPS or on localhost. Open facegate over HTTPS.".into(),
            Self::Unsupported => "This browser cannot use a camera here (no getUserMedia).".into(),
            Self::Other(detail) => format!("The camera could not start: {detail}. Press Retry."),
        }
    }

    /// Maps a `DOMException` name from `getUserMedia` to a cause.
    pub fn from_dom_exception(name: &str, message: &str) -> Self {
        match name {
            "NotAllowedError" | "PermissionDeniedError" => Self::PermissionDenied,
            "SecurityError" => Self::InsecurePage,
            "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" => Self::NoCamera,
            "NotReadableError" | "TrackStartError" | "AbortError" => Self::Busy,
            _ => Self::Other(if message.is_empty() {
                name.to_string()
            } else {
                message.to_string()
            }),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // the server renders `Starting` only
enum CameraState {
    Starting,
    Live,
    Failed(CameraError),
}

/// A live camera preview with a capture button. `busy` disables the button (and says so)
/// while the caller is waiting for the server.
#[component]
pub fn Camera(
    #[prop(into)] on_capture: Callback<CapturedFrame>,
    #[prop(optional, into)] capture_label: Option<String>,
    #[prop(optional, into)] busy: Signal<bool>,
) -> impl IntoView {
    let capture_label = capture_label.unwrap_or_else(|| "Capture".to_string());
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let (state, set_state) = signal(CameraState::Starting);
    let (frame_size, set_frame_size) = signal(None::<(u32, u32)>);

    #[cfg(feature = "hydrate")]
    let session = browser::CameraSession::new(video_ref, set_state, set_frame_size);
    #[cfg(feature = "hydrate")]
    {
        let (starter, stopper) = (session.clone(), session.clone());
        Effect::new(move |_| starter.start());
        on_cleanup(move || stopper.stop());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_state, set_frame_size);

    let retry = Callback::new({
        #[cfg(feature = "hydrate")]
        let session = session.clone();
        move |()| {
            #[cfg(feature = "hydrate")]
            session.start();
        }
    });
    let capture = move |_| {
        #[cfg(feature = "hydrate")]
        match session.capture() {
            Ok(frame) => on_capture.run(frame),
            Err(error) => set_state.set(CameraState::Failed(error)),
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = on_capture;
    };

    let live = move || state.get() == CameraState::Live;
    view! {
        <div class="camera" data-state=move || match state.get() {
            CameraState::Starting => "starting",
            CameraState::Live => "live",
            CameraState::Failed(_) => "failed",
        }>
            <div class="camera-frame">
                <video
                    node_ref=video_ref
                    class="camera-video"
                    aria-label="Camera preview"
                    autoplay=true
                    playsinline=true
                    prop:muted=true
                    data-width=move || frame_size.get().map(|(w, _)| w)
                    data-height=move || frame_size.get().map(|(_, h)| h)
                ></video>
                <Show when=move || state.get() == CameraState::Starting>
                    <p class="camera-overlay">"Starting the camera…"</p>
                </Show>
            </div>
            {move || match state.get() {
                CameraState::Failed(error) => view! {
                    <div class="camera-error" role="alert">
                        <p>{error.message()}</p>
                        <button type="button" class="button" on:click=move |_| retry.run(())>"Retry"</button>
                    </div>
                }.into_any(),
                _ => ().into_any(),
            }}
            <button
                type="button"
                class="button primary capture"
                on:click=capture
                disabled=move || !live() || busy.get()
                aria-busy=move || busy.get().to_string()
            >
                {move || if busy.get() { "Working…".to_string() } else { capture_label.clone() }}
            </button>
        </div>
    }
}
