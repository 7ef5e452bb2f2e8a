//! Forward auth: facegate as the gate of other applications behind a reverse proxy (Caddy
//! `forward_auth`, nginx `auth_request`, Traefik `ForwardAuth`). docs/forward-auth.md tells the
//! whole story; in short:
//!
//! - The proxy asks [`CHECK_PATH`] about every request to a guarded application, passing on the
//!   browser's cookies and the original URL. A valid forward-auth cookie → 200 with the user in
//!   `Remote-User`, `Remote-Email`, `Remote-Name`; otherwise a redirect to facegate's login with
//!   `return_to` = the original URL ([`return_to`] decides which URLs may come back).
//! - facegate's own session cookie is `__Host-` (host-only): it never reaches a sibling host.
//!   Another, narrower cookie does: `__Secure-facegate_forward`, for the forward-auth domain,
//!   holding a random token of its own ([`grants`]) bound to the facegate session. It is handed
//!   out by [`ENTER_PATH`] on facegate's host after the login, and is worth nothing once that
//!   session ends.

pub(crate) mod grants;
mod handlers;
pub(crate) mod return_to;
pub(crate) mod settings;

pub use grants::ForwardGrants;
pub use handlers::{login_shortcut, routes};
pub use settings::{ForwardAuthSettings, ForwardDomains};

/// Asked by the reverse proxy, any method (proxies pass the original one on).
pub const CHECK_PATH: &str = "/api/forward-auth";
/// On facegate's host, after the login: hands out the forward-auth cookie, then goes back.
pub const ENTER_PATH: &str = "/api/forward-auth/enter";
/// The forward-auth cookie: `__Secure-` (sent over HTTPS only, set only with `Secure`), for the
/// forward-auth domain.
pub const FORWARD_COOKIE: &str = "__Secure-facegate_forward";
