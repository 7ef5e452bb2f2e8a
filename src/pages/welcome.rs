use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::{
    accounts::SignedInUser,
    server_fns::{DeleteAccount, LogOut, current_user},
};

/// "2026-11-28T14:03:05.123Z" → "2026-11-28 14:03 UTC"; the same on server and browser.
fn readable_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// "Welcome, NAME" on the first sign-in, "Welcome back, NAME" after that.
fn greeting(user: &SignedInUser) -> String {
    match user.previous_login_at {
        None => format!("Welcome, {}", user.username),
        Some(_) => format!("Welcome back, {}", user.username),
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
                            <h1 data-testid="greeting">{greeting(&user)}</h1>
                            <p class="muted">
                                {match user.previous_login_at.as_deref() {
                                    Some(at) => format!("Your previous sign-in was on {}.", readable_time(at)),
                                    None => "This is your first sign-in.".to_string(),
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

    #[test]
    fn the_first_sign_in_is_greeted_differently() {
        let mut user = super::SignedInUser {
            user_id: "u1".into(),
            username: "Franck".into(),
            previous_login_at: None,
        };
        assert_eq!(super::greeting(&user), "Welcome, Franck");
        user.previous_login_at = Some("2026-11-28T14:03:05.123Z".into());
        assert_eq!(super::greeting(&user), "Welcome back, Franck");
    }
}
