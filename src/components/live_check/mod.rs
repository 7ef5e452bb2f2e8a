//! The live face check: the camera streams frames to the server's live socket, which answers
//! each with the face box, a hint and the progress through a random challenge, and at the end
//! with a single-use proof (for `log_in` or `register`) or a refusal. The protocol is
//! [`crate::live`].
//!
//! The server renders the markup; the camera, the socket and the frames run after hydration
//! ([`browser`]).

#[cfg(feature = "hydrate")]
mod browser;

use leptos::prelude::*;

use crate::{
    camera::{CameraControl, CameraState, CameraView},
    live::{FaceBox, Hint, Progress, Purpose, Step},
};

/// Where an attempt is; the component root's `data-live-state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// Waiting for the camera, the socket or the challenge.
    Connecting,
    /// Frames are streaming.
    Running,
    Passed,
    /// Over without a proof; the message says what to do.
    Failed(String),
}

impl LiveState {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed(_) => "failed",
        }
    }
}

/// A face box placed over the preview, in percent of the preview's size (so it stays in place
/// when the page is resized between two frames).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayBox {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// Places `face`, found in a frame of `frame` pixels, over a preview of `view` CSS pixels that
/// shows that frame mirrored (`scaleX(-1)`) and letterboxed (`object-fit: contain`).
pub fn overlay_box(face: FaceBox, frame: (u32, u32), view: (f64, f64)) -> Option<OverlayBox> {
    let (frame_width, frame_height) = (f64::from(frame.0), f64::from(frame.1));
    let (view_width, view_height) = view;
    if frame_width <= 0.0 || frame_height <= 0.0 || view_width <= 0.0 || view_height <= 0.0 {
        return None;
    }
    let scale = (view_width / frame_width).min(view_height / frame_height);
    let offset_x = (view_width - frame_width * scale) / 2.0;
    let offset_y = (view_height - frame_height * scale) / 2.0;
    let mirrored_left = frame_width - f64::from(face.left) - f64::from(face.width);
    Some(OverlayBox {
        left: (offset_x + mirrored_left * scale) / view_width * 100.0,
        top: (offset_y + f64::from(face.top) * scale) / view_height * 100.0,
        width: f64::from(face.width) * scale / view_width * 100.0,
        height: f64::from(face.height) * scale / view_height * 100.0,
    })
}

/// "Step 2 of 3" while running, "All 3 steps done" at the end.
pub fn progress_label(progress: Progress) -> String {
    if progress.done >= progress.total {
        format!("All {} steps done", progress.total)
    } else {
        format!("Step {} of {}", progress.done + 1, progress.total)
    }
}

/// What the view shows of the current attempt; the browser session writes it.
#[derive(Clone, Copy)]
struct LiveSignals {
    state: RwSignal<LiveState>,
    steps: RwSignal<Vec<Step>>,
    hint: RwSignal<Option<Hint>>,
    progress: RwSignal<Option<Progress>>,
    face: RwSignal<Option<OverlayBox>>,
}

impl LiveSignals {
    fn new() -> Self {
        Self {
            state: RwSignal::new(LiveState::Connecting),
            steps: RwSignal::new(Vec::new()),
            hint: RwSignal::new(None),
            progress: RwSignal::new(None),
            face: RwSignal::new(None),
        }
    }

    fn reset(&self) {
        self.state.set(LiveState::Connecting);
        self.steps.set(Vec::new());
        self.hint.set(None);
        self.progress.set(None);
        self.face.set(None);
    }
}

/// A live face check for `purpose` that starts by itself. It calls `on_passed` with the proof
/// once the server is satisfied; a refused attempt offers "Try again" (a new challenge).
#[component]
pub fn LiveFaceCheck(purpose: Purpose, #[prop(into)] on_passed: Callback<String>) -> impl IntoView {
    let camera = CameraControl::new();
    let live = LiveSignals::new();

    #[cfg(feature = "hydrate")]
    {
        let session = browser::LiveSession::new(purpose, camera.clone(), live, on_passed);
        let starter = camera.clone();
        // Effects run in the browser only, once the page is hydrated.
        Effect::new(move || starter.start());
        let (watched, connector) = (camera.clone(), session.clone());
        // The socket opens once the camera is live: a challenge's time limit starts with it.
        Effect::new(move || {
            if watched.state() == CameraState::Live && live.state.get_untracked() == LiveState::Connecting {
                connector.connect();
            }
        });
        on_cleanup(move || session.abort());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (purpose, on_passed);

    let try_again = {
        let camera = camera.clone();
        move |_| {
            live.reset();
            camera.start();
        }
    };
    let hint_text = {
        let camera = camera.clone();
        move || hint_sentence(&live, &camera.state())
    };
    let hint_code = move || {
        (live.state.get() == LiveState::Running)
            .then(|| live.hint.get().map(|hint| hint.code))
            .flatten()
    };

    view! {
        <div class="live-check" data-live-state=move || live.state.with(LiveState::code)>
            <CameraView camera>
                <FaceBoxOverlay live />
            </CameraView>
            <p class="live-hint" data-testid="live-hint" aria-live="polite" data-hint-code=hint_code>
                {hint_text}
            </p>
            <LiveProgress live />
            <ChallengeSteps live />
            {move || match live.state.get() {
                LiveState::Failed(message) => Some(view! {
                    <div class="notice error live-failed" role="alert" data-testid="live-failed">
                        <p>{message}</p>
                        <button type="button" class="button primary" on:click=try_again.clone()>
                            "Try again"
                        </button>
                    </div>
                }),
                _ => None,
            }}
        </div>
    }
}

/// The sentence in the hint region. Camera and attempt failures have alerts of their own, so the
/// region stays quiet then instead of announcing them twice.
fn hint_sentence(live: &LiveSignals, camera: &CameraState) -> String {
    match (live.state.get(), camera) {
        (LiveState::Passed, _) => "Face check complete.".into(),
        (LiveState::Failed(_), _) | (_, CameraState::Failed(_)) => String::new(),
        (_, CameraState::Starting | CameraState::Off) => "Starting the camera…".into(),
        (LiveState::Connecting, CameraState::Live) => "Preparing your face check…".into(),
        (LiveState::Running, CameraState::Live) => live
            .hint
            .get()
            .map(|hint| hint.message)
            .unwrap_or_else(|| "Look at the camera.".into()),
    }
}

/// The face the server found in the last frame, framed over the mirrored preview.
#[component]
fn FaceBoxOverlay(live: LiveSignals) -> impl IntoView {
    move || {
        let running = live.state.get() == LiveState::Running;
        live.face.get().filter(|_| running).map(|face| {
            view! {
                <div
                    class="live-face-box"
                    data-testid="live-face-box"
                    aria-hidden="true"
                    style:left=format!("{:.2}%", face.left)
                    style:top=format!("{:.2}%", face.top)
                    style:width=format!("{:.2}%", face.width)
                    style:height=format!("{:.2}%", face.height)
                ></div>
            }
        })
    }
}

/// How many of the checks (framing, then each step) are done, as a bar with a label.
#[component]
fn LiveProgress(live: LiveSignals) -> impl IntoView {
    move || {
        live.progress.get().map(|progress| {
            let label = progress_label(progress);
            let percent =
                f64::from(progress.done.min(progress.total)) / f64::from(progress.total.max(1)) * 100.0;
            view! {
                <div
                    class="live-progress"
                    data-testid="live-progress"
                    role="progressbar"
                    aria-label="Face check progress"
                    aria-valuemin="0"
                    aria-valuemax=progress.total
                    aria-valuenow=progress.done
                    aria-valuetext=label
                >
                    <span class="live-progress-label">{label.clone()}</span>
                    <span class="live-progress-track">
                        <span class="live-progress-fill" style:width=format!("{percent:.0}%")></span>
                    </span>
                </div>
            }
        })
    }
}

/// The challenge as a list: framing the face first, then each step; the current one stands out.
#[component]
fn ChallengeSteps(live: LiveSignals) -> impl IntoView {
    move || {
        let steps = live.steps.get();
        if steps.is_empty() {
            return None;
        }
        let done = live.progress.get().map_or(0, |progress| progress.done as usize);
        let running = live.state.get() == LiveState::Running;
        let instructions = std::iter::once("Look straight at the camera.")
            .chain(steps.iter().map(|step| step.instruction()));
        let items = instructions
            .enumerate()
            .map(|(index, instruction)| {
                let (class, current) = match index.cmp(&done) {
                    std::cmp::Ordering::Less => ("done", None),
                    std::cmp::Ordering::Equal if running => ("current", Some("step")),
                    _ => ("pending", None),
                };
                view! { <li class=class aria-current=current>{instruction}</li> }
            })
            .collect_view();
        Some(view! { <ol class="live-steps" aria-label="Steps of the face check">{items}</ol> })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(left: u32, top: u32, width: u32, height: u32) -> FaceBox {
        FaceBox {
            left,
            top,
            width,
            height,
        }
    }

    fn close(a: OverlayBox, b: OverlayBox) -> bool {
        [
            (a.left, b.left),
            (a.top, b.top),
            (a.width, b.width),
            (a.height, b.height),
        ]
        .iter()
        .all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn the_box_is_mirrored_like_the_preview() {
        // A face on the frame's left shows on the preview's right.
        let placed = overlay_box(face(40, 120, 160, 120), (480, 360), (480.0, 360.0)).expect("box");
        let expected = OverlayBox {
            left: 280.0 / 480.0 * 100.0,
            top: 120.0 / 360.0 * 100.0,
            width: 160.0 / 480.0 * 100.0,
            height: 120.0 / 360.0 * 100.0,
        };
        assert!(close(placed, expected), "{placed:?}");
    }

    #[test]
    fn the_box_follows_the_letterboxing_of_object_fit_contain() {
        // A 360×288 frame (5:4) in a 400×300 (4:3) preview: scaled by 300/288, bars left and right.
        let scale = 300.0 / 288.0;
        let bar = (400.0 - 360.0 * scale) / 2.0;
        let placed = overlay_box(face(0, 0, 180, 144), (360, 288), (400.0, 300.0)).expect("box");
        let expected = OverlayBox {
            left: (bar + 180.0 * scale) / 400.0 * 100.0,
            top: 0.0,
            width: 180.0 * scale / 400.0 * 100.0,
            height: 50.0,
        };
        assert!(close(placed, expected), "{placed:?}");
    }

    #[test]
    fn no_box_without_a_size() {
        assert_eq!(overlay_box(face(1, 1, 1, 1), (0, 0), (400.0, 300.0)), None);
        assert_eq!(overlay_box(face(1, 1, 1, 1), (480, 360), (0.0, 0.0)), None);
    }

    #[test]
    fn progress_reads_as_steps() {
        assert_eq!(progress_label(Progress { done: 0, total: 3 }), "Step 1 of 3");
        assert_eq!(progress_label(Progress { done: 2, total: 3 }), "Step 3 of 3");
        assert_eq!(progress_label(Progress { done: 3, total: 3 }), "All 3 steps done");
    }
}
