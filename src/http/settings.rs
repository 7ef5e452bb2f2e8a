//! Settings of the HTTP front door: the public origin, the proxies trusted to say who the client
//! is, the throttle and admission (with the per-client limits of [`super::front_door`]).
//! Flattened into [`crate::config::Config`].

use std::{fmt, net::IpAddr, str::FromStr};

use axum::http::uri::{Scheme, Uri};

#[derive(clap::Args, Debug, Clone)]
pub struct HttpSettings {
    /// The address people use, e.g. `https://face.example.org` (scheme and host, no path).
    /// State-changing requests must come from it; `https` also makes cookies `Secure`.
    /// Unset: the request's own origin (its Host header) is expected.
    #[arg(long, env = "FACEGATE_PUBLIC_ORIGIN")]
    pub(crate) public_origin: Option<PublicOrigin>,

    /// Comma-separated IPs or CIDRs of reverse proxies whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed, e.g. `127.0.0.1,10.0.0.0/8`. Empty: nobody's.
    #[arg(long, env = "FACEGATE_TRUSTED_PROXIES", default_value = "")]
    pub(crate) trusted_proxies: TrustedProxies,

    /// Throttle login, registration, live checks and second-factor codes per client address.
    #[arg(long, env = "FACEGATE_THROTTLE", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) throttle: bool,

    /// Login attempts per minute and client address, once the burst is spent.
    #[arg(long, env = "FACEGATE_THROTTLE_LOGIN_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_login_per_minute: u32,
    /// Login attempts a client address may make at once.
    #[arg(long, env = "FACEGATE_THROTTLE_LOGIN_BURST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_login_burst: u32,

    /// Registrations per minute and client address, once the burst is spent.
    #[arg(long, env = "FACEGATE_THROTTLE_REGISTER_PER_MINUTE", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_register_per_minute: u32,
    /// Registrations a client address may make at once.
    #[arg(long, env = "FACEGATE_THROTTLE_REGISTER_BURST", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_register_burst: u32,

    /// Live face checks (and clip challenges) started per minute and client address.
    #[arg(long, env = "FACEGATE_THROTTLE_LIVE_PER_MINUTE", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_live_per_minute: u32,
    /// Live face checks a client address may start at once.
    #[arg(long, env = "FACEGATE_THROTTLE_LIVE_BURST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_live_burst: u32,

    /// Second-factor (PIN) attempts per minute and client address, once the burst is spent.
    #[arg(long, env = "FACEGATE_THROTTLE_SECOND_FACTOR_PER_MINUTE", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_second_factor_per_minute: u32,
    /// Second-factor attempts a client address may make at once.
    #[arg(long, env = "FACEGATE_THROTTLE_SECOND_FACTOR_BURST", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) throttle_second_factor_burst: u32,

    /// Logins (and second-factor steps) handled at once by this instance, all clients together;
    /// one more gets 503 with `Retry-After` at once, before its upload is read. Unset: twice
    /// the face workers.
    #[arg(long, env = "FACEGATE_CONCURRENT_LOGINS", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) concurrent_logins: Option<u32>,
    /// Registrations handled at once. Kept apart from logins so that a wave of sign-ups cannot
    /// take the capacity logins need. Unset: half the face workers (at least one).
    #[arg(long, env = "FACEGATE_CONCURRENT_REGISTRATIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) concurrent_registrations: Option<u32>,
    /// Seconds a face request (login, registration, second factor) may take in all; past that
    /// it is abandoned with 503.
    #[arg(long, env = "FACEGATE_REQUEST_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) request_timeout_secs: u64,
    /// Seconds a face request's body may take to arrive in all, counted from its start (a client
    /// trickling its upload holds a place meant for someone else); past that 408.
    #[arg(long, env = "FACEGATE_BODY_READ_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) body_read_timeout_secs: u64,

    #[command(flatten)]
    pub(crate) front_door: super::front_door::FrontDoorSettings,
}

impl HttpSettings {
    /// True when the configured public origin is `https`.
    pub(crate) fn public_origin_is_https(&self) -> bool {
        self.public_origin.as_ref().is_some_and(PublicOrigin::is_https)
    }
}

/// `scheme://host[:port]`, lower-case, without a default port: the form browsers send in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicOrigin(String);

impl PublicOrigin {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// Normalises `scheme://authority` the way browsers serialise an origin; `None` when it is
    /// not one (a path, user info, another scheme, no host).
    pub(crate) fn normalise(text: &str) -> Option<String> {
        let uri: Uri = text.trim().parse().ok()?;
        let scheme = uri.scheme()?;
        let default_port = if *scheme == Scheme::HTTPS {
            443
        } else if *scheme == Scheme::HTTP {
            80
        } else {
            return None;
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return None;
        }
        if uri
            .path_and_query()
            .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
        {
            return None;
        }
        let host = authority.host().to_ascii_lowercase();
        Some(match authority.port_u16() {
            Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
            _ => format!("{scheme}://{host}"),
        })
    }
}

impl FromStr for PublicOrigin {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // `Uri` accepts "https://host/" and "https://host" alike; a path is refused below.
        if text.trim().trim_end_matches('/').matches('/').count() > 2 {
            return Err(format!(
                "`{text}` has a path; give only scheme and host, e.g. https://face.example.org"
            ));
        }
        Self::normalise(text.trim().trim_end_matches('/'))
            .map(Self)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not an http(s) origin; give scheme and host, e.g. https://face.example.org"
                )
            })
    }
}

impl fmt::Display for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IP address or a CIDR block, e.g. `10.0.0.0/8` or `::1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNetwork {
    base: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip.to_canonical()) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                prefix_matches(u32::from(base).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => prefix_matches(base.into(), ip.into(), self.prefix, 128),
            _ => false,
        }
    }
}

fn prefix_matches(base: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (base >> shift) == (ip >> shift)
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = || format!("`{text}` is not an IP address or CIDR block (e.g. 10.0.0.0/8)");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let base = address.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let bits = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return Err(bad());
        }
        Ok(Self { base, prefix })
    }
}

/// The trusted proxies, parsed from one comma-separated string ("" = none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(IpNetwork::from_str)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_origins_are_normalised_and_checked() {
        let origin = |text: &str| text.parse::<PublicOrigin>().map(|o| o.to_string());
        assert_eq!(
            origin("https://Face.Example.org"),
            Ok("https://face.example.org".into())
        );
        assert_eq!(
            origin("https://face.example.org:443/"),
            Ok("https://face.example.org".into())
        );
        assert_eq!(
            origin("http://127.0.0.1:3000"),
            Ok("http://127.0.0.1:3000".into())
        );
        for bad in [
            "face.example.org",
            "ftp://face.example.org",
            "https://face.example.org/app",
            "https://u@h.org",
            "",
        ] {
            assert!(origin(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn trusted_proxies_match_addresses_and_blocks() {
        let proxies: TrustedProxies = "127.0.0.1, 10.0.0.0/8,fd00::/8".parse().expect("valid");
        for trusted in ["127.0.0.1", "10.1.2.3", "fd12::1", "::ffff:10.0.0.1"] {
            assert!(proxies.contains(trusted.parse().expect("ip")), "{trusted}");
        }
        for untrusted in ["127.0.0.2", "11.0.0.1", "fe80::1", "::1"] {
            assert!(!proxies.contains(untrusted.parse().expect("ip")), "{untrusted}");
        }
        assert!("".parse::<TrustedProxies>().expect("empty").is_empty());
        assert!(
            "0.0.0.0/0"
                .parse::<TrustedProxies>()
                .expect("all")
                .contains("8.8.8.8".parse().expect("ip"))
        );
        for bad in ["10.0.0.0/33", "example.org", "10.0.0.1/x"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }
}
