//! The application shell and routes, shared by server rendering and hydration.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
    hooks::use_location,
};

use crate::{
    components::toast::{ToastRegion, provide_toasts},
    pages::{
        consent::ConsentPage, home::HomePage, login::LoginPage, not_found::NotFound, register::RegisterPage,
        welcome::WelcomePage,
    },
    server_fns::{LogOut, current_user},
};

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Before any script is rendered: they must carry the nonce the CSP header names.
    #[cfg(feature = "ssr")]
    crate::http::provide_csp_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub(crate) fn App() -> impl IntoView {
    provide_meta_context();
    provide_toasts();
    view! {
        <Stylesheet id="leptos" href="/pkg/facegate.css" />
        <Title text="facegate" />
        <Router>
            <SiteHeader />
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("register") view=RegisterPage />
                    <Route path=StaticSegment("login") view=LoginPage />
                    <Route path=StaticSegment("welcome") view=WelcomePage />
                    <Route path=StaticSegment("consent") view=ConsentPage />
                </Routes>
            </main>
            <ToastRegion />
        </Router>
    }
}

/// The brand and who is signed in: "Register" and "Log in" for a visitor, the name and a
/// "Log out" button for a signed-in user.
#[component]
fn SiteHeader() -> impl IntoView {
    let location = use_location();
    let log_out = ServerAction::<LogOut>::new();
    // Signing in or out ends on another page (log in → /welcome, log out → /login, deleting the
    // account → /), so the user is asked for again on every navigation and after the header's
    // own log out. Blocking: the server waits for it, so that the header is right without
    // JavaScript too.
    let user = Resource::new_blocking(
        move || (location.pathname.get(), log_out.version().get()),
        |_| current_user(),
    );
    let visitor = || {
        view! {
            <a href="/register">"Register"</a>
            <a href="/login">"Log in"</a>
        }
    };
    view! {
        <header class="site-header">
            <a class="brand" href="/">"facegate"</a>
            <nav aria-label="Main">
                <Transition fallback=visitor>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => view! {
                                <span class="signed-in" data-testid="signed-in">
                                    "Signed in as " <strong>{user.username}</strong>
                                </span>
                                <ActionForm action=log_out>
                                    <button type="submit" class="button">"Log out"</button>
                                </ActionForm>
                            }.into_any(),
                            // An unreachable server says so on the page that needs it.
                            Ok(None) | Err(_) => visitor().into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}
