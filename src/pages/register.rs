use leptos::prelude::*;

use crate::{
    accounts::{validate_email, validate_username},
    components::live_check::LiveFaceCheck,
    live::Purpose,
    server_fns::register,
};

/// Where a registration stands once the form was sent on.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Registration {
    Form,
    Checking,
    Saving,
    Refused(String),
    Registered(String),
}

/// Refusals after which the server gives the passed check back (the form was at fault, not the
/// face), so that the corrected form can be sent without another face check.
fn keeps_proof(error_code: &str) -> bool {
    matches!(
        error_code,
        "username_taken" | "email_taken" | "invalid_username" | "invalid_email"
    )
}

/// The server no longer knows a kept proof (it is single-use and short-lived).
fn proof_gone(error_code: &str) -> bool {
    matches!(error_code, "unknown_proof" | "nonce_expired")
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    // Field errors show once a field was left or the form was sent, not while typing first.
    let show_errors = RwSignal::new(false);
    let registration = RwSignal::new(Registration::Form);
    // The face check on the page, numbered: each new number mounts a new one (a new camera
    // start and a new challenge); `None` shows none.
    let face_check = RwSignal::new(None::<u32>);
    let kept_proof = StoredValue::new(None::<String>);
    // The server renders the button disabled: before hydration a click would reload the page.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));

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

    let start_face_check = move || {
        registration.set(Registration::Checking);
        face_check.update(|check| *check = Some(check.map_or(1, |n| n + 1)));
    };
    // The fields as they are when the proof is sent are the ones registered.
    let save = move |proof: String, kept: bool| {
        registration.set(Registration::Saving);
        let (name, address) = (username.get_untracked(), email.get_untracked());
        leptos::task::spawn_local(async move {
            let result = register(name.trim().to_string(), address.trim().to_string(), proof.clone()).await;
            match result {
                Ok(user) => {
                    face_check.set(None);
                    registration.set(Registration::Registered(user.username));
                }
                Err(refusal) if kept && proof_gone(&refusal.error) => start_face_check(),
                Err(refusal) => {
                    if keeps_proof(&refusal.error) {
                        kept_proof.set_value(Some(proof));
                    }
                    face_check.set(None);
                    registration.set(Registration::Refused(refusal.message));
                }
            }
        });
    };
    let on_passed = Callback::new(move |proof: String| save(proof, false));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        show_errors.set(true);
        let valid = validate_username(username.get_untracked().trim()).is_ok()
            && validate_email(email.get_untracked().trim()).is_ok();
        if !valid {
            return;
        }
        match kept_proof.write_value().take() {
            Some(proof) => save(proof, true),
            None => start_face_check(),
        }
    };

    let busy = move || matches!(registration.get(), Registration::Checking | Registration::Saving);
    view! {
        <section class="card">
            <h1>"Register"</h1>
            <p class="muted">
                "Choose a name and enter your email, then follow the steps in front of the camera. "
                "Only a numeric description of your face is stored, never the picture."
            </p>
            <noscript>
                <p class="notice error">"facegate needs JavaScript to use your camera."</p>
            </noscript>
            <form class="stack" on:submit=on_submit novalidate=true>
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
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || !hydrated.get() || busy()>
                        "Continue to the face check"
                    </button>
                </div>
            </form>
            {move || face_check.get().map(|_| view! { <LiveFaceCheck purpose=Purpose::Register on_passed /> })}
            {move || match registration.get() {
                Registration::Form | Registration::Checking => None,
                Registration::Saving => Some(view! { <p class="busy">"Registering…"</p> }.into_any()),
                Registration::Refused(message) => Some(view! {
                    <p class="notice error" role="alert" data-testid="register-refused">{message}</p>
                }.into_any()),
                Registration::Registered(name) => Some(view! {
                    <p class="notice success" role="status" data-testid="registered">
                        "Registered " {name} ". " <a href="/login">"Log in now"</a>
                    </p>
                }.into_any()),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_form_refusals_keep_the_face_check() {
        assert!(keeps_proof("username_taken"));
        assert!(keeps_proof("invalid_email"));
        assert!(!keeps_proof("face_already_registered"));
        assert!(proof_gone("nonce_expired"));
        assert!(!proof_gone("username_taken"));
    }
}
