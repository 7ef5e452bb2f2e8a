//! Passkeys in the pages: the button that adds one (welcome page) and the step that signs in
//! with one instead of the PIN (login page). The WebAuthn calls run after hydration
//! ([`browser`]); without JavaScript there are no passkeys, and the PIN remains.

#[cfg(feature = "hydrate")]
mod browser;

use leptos::prelude::*;

use crate::{
    accounts::SignedInUser,
    error::ApiError,
    server_fns::{finish_adding_passkey, finish_passkey_login, start_adding_passkey, start_passkey_login},
};

fn refusal(message: impl Into<String>) -> ApiError {
    ApiError {
        error: "passkey_failed".into(),
        message: message.into(),
    }
}

/// Hands the server's options to the browser's passkey store; returns the ceremony key and the
/// credential, both for the server's finishing step.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
async fn in_browser(create: bool, options: String) -> Result<(String, String), ApiError> {
    #[cfg(feature = "hydrate")]
    {
        let kind = if create {
            browser::Ceremony::Create
        } else {
            browser::Ceremony::Get
        };
        let ceremony = browser::ceremony_key(&options).map_err(refusal)?;
        let credential = browser::run(kind, &options).await.map_err(refusal)?;
        Ok((ceremony, credential))
    }
    #[cfg(not(feature = "hydrate"))]
    Err(refusal("Passkeys need JavaScript."))
}

/// Adds a passkey to the signed-in account: server options → browser → server.
pub async fn add_passkey() -> Result<(), ApiError> {
    let (ceremony, credential) = in_browser(true, start_adding_passkey().await?).await?;
    finish_adding_passkey(ceremony, credential).await
}

/// Confirms a login ticket with a passkey instead of the PIN.
pub async fn log_in_with_passkey(ticket: String) -> Result<SignedInUser, ApiError> {
    let (ceremony, credential) = in_browser(false, start_passkey_login(ticket).await?).await?;
    finish_passkey_login(ceremony, credential).await
}

/// The welcome page's passkey section.
#[component]
pub fn AddPasskey(
    /// Called after a passkey was added (to refresh the history).
    on_added: Callback<()>,
) -> impl IntoView {
    let adding = Action::new_local(|_: &()| add_passkey());
    let outcome = move || match adding.value().get() {
        Some(Ok(())) => Some(
            view! {
                <p class="notice success" role="status" data-testid="passkey-added">
                    "Passkey added. At your next login, use it instead of your PIN."
                </p>
            }
            .into_any(),
        ),
        Some(Err(error)) => {
            Some(view! { <p class="notice error" role="alert">{error.message}</p> }.into_any())
        }
        None => None,
    };
    Effect::new(move || {
        if let Some(Ok(())) = adding.value().get() {
            on_added.run(());
        }
    });
    view! {
        <section class="card">
            <h2>"Passkeys"</h2>
            <p class="muted">
                "A passkey on this device (unlocked with its own PIN or fingerprint) can replace your "
                "PIN after the face check. Add one within 5 minutes of logging in."
            </p>
            <div class="actions">
                <button
                    type="button"
                    class="button"
                    disabled=move || adding.pending().get()
                    on:click=move |_| {
                        adding.dispatch(());
                    }
                >
                    "Add a passkey"
                </button>
            </div>
            {outcome}
        </section>
    }
}
