//! Every integration test in one binary: one link instead of one per file (each links dlib, the
//! database driver and the whole app: ~20 copies cost minutes and gigabytes in CI). Each file
//! stays a module of its own; run one with `cargo test --features ssr --test integration live_api::`.
//! Two run in processes of their own: `observability` (the process-wide metrics recorder) and
//! `dlib_faults` (it makes libdlib fail on purpose).

mod support;

mod accounts_api;
mod admission;
mod api_contract;
mod blas_tuning;
mod ended_sessions;
mod face_engine;
mod faults;
mod forward_auth;
mod front_door;
mod http_security;
mod instances;
mod live_animation;
mod live_api;
mod live_eval;
mod more_people;
mod oidc;
mod passkey_management;
mod passkeys_api;
mod second_factor_api;
mod server;
mod shutdown;
mod templates_at_rest;
