//! facegate: register and sign in with your face.
//!
//! How a frame travels (docs/architecture.md has each stop's file): [`camera`] (browser) → the
//! live socket ([`components`]' live check, `api::live_socket` on the server) → `face` (detect,
//! landmarks, encode on a worker pool) → the live check ([`live`]`::ssr`) → a proof → the login
//! decision (`accounts::ssr`, `gallery`: 1:N in memory) → the second factor → a session. `db`
//! (MongoDB) is written on the way and read at start-up and in the background. Modules marked
//! server-only are compiled with the `ssr` feature alone.

pub mod accounts;
pub mod app;
pub mod camera;
pub mod components;
pub mod error;
pub mod live;
pub(crate) mod pages;
pub(crate) mod server_fns;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod at_rest;
#[cfg(feature = "ssr")]
pub(crate) mod background;
#[cfg(feature = "ssr")]
pub(crate) mod changes;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub(crate) mod eval;
#[cfg(feature = "ssr")]
pub(crate) mod expiring;
#[cfg(feature = "ssr")]
pub mod face;
#[cfg(feature = "ssr")]
pub mod forward_auth;
#[cfg(feature = "ssr")]
pub mod gallery;
#[cfg(feature = "ssr")]
pub(crate) mod health;
#[cfg(feature = "ssr")]
pub(crate) mod http;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
pub(crate) mod secret_file;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub(crate) mod startup;
#[cfg(feature = "ssr")]
pub mod state;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
