//! The browser side of the live check: the WebSocket, the frame ticker and the time limit.

use std::{cell::RefCell, rc::Rc, time::Duration};

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, Event, HtmlVideoElement, MessageEvent, WebSocket};

use super::{LiveSignals, LiveState, overlay_box};
use crate::{
    camera::{CameraControl, grab_jpeg},
    live::{ClientFrame, FaceBox, Hint, LIVE_PATH, Progress, Purpose, ServerMessage, Step},
};

/// One tick per 125 ms: at most 8 frames a second, fewer when the server answers slower.
const FRAME_INTERVAL: Duration = Duration::from_millis(125);
/// The protocol's frame size: enough for the landmarks, small enough for ~20 KB a frame.
const LONGEST_SIDE: u32 = 480;
const JPEG_QUALITY: f64 = 0.85;
/// Added to the challenge's own lifetime before the page gives up on a silent server.
const GRACE: Duration = Duration::from_secs(2);

const CANNOT_CONNECT: &str =
    "The face check could not reach the server. Check your connection, then press Try again.";
const CONNECTION_LOST: &str = "The connection to the face check was lost. Press Try again.";
const TIME_UP: &str = "Time is up. Press Try again, and follow the steps as they appear.";
const UNREADABLE_ANSWER: &str =
    "The face check sent an answer this page cannot read. Reload the page, then try again.";
const UNREADABLE_CAMERA: &str = "The camera picture could not be read. Press Try again.";

/// Drives one live check at a time; clones share it.
#[derive(Clone)]
pub(super) struct LiveSession {
    purpose: Purpose,
    camera: CameraControl,
    live: LiveSignals,
    on_passed: Callback<String>,
    /// Outside the reactive arena, like the camera's stream, so that cleanup still reaches it.
    attempt: SendWrapper<Rc<RefCell<Option<Attempt>>>>,
}

impl LiveSession {
    pub(super) fn new(
        purpose: Purpose,
        camera: CameraControl,
        live: LiveSignals,
        on_passed: Callback<String>,
    ) -> Self {
        Self {
            purpose,
            camera,
            live,
            on_passed,
            attempt: SendWrapper::new(Rc::new(RefCell::new(None))),
        }
    }

    /// Opens the socket of a new attempt; the server answers with its challenge.
    pub(super) fn connect(&self) {
        self.abort();
        let Some(video) = self.camera.video_element() else {
            return; // the component is gone
        };
        let Some(socket) = live_url(self.purpose).and_then(|url| WebSocket::new(&url).ok()) else {
            self.show_outcome(LiveState::Failed(CANNOT_CONNECT.into()));
            return;
        };
        let handlers = SocketHandlers::attach(&socket, self);
        *self.attempt.borrow_mut() = Some(Attempt {
            socket,
            video,
            frame_in_flight: false,
            ticker: None,
            deadline: None,
            _handlers: handlers,
        });
    }

    /// Ends the attempt without a verdict: the component is going away, or a new attempt
    /// replaces it.
    pub(super) fn abort(&self) {
        let ended = self.attempt.borrow_mut().take();
        drop(ended);
    }

    fn on_message(&self, event: MessageEvent) {
        let message = event
            .data()
            .as_string()
            .and_then(|text| serde_json::from_str(&text).ok());
        match message {
            Some(ServerMessage::Challenge {
                steps, expires_in_ms, ..
            }) => self.begin(steps, Duration::from_millis(expires_in_ms)),
            Some(ServerMessage::Frame {
                frame_width,
                frame_height,
                face,
                hint,
                progress,
                ..
            }) => self.show_frame((frame_width, frame_height), face, hint, progress),
            Some(ServerMessage::Passed { proof }) => {
                self.end(LiveState::Passed);
                self.on_passed.try_run(proof);
            }
            Some(ServerMessage::Failed { message, .. }) => self.end(LiveState::Failed(message)),
            None => self.end(LiveState::Failed(UNREADABLE_ANSWER.into())),
        }
    }

    /// The challenge arrived: start streaming, and give up when its time is over.
    fn begin(&self, steps: Vec<Step>, lifetime: Duration) {
        {
            let mut slot = self.attempt.borrow_mut();
            let Some(attempt) = slot.as_mut() else {
                return;
            };
            let this = self.clone();
            let ticker = set_interval_with_handle(move || this.tick(), FRAME_INTERVAL).ok();
            let this = self.clone();
            let time_up = move || this.end(LiveState::Failed(TIME_UP.into()));
            let deadline = set_timeout_with_handle(time_up, lifetime.saturating_add(GRACE)).ok();
            attempt.replace_timers(ticker, deadline);
        }
        // The server counts framing the face as the first check, then each step.
        let total = u32::try_from(steps.len()).unwrap_or(u32::MAX).saturating_add(1);
        self.live.progress.set(Some(Progress { done: 0, total }));
        self.live.steps.set(steps);
        self.live.state.set(LiveState::Running);
    }

    fn tick(&self) {
        let sent = match self.attempt.borrow_mut().as_mut() {
            Some(attempt) => attempt.send_frame(),
            None => return,
        };
        match sent {
            Ok(()) => {}
            Err(Stop::PageLeft) => self.abort(),
            Err(Stop::Failed(message)) => self.end(LiveState::Failed(message.into())),
        }
    }

    fn show_frame(&self, frame: (u32, u32), face: Option<FaceBox>, hint: Hint, progress: Progress) {
        let view = match self.attempt.borrow_mut().as_mut() {
            Some(attempt) => {
                attempt.frame_in_flight = false;
                let video = &attempt.video;
                (f64::from(video.client_width()), f64::from(video.client_height()))
            }
            None => return,
        };
        self.live
            .face
            .set(face.and_then(|face| overlay_box(face, frame, view)));
        // Only a new hint is written, so that the live region announces each hint once and not
        // eight times a second.
        self.live.hint.maybe_update(|shown| replace_if_new(shown, hint));
        self.live
            .progress
            .maybe_update(|shown| replace_if_new(shown, progress));
    }

    /// The socket failed or closed before a verdict.
    fn on_disconnect(&self) {
        let started = self
            .attempt
            .borrow()
            .as_ref()
            .is_some_and(|attempt| attempt.ticker.is_some());
        let message = if started { CONNECTION_LOST } else { CANNOT_CONNECT };
        self.end(LiveState::Failed(message.into()));
    }

    /// Ends the attempt with its verdict; only the first verdict counts (an error event is
    /// followed by a close event, a late timer may fire after the result).
    fn end(&self, outcome: LiveState) {
        let ended = self.attempt.borrow_mut().take();
        if ended.is_none() {
            return;
        }
        drop(ended);
        self.show_outcome(outcome);
    }

    fn show_outcome(&self, outcome: LiveState) {
        self.camera.stop();
        self.live.face.set(None);
        self.live.state.set(outcome);
    }
}

fn replace_if_new<T: PartialEq>(shown: &mut Option<T>, new: T) -> bool {
    let changed = shown.as_ref() != Some(&new);
    if changed {
        *shown = Some(new);
    }
    changed
}

/// `ws(s)://<this host>/api/live?purpose=…`: the same origin as the page.
fn live_url(purpose: Purpose) -> Option<String> {
    let location = window().location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss",
        _ => "ws",
    };
    let host = location.host().ok()?;
    Some(format!("{scheme}://{host}{LIVE_PATH}?purpose={}", purpose.code()))
}

fn now_ms() -> f64 {
    window()
        .performance()
        .map_or_else(js_sys::Date::now, |clock| clock.now())
}

/// Why an attempt stops from the ticker's side.
enum Stop {
    PageLeft,
    Failed(&'static str),
}

/// One socket and what belongs to it. Dropping it detaches the handlers, stops the timers and
/// closes the socket, so every way an attempt ends cleans up the same.
struct Attempt {
    socket: WebSocket,
    video: HtmlVideoElement,
    /// A frame was sent and its answer has not arrived yet.
    frame_in_flight: bool,
    ticker: Option<IntervalHandle>,
    deadline: Option<TimeoutHandle>,
    _handlers: SocketHandlers,
}

impl Attempt {
    fn replace_timers(&mut self, ticker: Option<IntervalHandle>, deadline: Option<TimeoutHandle>) {
        self.stop_timers();
        self.ticker = ticker;
        self.deadline = deadline;
    }

    fn stop_timers(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.clear();
        }
        if let Some(deadline) = self.deadline.take() {
            deadline.clear();
        }
    }

    /// Sends the frame on screen now, unless the previous one is still unanswered.
    fn send_frame(&mut self) -> Result<(), Stop> {
        // The ticker outlives an unmount that leptos-rs/leptos#2785 hides from `on_cleanup`; a
        // preview gone from the document means the page was left.
        if !self.video.is_connected() {
            return Err(Stop::PageLeft);
        }
        if self.frame_in_flight || self.socket.ready_state() != WebSocket::OPEN {
            return Ok(());
        }
        let t_ms = now_ms();
        let Some(frame) = grab_jpeg(&self.video, LONGEST_SIDE, JPEG_QUALITY)
            .map_err(|_| Stop::Failed(UNREADABLE_CAMERA))?
        else {
            return Ok(()); // no picture yet
        };
        let message = serde_json::to_string(&ClientFrame {
            t_ms,
            image: frame.jpeg_data_url,
        })
        .map_err(|_| Stop::Failed(UNREADABLE_CAMERA))?;
        self.socket
            .send_with_str(&message)
            .map_err(|_| Stop::Failed(CONNECTION_LOST))?;
        self.frame_in_flight = true;
        Ok(())
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.stop_timers();
        self.socket.set_onmessage(None);
        self.socket.set_onerror(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

/// The socket's event handlers, kept alive as long as the attempt.
struct SocketHandlers {
    _message: Closure<dyn FnMut(MessageEvent)>,
    _error: Closure<dyn FnMut(Event)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

impl SocketHandlers {
    fn attach(socket: &WebSocket, session: &LiveSession) -> Self {
        let this = session.clone();
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event| this.on_message(event));
        // An error or a close before the verdict both mean the attempt is lost; the verdict
        // itself detaches these handlers before the socket closes.
        let this = session.clone();
        let error = Closure::<dyn FnMut(Event)>::new(move |_| this.on_disconnect());
        let this = session.clone();
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |_| this.on_disconnect());
        socket.set_onmessage(Some(message.as_ref().unchecked_ref()));
        socket.set_onerror(Some(error.as_ref().unchecked_ref()));
        socket.set_onclose(Some(close.as_ref().unchecked_ref()));
        Self {
            _message: message,
            _error: error,
            _close: close,
        }
    }
}
