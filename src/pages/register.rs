use leptos::prelude::*;

use crate::{
    accounts::{EMAIL_MAX, PIN_MAX, PIN_MIN, USERNAME_MAX, validate_email, validate_pin, validate_username},
    components::{
        form_field::{FieldKind, FormField},
        live_check::LiveFaceCheck,
    },
    live::Purpose,
    server_fns::Register,
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
        "username_taken" | "email_taken" | "invalid_username" | "invalid_email" | "invalid_pin"
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
    let pin = RwSignal::new(String::new());
    let pin_again = RwSignal::new(String::new());
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

    let pin_error = move || {
        show_errors
            .get()
            .then(|| validate_pin(&pin.get()).err())
            .flatten()
    };
    let pin_again_error = move || {
        (show_errors.get() && pin_again.get() != pin.get())
            .then(|| "The two PINs differ: type the same PIN twice.".to_string())
    };

    let start_face_check = move || {
        registration.set(Registration::Checking);
        face_check.update(|check| *check = Some(check.map_or(1, |n| n + 1)));
    };
    // The fields as they are when the proof is sent are the ones registered.
    let register = ServerAction::<Register>::new();
    // The proof being redeemed, and whether it was one kept from an earlier refusal.
    let sent_proof = StoredValue::new(None::<(String, bool)>);
    let save = move |proof: String, kept: bool| {
        registration.set(Registration::Saving);
        sent_proof.set_value(Some((proof.clone(), kept)));
        register.dispatch(Register {
            username: username.get_untracked().trim().to_string(),
            email: email.get_untracked().trim().to_string(),
            pin: pin.get_untracked(),
            proof,
        });
    };
    Effect::new(move || {
        let Some(result) = register.value().get() else {
            return;
        };
        let Some((proof, kept)) = sent_proof.write_value().take() else {
            return;
        };
        match result {
            Ok(user) => {
                face_check.set(None);
                pin.set(String::new());
                pin_again.set(String::new());
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
    let on_passed = Callback::new(move |proof: String| save(proof, false));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        show_errors.set(true);
        let valid = validate_username(username.get_untracked().trim()).is_ok()
            && validate_email(email.get_untracked().trim()).is_ok()
            && validate_pin(&pin.get_untracked()).is_ok()
            && pin.get_untracked() == pin_again.get_untracked();
        if !valid {
            return;
        }
        match kept_proof.write_value().take() {
            Some(proof) => save(proof, true),
            None => start_face_check(),
        }
    };

    let busy = move || matches!(registration.get(), Registration::Checking | Registration::Saving);
    // Once registered, only the success state shows: the form (its PIN fields emptied) would
    // invite a second registration and show the emptied PINs as errors.
    let registered = move || matches!(registration.get(), Registration::Registered(_));
    view! {
        <section class="card">
            <h1>"Register"</h1>
            <Show when=move || !registered()>
                <p class="muted">
                    "Choose a name, enter your email and a PIN, then follow the steps in front of the camera. "
                    "Only a numeric description of your face is stored, never the picture. "
                    "Every login asks for your face and then your PIN."
                </p>
                <noscript>
                    <p class="notice error">"facegate needs JavaScript to use your camera."</p>
                </noscript>
                <form class="stack" on:submit=on_submit novalidate=true>
                    <FormField label="Username".into() name="username" kind=FieldKind::Username value=username
                        error=Signal::derive(username_error) touched=show_errors max_length=USERNAME_MAX />
                    <FormField label="Email".into() name="email" kind=FieldKind::Email value=email
                        error=Signal::derive(email_error) touched=show_errors max_length=EMAIL_MAX />
                    <FormField label=format!("PIN ({PIN_MIN}-{PIN_MAX} digits)") name="pin" kind=FieldKind::NewPin
                        value=pin error=Signal::derive(pin_error) touched=show_errors max_length=PIN_MAX />
                    <FormField label="PIN again".into() name="pin_again" kind=FieldKind::NewPin value=pin_again
                        error=Signal::derive(pin_again_error) touched=show_errors max_length=PIN_MAX />
                    <div class="actions">
                        <button type="submit" class="button primary" disabled=move || !hydrated.get() || busy()>
                            "Continue to the face check"
                        </button>
                    </div>
                </form>
            </Show>
            {move || face_check.get().map(|_| view! { <LiveFaceCheck purpose=Purpose::Register on_passed /> })}
            {move || match registration.get() {
                Registration::Form | Registration::Checking => None,
                Registration::Saving => Some(view! { <p class="busy">"Registering…"</p> }.into_any()),
                Registration::Refused(message) => Some(view! {
                    <p class="notice error" role="alert" data-testid="register-refused">{message}</p>
                }.into_any()),
                Registration::Registered(name) => Some(view! {
                    <p class="notice success" role="status" data-testid="registered">
                        "Registered " {name} ". " <a href="/login">"Log in now"</a> " with your face and PIN."
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
