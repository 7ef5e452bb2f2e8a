use leptos::prelude::*;

use crate::{
    accounts::{validate_email, validate_username},
    camera::{Camera, CapturedFrame},
    components::toast::use_toasts,
    server_fns::register,
};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let toasts = use_toasts();
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    // Field errors show once a field was left or a capture was tried, not while typing first.
    let show_errors = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let registered = RwSignal::new(None::<String>);

    let username_error = move || {
        show_errors
            .get()
            .then(|| validate_username(username.get().trim()).err())
            .flatten()
    };
    let email_error = move || {
        show_errors
            .get()
            .then(|| validate_email(email.get().trim()).err())
            .flatten()
    };

    let on_capture = move |frame: CapturedFrame| {
        show_errors.set(true);
        let (name, address) = (username.get_untracked(), email.get_untracked());
        if validate_username(name.trim()).is_err() || validate_email(address.trim()).is_err() {
            toasts.error("Fix the username and email first.");
            return;
        }
        busy.set(true);
        registered.set(None);
        leptos::task::spawn_local(async move {
            let result = register(name, address, frame.jpeg_data_url).await;
            busy.set(false);
            match result {
                Ok(user) => {
                    toasts.success(format!("Registered {}. You can log in now.", user.username));
                    registered.set(Some(user.username));
                }
                Err(error) => toasts.error(error.message),
            }
        });
    };

    view! {
        <section class="card">
            <h1>"Register"</h1>
            <p class="muted">
                "Choose a name, enter your email, then look at the camera and press the button. "
                "Only a numeric description of your face is stored, never the picture."
            </p>
            <noscript>
                <p class="notice error">"facegate needs JavaScript to use your camera."</p>
            </noscript>
            <form class="stack" on:submit=|ev| ev.prevent_default() novalidate=true>
                <label>
                    "Username"
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        required=true
                        minlength="3"
                        maxlength="32"
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))
                        on:blur=move |_| show_errors.set(true)
                        aria-invalid=move || username_error().is_some().to_string()
                        aria-describedby="username-error"
                    />
                    <span id="username-error" class="field-error">{username_error}</span>
                </label>
                <label>
                    "Email"
                    <input
                        type="email"
                        name="email"
                        autocomplete="email"
                        required=true
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))
                        on:blur=move |_| show_errors.set(true)
                        aria-invalid=move || email_error().is_some().to_string()
                        aria-describedby="email-error"
                    />
                    <span id="email-error" class="field-error">{email_error}</span>
                </label>
            </form>
            <Camera on_capture=on_capture capture_label="Capture and register" busy=busy />
            <Show when=move || busy.get()>
                <p class="busy">"Checking your picture…"</p>
            </Show>
            {move || registered.get().map(|name| view! {
                <p class="notice success" data-testid="registered">
                    "Registered " {name} ". " <a href="/login">"Log in now"</a>
                </p>
            })}
        </section>
    }
}
