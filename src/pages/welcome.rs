use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::server_fns::{DeleteAccount, LogOut, current_user};

/// "2026-11-28T14:03:05.123Z" → "2026-11-28 14:03 UTC"; the same on server and browser.
fn readable_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

#[component]
pub fn WelcomePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let log_out = ServerAction::<LogOut>::new();
    let delete_account = ServerAction::<DeleteAccount>::new();
    view! {
        <Suspense fallback=|| view! { <p class="busy">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <section class="card">
                            <h1 data-testid="greeting">"Welcome back, " {user.username.clone()}</h1>
                            <p class="muted">
                                {match user.previous_login_at.as_deref() {
                                    Some(at) => format!("Your previous sign-in was on {}.", readable_time(at)),
                                    None => "This is your first sign-in. Welcome!".to_string(),
                                }}
                            </p>
                            <div class="actions">
                                <ActionForm action=log_out>
                                    <button type="submit" class="button primary">"Log out"</button>
                                </ActionForm>
                                <ActionForm action=delete_account>
                                    <button type="submit" class="button danger">"Delete my account"</button>
                                </ActionForm>
                            </div>
                        </section>
                    }.into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
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

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_the_same_everywhere() {
        assert_eq!(
            super::readable_time("2026-11-28T14:03:05.123Z"),
            "2026-11-28 14:03 UTC"
        );
        assert_eq!(super::readable_time("garbage"), "garbage");
    }
}
