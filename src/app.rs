//! The application shell and routes, shared by server rendering and hydration.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

use crate::{
    components::toast::{ToastRegion, provide_toasts},
    pages::{
        home::HomePage, login::LoginPage, not_found::NotFound, register::RegisterPage, welcome::WelcomePage,
    },
};

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_toasts();
    view! {
        <Stylesheet id="leptos" href="/pkg/facegate.css" />
        <Title text="facegate" />
        <Router>
            <header class="site-header">
                <a class="brand" href="/">"facegate"</a>
                <nav aria-label="Main">
                    <a href="/register">"Register"</a>
                    <a href="/login">"Log in"</a>
                </nav>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("register") view=RegisterPage />
                    <Route path=StaticSegment("login") view=LoginPage />
                    <Route path=StaticSegment("welcome") view=WelcomePage />
                </Routes>
            </main>
            <ToastRegion />
        </Router>
    }
}
