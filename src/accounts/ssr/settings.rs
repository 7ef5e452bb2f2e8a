//! Settings of accounts and sessions, flattened into [`crate::config::Config`]: each is a flag, a
//! `FACEGATE_*` variable and a key of the `[facegate]` table of Leptos.toml.

use std::time::Duration;

/// When a login needs the second factor after the face.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorPolicy {
    /// Every login (the default; what NIST SP 800-63B asks of a face).
    Always,
    /// Only when the face match is not clear-cut (a runner-up within the match margin); the PIN
    /// then also tells the candidates apart.
    Ambiguous,
    /// Never: the face alone signs in (trusted kiosks; ambiguous matches are refused).
    Off,
}

#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct AccountSettings {
    /// When a login asks for the PIN (or passkey) after the face: always, ambiguous or off.
    #[arg(long, env = "FACEGATE_SECOND_FACTOR", value_enum, default_value = "always")]
    pub(crate) second_factor: SecondFactorPolicy,

    /// A session ends after this many minutes without a request.
    #[arg(long, env = "FACEGATE_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=24 * 60))]
    pub(crate) session_idle_minutes: u64,

    /// A session ends this many hours after its login, however active.
    #[arg(long, env = "FACEGATE_SESSION_LIFETIME_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u64).range(1..=24 * 30))]
    pub(crate) session_lifetime_hours: u64,

    /// Days that sign-ins and failed attempts stay in the account's history before they are purged.
    #[arg(long, env = "FACEGATE_AUDIT_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub(crate) audit_retention_days: u64,
}

impl AccountSettings {
    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_minutes * 60)
    }

    pub(crate) fn session_lifetime(&self) -> Duration {
        Duration::from_secs(self.session_lifetime_hours * 3600)
    }

    pub fn audit_retention(&self) -> Duration {
        Duration::from_secs(self.audit_retention_days * 24 * 3600)
    }
}
