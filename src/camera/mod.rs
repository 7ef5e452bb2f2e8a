//! The camera: a live `<video>` preview from `getUserMedia`, and (in the browser) the frame on
//! screen as a downscaled JPEG `data:` URL — the first step of a frame's trip to the face engine.
//!
//! On the server this renders the markup only; the camera starts after hydration. Every way the
//! camera can fail (refused, absent, busy, insecure page) ends in a readable message with a retry
//! button, and the tracks are stopped when the component that owns the camera goes away.

#[cfg(feature = "hydrate")]
mod browser;

#[cfg(feature = "hydrate")]
pub use browser::grab_jpeg;

use leptos::prelude::*;

/// One grabbed frame, ready to send to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedFrame {
    /// `data:image/jpeg;base64,…`, the form the live check and the REST API accept.
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

/// The size of a `width`×`height` frame scaled down so that its longest side is at most
/// `longest_side`, keeping the aspect ratio. Never scaled up: that adds bytes, not detail.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // frames are grabbed in the browser only
pub(crate) fn scaled_size(width: u32, height: u32, longest_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= longest_side || longest == 0 {
        return (width, height);
    }
    let scale = f64::from(longest_side) / f64::from(longest);
    let scaled = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
    (scaled(width), scaled(height))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CameraState {
    /// Asking for the camera (also what the server renders: the camera starts after hydration).
    Starting,
    Live,
    /// Stopped on purpose by its owner, e.g. once a face check is over.
    Off,
    Failed(CameraError),
}

/// A camera owned by a component: its state, the preview element and (in the browser) the
/// running stream. Clones control the same camera. The camera stops when the owning component
/// is cleaned up.
#[derive(Clone)]
pub struct CameraControl {
    state: RwSignal<CameraState>,
    video: NodeRef<leptos::html::Video>,
    frame_size: RwSignal<Option<(u32, u32)>>,
    #[cfg(feature = "hydrate")]
    session: browser::CameraSession,
}

impl CameraControl {
    pub fn new() -> Self {
        let state = RwSignal::new(CameraState::Starting);
        let video = NodeRef::new();
        let frame_size = RwSignal::new(None);
        let camera = Self {
            state,
            video,
            frame_size,
            #[cfg(feature = "hydrate")]
            session: browser::CameraSession::new(video, state.write_only(), frame_size.write_only()),
        };
        let owned = camera.clone();
        on_cleanup(move || owned.stop());
        camera
    }

    /// The camera's state, tracked.
    pub fn state(&self) -> CameraState {
        self.state.get()
    }

    /// Asks for the camera (again); a no-op on the server.
    pub fn start(&self) {
        #[cfg(feature = "hydrate")]
        self.session.start();
    }

    /// Stops the tracks, so the camera light goes off.
    pub fn stop(&self) {
        #[cfg(feature = "hydrate")]
        self.session.stop();
        self.state.set(CameraState::Off);
    }

    /// The preview element, while its component is mounted.
    #[cfg(feature = "hydrate")]
    pub fn video_element(&self) -> Option<web_sys::HtmlVideoElement> {
        self.video.try_get_untracked().flatten()
    }
}

impl Default for CameraControl {
    fn default() -> Self {
        Self::new()
    }
}

/// The preview of `camera` (mirrored, like a selfie camera), with its state and any error.
/// `children` are drawn over the picture, in a box of the preview's size.
#[component]
pub fn CameraView(camera: CameraControl, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    let CameraControl {
        state,
        video,
        frame_size,
        ..
    } = camera.clone();
    let retry = move |_| camera.start();
    view! {
        <div class="camera" data-state=move || match state.get() {
            CameraState::Starting => "starting",
            CameraState::Live => "live",
            CameraState::Off => "off",
            CameraState::Failed(_) => "failed",
        }>
            <div class="camera-frame">
                <video
                    node_ref=video
                    class="camera-video"
                    aria-label="Camera preview"
                    autoplay=true
                    playsinline=true
                    prop:muted=true
                    data-width=move || frame_size.get().map(|(w, _)| w)
                    data-height=move || frame_size.get().map(|(_, h)| h)
                ></video>
                {children.map(|overlay| overlay())}
                {move || match state.get() {
                    CameraState::Starting => Some(view! { <p class="camera-overlay">"Starting the camera…"</p> }),
                    CameraState::Off => Some(view! { <p class="camera-overlay">"Camera off"</p> }),
                    _ => None,
                }}
            </div>
            {move || match state.get() {
                CameraState::Failed(error) => Some(view! {
                    <div class="camera-error" role="alert">
                        <p>{error.message()}</p>
                        <button type="button" class="button" on:click=retry.clone()>"Retry"</button>
                    </div>
                }),
                _ => None,
            }}
        </div>
    }
}

/// A camera preview that starts by itself, e.g. to check the camera works before registering.
#[component]
pub fn CameraPreview() -> impl IntoView {
    let camera = CameraControl::new();
    let starter = camera.clone();
    // Effects run in the browser only, once the page is hydrated.
    Effect::new(move || starter.start());
    view! { <CameraView camera /> }
}

#[cfg(test)]
mod tests {
    use super::scaled_size;

    #[test]
    fn frames_are_scaled_down_to_the_longest_side_only() {
        assert_eq!(scaled_size(640, 480, 480), (480, 360));
        assert_eq!(scaled_size(480, 640, 480), (360, 480));
        assert_eq!(scaled_size(1280, 720, 480), (480, 270));
        assert_eq!(scaled_size(360, 288, 480), (360, 288));
        assert_eq!(scaled_size(4000, 1, 480), (480, 1));
        assert_eq!(scaled_size(0, 0, 480), (0, 0));
    }
}
