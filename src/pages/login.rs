use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    camera::{Camera, CapturedFrame},
    components::toast::use_toasts,
    server_fns::log_in,
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let refusal = RwSignal::new(None::<String>);

    let on_capture = move |frame: CapturedFrame| {
        busy.set(true);
        refusal.set(None);
        leptos::task::spawn_local(async move {
            let result = log_in(frame.jpeg_data_url).await;
            busy.set(false);
            match result {
                Ok(user) => {
                    toasts.success(format!("Welcome back, {}!", user.username));
                    use_navigate()("/welcome", Default::default());
                }
                Err(error) => {
                    toasts.error(error.message.clone());
                    refusal.set(Some(error.message));
                }
            }
        });
    };

    view! {
        <section class="card">
            <h1>"Log in"</h1>
            <p class="muted">"Look at the camera and press the button."</p>
            <noscript>
                <p class="notice error">"facegate needs JavaScript to use your camera."</p>
            </noscript>
            <Camera on_capture=on_capture capture_label="Log in with my face" busy=busy />
            <Show when=move || busy.get()>
                <p class="busy">"Recognising…"</p>
            </Show>
            {move || refusal.get().map(|message| view! {
                <p class="notice error" role="alert" data-testid="login-refused">{message}</p>
            })}
            <p class="muted">"New here? " <a href="/register">"Register"</a></p>
        </section>
    }
}
