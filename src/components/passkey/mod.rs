//! Passkeys in the pages: the welcome page's list (rename, remove) and the button that adds one,
//! and the step that signs in with one instead of the PIN (login page). The WebAuthn calls run after hydration
//! ([`browser`]); without JavaScript there are no passkeys, and the PIN remains.

#[cfg(feature = "hydrate")]
mod browser;

use leptos::prelude::*;

use crate::{
    accounts::{PASSKEY_NAME_MAX, PasskeyInfo, SignedInUser, readable_time},
    error::ApiError,
    server_fns::{
        RemovePasskey, RenamePasskey, finish_adding_passkey, finish_passkey_login, list_passkeys,
        start_adding_passkey, start_passkey_login,
    },
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

/// The welcome page's passkey section: the account's passkeys (name, added, last used), each
/// renamed or removed in place, and the button that adds one.
#[component]
pub fn PasskeysSection(
    /// Called after a passkey was added or removed (to refresh the history).
    on_changed: Callback<()>,
) -> impl IntoView {
    let adding = Action::new_local(|_: &()| add_passkey());
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let passkeys = Resource::new(
        move || {
            (
                adding.version().get(),
                rename.version().get(),
                remove.version().get(),
            )
        },
        |_| list_passkeys(),
    );
    let added = move || matches!(adding.value().get(), Some(Ok(())));
    Effect::new(move || {
        let removed = matches!(remove.value().get(), Some(Ok(())));
        if added() || removed {
            on_changed.run(());
        }
    });
    let refusal = move || {
        let failed = |v: Option<Result<(), ApiError>>| v.and_then(Result::err);
        failed(adding.value().get())
            .or_else(|| failed(rename.value().get()))
            .or_else(|| failed(remove.value().get()))
            .map(|error| view! { <p class="notice error" role="alert" data-testid="passkey-refused">{error.message}</p> })
    };
    view! {
        <section class="card">
            <h2>"Passkeys"</h2>
            <p class="muted">
                "A passkey on this device (unlocked with its own PIN or fingerprint) can replace your "
                "PIN after the face check. Add one within 5 minutes of logging in with your face and PIN; "
                "removing one also needs a login under 5 minutes old. Signing out everywhere ends your "
                "sessions but keeps your passkeys: remove the passkey of a lost device here."
            </p>
            <Suspense fallback=|| view! { <p class="busy">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match passkeys.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="no-passkeys">"No passkey yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="passkeys" data-testid="passkeys">
                                {list.into_iter().map(|passkey| view! { <PasskeyLine passkey rename remove /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p class="notice error" role="alert">{error.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
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
            {move || added().then(|| view! {
                <p class="notice success" role="status" data-testid="passkey-added">
                    "Passkey added. At your next login, use it instead of your PIN."
                </p>
            })}
            {refusal}
        </section>
    }
}

/// One passkey: its name (editable), when it was added and last used, and "Remove".
#[component]
fn PasskeyLine(
    passkey: PasskeyInfo,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
    let used = match passkey.last_used_at.as_deref() {
        Some(at) => format!("last used {}", readable_time(at)),
        None => "never used".to_string(),
    };
    let label = format!("Name of the passkey added {}", readable_time(&passkey.created_at));
    let added = format!(" added {}, {used} ", readable_time(&passkey.created_at));
    let (rename_id, remove_id, name) = (passkey.id.clone(), passkey.id, passkey.name);
    view! {
        <li data-testid="passkey">
            <ActionForm action=rename>
                <input type="hidden" name="id" value=rename_id />
                <input
                    type="text"
                    name="name"
                    required
                    maxlength=PASSKEY_NAME_MAX.to_string()
                    aria-label=label
                    value=name
                />
                <button type="submit" class="button">"Rename"</button>
            </ActionForm>
            <span class="muted">{added}</span>
            <ActionForm action=remove>
                <input type="hidden" name="id" value=remove_id />
                <button type="submit" class="button danger">"Remove"</button>
            </ActionForm>
        </li>
    }
}
