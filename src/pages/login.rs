use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{components::live_check::LiveFaceCheck, live::Purpose, server_fns::log_in};

/// Where a login stands after the face check.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Login {
    Checking,
    SigningIn,
    Refused(String),
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let navigate = use_navigate();
    let login = RwSignal::new(Login::Checking);
    // Bumped by "Try again": a new face check component means a new camera start and challenge.
    let attempt = RwSignal::new(0_u32);

    let on_passed = Callback::new(move |proof: String| {
        login.set(Login::SigningIn);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match log_in(proof).await {
                Ok(_) => navigate("/welcome", Default::default()),
                Err(refusal) => login.set(Login::Refused(refusal.message)),
            }
        });
    });
    let try_again = move |_| {
        login.set(Login::Checking);
        attempt.update(|n| *n += 1);
    };

    view! {
        <section class="card">
            <h1>"Log in"</h1>
            <p class="muted">"Look at the camera and follow the steps. No button to press."</p>
            <noscript>
                <p class="notice error">"facegate needs JavaScript to use your camera."</p>
            </noscript>
            {move || {
                attempt.track();
                view! { <LiveFaceCheck purpose=Purpose::Login on_passed /> }
            }}
            {move || match login.get() {
                Login::Checking => None,
                Login::SigningIn => Some(view! { <p class="busy">"Signing you in…"</p> }.into_any()),
                Login::Refused(message) => Some(view! {
                    <div class="notice error" role="alert" data-testid="login-refused">
                        <p>{message}</p>
                        <button type="button" class="button primary" on:click=try_again>"Try again"</button>
                    </div>
                }.into_any()),
            }}
            <p class="muted">"New here? " <a href="/register">"Register"</a></p>
        </section>
    }
}
