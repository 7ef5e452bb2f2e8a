//! Where `/metrics` is served.

use std::net::SocketAddr;

/// Where `/metrics` is served (docs/deploy.md, "Metrics").
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MetricsSettings {
    /// Serve `/metrics` on this address of its own (e.g. `127.0.0.1:9464`), apart from the app.
    #[arg(long, env = "FACEGATE_METRICS_LISTEN")]
    pub(crate) metrics_listen: Option<SocketAddr>,

    /// Also serve `/metrics` on the public port, to requests with `Authorization: Bearer <this>`.
    /// Unset (and no `metrics-listen`): metrics are not served at all.
    #[arg(long, env = "FACEGATE_METRICS_TOKEN", hide_env_values = true)]
    pub(crate) metrics_token: Option<String>,
}
