use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::{
    accounts::{ActivityEntry, SignedInUser, readable_time},
    components::{passkey::PasskeysSection, signed_in_apps::SignedInApps},
    server_fns::{DeleteAccount, LogOut, SignOutEverywhere, account_history, current_user},
};

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
    let sign_out_everywhere = ServerAction::<SignOutEverywhere>::new();
    let delete_account = ServerAction::<DeleteAccount>::new();
    // Bumped when something new happened to the account on this page: the history reloads.
    let history_version = RwSignal::new(0_u32);
    let on_passkeys_changed = Callback::new(move |()| history_version.update(|n| *n += 1));
    let delete_refused = move || {
        delete_account
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    };
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
                                <ActionForm action=sign_out_everywhere>
                                    <button type="submit" class="button">"Sign out everywhere"</button>
                                </ActionForm>
                            </div>
                        </section>
                        <PasskeysSection on_changed=on_passkeys_changed />
                        <SignedInApps />
                        <RecentActivity version=history_version />
                        <section class="card">
                            <h2>"Your data"</h2>
                            <p class="muted">
                                "facegate keeps your name, email, a few numeric descriptions of your face (never a picture), "
                                "your PIN's hash, your sessions and this history for "
                                "a limited time. Export or delete it within 5 minutes of logging in."
                            </p>
                            <div class="actions">
                                <a class="button" href="/api/account/export" rel="external">
                                    "Export my data"
                                </a>
                                <ActionForm action=delete_account>
                                    <button type="submit" class="button danger">"Delete my account"</button>
                                </ActionForm>
                            </div>
                            {move || delete_refused().map(|message| view! {
                                <p class="notice error" role="alert" data-testid="delete-refused">{message}</p>
                            })}
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

/// The account's latest sign-ins and refused attempts.
#[component]
fn RecentActivity(version: RwSignal<u32>) -> impl IntoView {
    let history = Resource::new(move || version.get(), |_| account_history());
    view! {
        <section class="card">
            <h2>"Recent activity"</h2>
            <Suspense fallback=|| view! { <p class="busy">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(entries) if entries.is_empty() => view! { <p class="muted">"Nothing yet."</p> }.into_any(),
                        Ok(entries) => view! {
                            <ul class="activity" data-testid="activity">
                                {entries.into_iter().map(|entry| view! { <ActivityLine entry /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p class="notice error" role="alert">{error.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ActivityLine(entry: ActivityEntry) -> impl IntoView {
    let class = if entry.success { "ok" } else { "refused" };
    let from = match (&entry.client_address, &entry.user_agent) {
        (Some(address), Some(agent)) => format!(" — {address}, {agent}"),
        (Some(address), None) => format!(" — {address}"),
        (None, Some(agent)) => format!(" — {agent}"),
        (None, None) => String::new(),
    };
    view! {
        <li class=class>
            <time datetime=entry.at.clone()>{readable_time(&entry.at)}</time>
            " "
            <strong>{entry.describe()}</strong>
            <span class="muted">{from}</span>
        </li>
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
