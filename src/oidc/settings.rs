//! The provider's settings: key and clients files, token lifetimes.

use std::{path::PathBuf, time::Duration};

#[derive(clap::Args, Debug, Clone)]
pub struct OidcSettings {
    /// The OpenID Connect signing keys (RS256, mode 0600), created at the first start when
    /// missing; `facegate keys signing rotate` rotates them (docs/oidc.md).
    #[arg(long, env = "FACEGATE_OIDC_KEY_FILE", default_value = "data/oidc-keys")]
    pub(crate) oidc_key_file: PathBuf,

    /// The registered OpenID Connect clients (`[[clients]]`; `facegate clients add`). Missing:
    /// no clients.
    #[arg(
        long,
        env = "FACEGATE_OIDC_CLIENTS_FILE",
        default_value = "data/oidc-clients.toml"
    )]
    pub(crate) oidc_clients_file: PathBuf,

    /// Lifetime of access tokens (and ID tokens), in seconds.
    #[arg(long, env = "FACEGATE_OIDC_ACCESS_TOKEN_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(30..=3600))]
    pub(crate) oidc_access_token_secs: u64,

    /// Lifetime of a refresh token chain from its login, in days (for clients that have them).
    #[arg(long, env = "FACEGATE_OIDC_REFRESH_TOKEN_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=365))]
    pub(crate) oidc_refresh_token_days: u64,
}

impl OidcSettings {
    pub fn access_token_lifetime(&self) -> Duration {
        Duration::from_secs(self.oidc_access_token_secs)
    }

    pub fn refresh_token_lifetime(&self) -> Duration {
        Duration::from_secs(self.oidc_refresh_token_days * 24 * 3600)
    }
}
