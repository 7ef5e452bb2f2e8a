use leptos::prelude::*;

use crate::camera::CameraPreview;

#[component]
pub(crate) fn HomePage() -> impl IntoView {
    view! {
        <section class="card hero">
            <h1>"Sign in with your face"</h1>
            <p>
                "facegate keeps a 128-number description of your face, never the picture. "
                "Register once with your camera, then log in by looking at it and following a few "
                "short steps that a photo cannot do."
            </p>
            <div class="actions">
                <a class="button primary" href="/register">"Register"</a>
                <a class="button" href="/login">"Log in"</a>
            </div>
        </section>
        <section class="card">
            <h2>"Check your camera"</h2>
            <p class="muted">"Make sure your face is well lit and fills a good part of the picture."</p>
            <CameraPreview />
        </section>
    }
}
