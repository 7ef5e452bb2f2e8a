//! Settings that keep one slow, idle or greedy client from costing the others: how clients are
//! grouped (IPv6 by network), the share of places one client may hold, the listener's connection
//! cap and header deadline, the minimum upload rate, and the live socket's idle, size and rate
//! gates. Flattened into [`super::HttpSettings`]; docs/security.md ("HTTP front door") says why.

use std::{net::IpAddr, time::Duration};

use super::client_key::ClientKey;

#[derive(clap::Args, Debug, Clone)]
pub struct FrontDoorSettings {
    /// IPv6 clients are counted by the network of this many leading bits (one subscriber
    /// usually has a whole /64), by the throttle and by the per-client shares below.
    #[arg(long, env = "FACEGATE_IPV6_PREFIX_LEN", default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(16..=128))]
    pub(crate) ipv6_prefix_len: u8,

    /// The most one client address (an IPv6 network, above) may hold of the login places, the
    /// registration places, the live sockets and the connections, in percent (at least one
    /// place). 100: no share. Applies while `throttle` is on.
    #[arg(long, env = "FACEGATE_CLIENT_SHARE_PERCENT", default_value_t = 25,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub(crate) client_share_percent: u8,

    /// Open connections at most; one more is answered 503 and closed at once. Keep it below the
    /// process's file descriptor limit (`ulimit -n`).
    #[arg(long, env = "FACEGATE_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: u32,

    /// Seconds a client may take to send a request's head (also how long a kept-alive
    /// connection may wait for its next request); past that the connection is closed.
    #[arg(long, env = "FACEGATE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub(crate) header_read_timeout_secs: u64,

    /// Slowest upload accepted for a face request's body, in bytes per second, averaged from the
    /// start of the body (a trickle cannot reset it); slower gets 408 and frees its place.
    #[arg(long, env = "FACEGATE_UPLOAD_MIN_BYTES_PER_SEC", default_value_t = 8192,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) upload_min_bytes_per_sec: u64,

    /// Seconds of an upload before its rate is judged (a slow start is fine).
    #[arg(long, env = "FACEGATE_UPLOAD_RATE_WINDOW_SECS", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub(crate) upload_rate_window_secs: u64,

    /// A live socket that sends no frame for this many seconds is closed, freeing its place.
    #[arg(long, env = "FACEGATE_LIVE_IDLE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub(crate) live_idle_secs: u64,

    /// Longest side of a live frame in pixels (the page sends 480), read from the picture's
    /// header before it is decoded; larger frames end the check.
    #[arg(long, env = "FACEGATE_LIVE_MAX_FRAME_SIDE", default_value_t = 640,
          value_parser = clap::value_parser!(u32).range(64..=4096))]
    pub(crate) live_max_frame_side: u32,

    /// Frames per second one live socket may send (the page sends at most 8); faster frames are
    /// dropped unanswered by the face engine, and a second's worth of them ends the check.
    #[arg(long, env = "FACEGATE_LIVE_MAX_FPS", default_value_t = 15,
          value_parser = clap::value_parser!(u32).range(1..=120))]
    pub(crate) live_max_fps: u32,
}

impl Default for FrontDoorSettings {
    fn default() -> Self {
        Self {
            ipv6_prefix_len: 64,
            client_share_percent: 25,
            max_connections: 1024,
            header_read_timeout_secs: 10,
            upload_min_bytes_per_sec: 8192,
            upload_rate_window_secs: 3,
            live_idle_secs: 5,
            live_max_frame_side: 640,
            live_max_fps: 15,
        }
    }
}

impl FrontDoorSettings {
    /// The key `ip` is counted under.
    pub fn client_key(&self, ip: IpAddr) -> ClientKey {
        ClientKey::of(ip, self.ipv6_prefix_len)
    }

    /// How many of `places` one client may hold: the configured percentage, at least one.
    pub fn share_of(&self, places: usize) -> usize {
        (places * usize::from(self.client_share_percent) / 100).max(1)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn live_idle(&self) -> Duration {
        Duration::from_secs(self.live_idle_secs)
    }
}

/// The HTTP settings from command-line style arguments, for unit tests.
#[cfg(test)]
pub(crate) fn http_settings(extra: &[&str]) -> super::HttpSettings {
    use clap::Parser;
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        http: super::HttpSettings,
    }
    Args::parse_from(std::iter::once("facegate").chain(extra.iter().copied())).http
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_is_a_percentage_of_the_places_and_at_least_one() {
        let settings = FrontDoorSettings::default();
        assert_eq!(settings.share_of(4), 1, "one of the four login places");
        assert_eq!(settings.share_of(2), 1);
        assert_eq!(settings.share_of(1), 1);
        assert_eq!(settings.share_of(8), 2, "two of eight live sockets");
        assert_eq!(settings.share_of(1024), 256);
        let whole = FrontDoorSettings {
            client_share_percent: 100,
            ..FrontDoorSettings::default()
        };
        assert_eq!(whole.share_of(4), 4);
    }
}
