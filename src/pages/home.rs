use leptos::prelude::*;

use crate::camera::{Camera, CapturedFrame};

#[component]
pub fn HomePage() -> impl IntoView {
    let (last, set_last) = signal(None::<CapturedFrame>);
    view! {
        <section class="card hero">
            <h1>"Sign in with your face"</h1>
            <p>
                "facegate keeps a 128-number description of your face, never the picture. "
                "Register once with your camera, then log in by looking at it."
            </p>
            <div class="actions">
                <a class="button primary" href="/register">"Register"</a>
                <a class="button" href="/login">"Log in"</a>
            </div>
        </section>
        <section class="card">
            <h2>"Try your camera"</h2>
            <Camera on_capture=move |frame| set_last.set(Some(frame)) capture_label="Take a test picture" />
            <Show when=move || last.get().is_some()>
                <p class="capture-info" data-testid="capture-info">
                    {move || last.get().map(|f| format!(
                        "Captured a {}×{} frame ({} KB JPEG).", f.width, f.height, f.jpeg_data_url.len() * 3 / 4 / 1024
                    ))}
                </p>
            </Show>
        </section>
    }
}
