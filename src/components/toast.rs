//! Toasts: short messages in a corner for results and errors (the original used
//! react-toastify). Announced to screen readers; errors stay until dismissed or replaced.

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
}

/// The page's toast list; get it with [`use_toasts`].
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

/// How long a success or info toast stays.
const AUTO_DISMISS_MS: u64 = 6000;
/// At most this many on screen; the oldest goes first.
const MAX_TOASTS: usize = 4;

impl Toasts {
    pub fn success(&self, message: impl Into<String>) {
        self.push(ToastKind::Success, message.into());
    }

    pub fn error(&self, message: impl Into<String>) {
        self.push(ToastKind::Error, message.into());
    }

    pub fn info(&self, message: impl Into<String>) {
        self.push(ToastKind::Info, message.into());
    }

    fn push(&self, kind: ToastKind, message: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.list.update(|list| {
            list.push(Toast { id, kind, message });
            let excess = list.len().saturating_sub(MAX_TOASTS);
            list.drain(..excess);
        });
        if kind != ToastKind::Error {
            let this = *self;
            set_timeout(
                move || this.dismiss(id),
                std::time::Duration::from_millis(AUTO_DISMISS_MS),
            );
        }
    }

    pub fn dismiss(&self, id: u64) {
        self.list.update(|list| list.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        list: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(0),
    };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(provide_toasts)
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:toast>
                <div
                    class=match toast.kind {
                        ToastKind::Success => "toast success",
                        ToastKind::Error => "toast error",
                        ToastKind::Info => "toast info",
                    }
                    data-testid="toast"
                >
                    <span>{toast.message.clone()}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
