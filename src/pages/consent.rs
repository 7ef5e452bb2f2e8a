//! `/consent?return_to=/oauth2/authorize?…`: the first time a person signs in to an application
//! through facegate, they say yes or no to it (docs/oidc.md).

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::server_fns::{AnswerConsent, consent_request};

/// What each scope lets the application see, in words.
pub fn describe_scope(scope: &str) -> &'static str {
    match scope {
        "profile" => "your name on facegate",
        "email" => "your email address (facegate has not verified it)",
        _ => "something facegate does not know",
    }
}

/// Where the browser goes next: a full page load, since the address is the authorization
/// endpoint or another site, not a page of this app.
fn go_to(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

#[component]
pub(crate) fn ConsentPage() -> impl IntoView {
    let query = use_query_map();
    let return_to = move || query.with(|q| q.get("return_to").unwrap_or_default());
    let request = Resource::new(return_to, consent_request);
    let answer = ServerAction::<AnswerConsent>::new();
    Effect::new(move |_| {
        if let Some(Ok(url)) = answer.value().get() {
            go_to(&url);
        }
    });
    let refused = move || answer.value().get().and_then(Result::err).map(|e| e.message);
    view! {
        <Suspense fallback=|| view! { <p class="busy">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match request.await {
                    Ok(request) => view! {
                        <section class="card" data-testid="consent">
                            <h1>{format!("Sign in to {}?", request.client_name)}</h1>
                            <p>
                                {format!("{} wants to know that you are ", request.client_name)}
                                <strong>{request.username.clone()}</strong>
                                " on facegate"
                                {if request.scopes.is_empty() { "." } else { ", and to see:" }}
                            </p>
                            <ul>
                                {request.scopes.iter().map(|scope| view! { <li>{describe_scope(scope)}</li> }).collect_view()}
                            </ul>
                            <p class="muted">"facegate remembers your answer. You can withdraw it on your welcome page."</p>
                            <div class="actions">
                                <button type="button" class="button primary" data-testid="consent-allow"
                                    disabled=move || answer.pending().get()
                                    on:click=move |_| { answer.dispatch(AnswerConsent { return_to: return_to(), allow: true }); }>
                                    "Allow"
                                </button>
                                <button type="button" class="button" data-testid="consent-deny"
                                    disabled=move || answer.pending().get()
                                    on:click=move |_| { answer.dispatch(AnswerConsent { return_to: return_to(), allow: false }); }>
                                    "Deny"
                                </button>
                            </div>
                            {move || refused().map(|message| view! { <p class="notice error" role="alert">{message}</p> })}
                        </section>
                    }.into_any(),
                    Err(error) if error.error == "unauthorized" => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! {
                        <section class="card">
                            <p class="notice error" role="alert">{error.message}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
