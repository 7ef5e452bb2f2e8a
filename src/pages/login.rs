use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    accounts::{LoginStep, PIN_MAX},
    components::{live_check::LiveFaceCheck, passkey::log_in_with_passkey},
    live::Purpose,
    server_fns::{ConfirmPin, LogIn, login_destination},
};

/// Where a login stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Login {
    Checking,
    SigningIn,
    /// The face was recognised; waiting for the PIN (or a passkey) that goes with this ticket.
    AskingPin {
        ticket: String,
        passkey: bool,
    },
    Refused(String),
}

/// A wrong PIN whose ticket takes another try (no new face check needed).
const WRONG_PIN: &str = "wrong_pin";

/// Leaves the app for `to`: a server route (an OIDC authorization, the forward-auth hand-over)
/// that the client-side router does not know.
fn full_page_load(to: &str) {
    #[cfg(feature = "hydrate")]
    if let Err(e) = window().location().assign(to) {
        leptos::logging::error!("cannot leave for {to}: {e:?}");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = to;
}

#[component]
pub(crate) fn LoginPage() -> impl IntoView {
    let navigate = use_navigate();
    let query = use_query_map();
    // Signed in: back to where the login was asked for (`?return_to=`, checked by the server:
    // docs/forward-auth.md), else the welcome page.
    let go_welcome = Callback::new(move |()| {
        let Some(return_to) = query.with_untracked(|q| q.get("return_to")) else {
            navigate("/welcome", Default::default());
            return;
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match login_destination(return_to).await {
                Ok(Some(destination)) => full_page_load(&destination),
                _ => navigate("/welcome", Default::default()),
            }
        });
    });
    let login = RwSignal::new(Login::Checking);
    // Bumped by "Try again": a new face check component means a new camera start and challenge.
    let attempt = RwSignal::new(0_u32);
    let pin = RwSignal::new(String::new());
    let log_in = ServerAction::<LogIn>::new();
    let confirm_pin = ServerAction::<ConfirmPin>::new();
    // The ticket of the PIN being checked, to ask again after a wrong PIN.
    let pending_ticket = StoredValue::new(None::<(String, bool)>);
    let with_passkey = Action::new_local(|ticket: &String| log_in_with_passkey(ticket.clone()));
    // Once the face passed, the camera stays off until "Try again".
    let face_passed = RwSignal::new(false);

    let on_passed = Callback::new(move |proof: String| {
        login.set(Login::SigningIn);
        log_in.dispatch(LogIn { proof });
    });
    Effect::new(move || match log_in.value().get() {
        None => {}
        Some(Ok(LoginStep::SignedIn(_))) => go_welcome.run(()),
        Some(Ok(LoginStep::SecondFactor(prompt))) => {
            face_passed.set(true);
            let passkey = prompt.factors.iter().any(|f| f == "passkey");
            login.set(Login::AskingPin {
                ticket: prompt.ticket,
                passkey,
            });
        }
        Some(Err(refusal)) => login.set(Login::Refused(refusal.message)),
    });
    Effect::new(move || match confirm_pin.value().get() {
        None => {}
        Some(Ok(_)) => go_welcome.run(()),
        Some(Err(refusal)) => {
            pin.set(String::new());
            match pending_ticket.get_value() {
                Some((ticket, passkey)) if refusal.error == WRONG_PIN => {
                    login.set(Login::AskingPin { ticket, passkey })
                }
                _ => login.set(Login::Refused(refusal.message)),
            }
        }
    });
    Effect::new(move || match with_passkey.value().get() {
        None => {}
        Some(Ok(_)) => go_welcome.run(()),
        Some(Err(refusal)) => login.set(Login::Refused(refusal.message)),
    });
    let use_passkey = move |_| {
        if let Login::AskingPin { ticket, .. } = login.get_untracked() {
            login.set(Login::SigningIn);
            with_passkey.dispatch(ticket);
        }
    };
    // The last refusal of a PIN, shown above the PIN field while the ticket still holds.
    let pin_refusal = move || match confirm_pin.value().get() {
        Some(Err(refusal)) if refusal.error == WRONG_PIN => Some(refusal.message),
        _ => None,
    };
    let submit_pin = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Login::AskingPin { ticket, passkey } = login.get_untracked() else {
            return;
        };
        pending_ticket.set_value(Some((ticket.clone(), passkey)));
        login.set(Login::SigningIn);
        confirm_pin.dispatch(ConfirmPin {
            ticket,
            pin: pin.get_untracked(),
        });
    };
    let try_again = move |_| {
        login.set(Login::Checking);
        pin.set(String::new());
        face_passed.set(false);
        attempt.update(|n| *n += 1);
    };

    view! {
        <section class="card">
            <h1>"Log in"</h1>
            <p class="muted">"Look at the camera and follow the steps, then enter your PIN."</p>
            <noscript>
                <p class="notice error">"facegate needs JavaScript to use your camera."</p>
            </noscript>
            {move || {
                attempt.track();
                (!face_passed.get()).then(|| view! { <LiveFaceCheck purpose=Purpose::Login on_passed /> })
            }}
            {move || match login.get() {
                Login::Checking => None,
                Login::SigningIn => Some(view! { <p class="busy">"Signing you in…"</p> }.into_any()),
                Login::AskingPin { passkey, .. } => Some(view! {
                    <form class="stack" on:submit=submit_pin data-testid="pin-step">
                        <p class="notice success" role="status">"Face recognised. Now enter your PIN."</p>
                        {pin_refusal().map(|message| view! {
                            <p class="notice error" role="alert" data-testid="pin-refused">{message}</p>
                        })}
                        <label>
                            "PIN"
                            <input
                                type="password"
                                name="pin"
                                inputmode="numeric"
                                autocomplete="current-password"
                                required=true
                                maxlength=PIN_MAX.to_string()
                                autofocus=true
                                prop:value=move || pin.get()
                                on:input=move |ev| pin.set(event_target_value(&ev))
                            />
                        </label>
                        <div class="actions">
                            <button type="submit" class="button primary">"Log in"</button>
                            {passkey.then(|| view! {
                                <button type="button" class="button" on:click=use_passkey>
                                    "Use my passkey instead"
                                </button>
                            })}
                        </div>
                    </form>
                }.into_any()),
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
