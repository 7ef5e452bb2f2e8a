//! "Apps you signed in to" on the welcome page: the applications a person let facegate sign
//! them in to (OpenID Connect consents), each with "Withdraw".

use leptos::prelude::*;

use crate::{
    pages::consent::describe_scope,
    server_fns::{RevokeApp, signed_in_apps},
};

#[component]
pub fn SignedInApps() -> impl IntoView {
    let revoke = ServerAction::<RevokeApp>::new();
    let apps = Resource::new(move || revoke.version().get(), |_| signed_in_apps());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(apps) if apps.is_empty() => ().into_any(),
                    Ok(apps) => view! {
                        <section class="card" data-testid="signed-in-apps">
                            <h2>"Apps you signed in to"</h2>
                            <ul class="activity">
                                {apps.into_iter().map(|app| {
                                    let client_id = app.client_id.clone();
                                    let sees = app.scopes.iter().map(|s| describe_scope(s)).collect::<Vec<_>>().join(", ");
                                    view! {
                                        <li>
                                            <strong>{app.name}</strong>
                                            <span class="muted">{if sees.is_empty() { String::new() } else { format!(" — sees {sees}") }}</span>
                                            " "
                                            <button type="button" class="button"
                                                on:click=move |_| { revoke.dispatch(RevokeApp { client_id: client_id.clone() }); }>
                                                "Withdraw"
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
    }
}
