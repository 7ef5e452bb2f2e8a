//! The key a client is counted under by the throttle and the per-address shares: its IPv4
//! address, or the IPv6 network it is in. One IPv6 subscriber usually gets a whole /64 (2^64
//! addresses), so keying on the full address would give one person 2^64 budgets.

use std::{
    fmt,
    net::{IpAddr, Ipv6Addr},
};

/// A client address as counted: IPv4 as is, IPv6 cut to its first `prefix` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey {
    network: IpAddr,
    prefix: u8,
}

impl ClientKey {
    /// The key of `ip` with IPv6 addresses grouped by their first `ipv6_prefix` bits (0-128).
    /// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
    pub fn of(ip: IpAddr, ipv6_prefix: u8) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self {
                network: IpAddr::V4(v4),
                prefix: 32,
            },
            IpAddr::V6(v6) => {
                let prefix = ipv6_prefix.min(128);
                let bits = u128::from(v6) & mask(prefix);
                Self {
                    network: IpAddr::V6(Ipv6Addr::from(bits)),
                    prefix,
                }
            }
        }
    }
}

/// The top `prefix` bits set.
fn mask(prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => u128::MAX << (128 - u32::from(p.min(128))),
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.network {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/{}", self.prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str, prefix: u8) -> ClientKey {
        ClientKey::of(ip.parse().expect("ip"), prefix)
    }

    #[test]
    fn ipv6_addresses_in_one_slash_64_share_a_key() {
        let a = key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64);
        let b = key("2001:db8:1:2::1", 64);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        // The next /64 is another client.
        assert_ne!(a, key("2001:db8:1:3::1", 64));
        // Another prefix length groups differently.
        assert_eq!(key("2001:db8:1:2::1", 48), key("2001:db8:1:ffff::1", 48));
        assert_ne!(key("2001:db8:1:2::1", 56), key("2001:db8:1:ff02::1", 56));
        assert_eq!(key("2001:db8:1:200::1", 56), key("2001:db8:1:2ff::1", 56));
    }

    #[test]
    fn prefix_edges() {
        assert_ne!(key("2001:db8::1", 128), key("2001:db8::2", 128));
        assert_eq!(key("2001:db8::1", 128).to_string(), "2001:db8::1/128");
        assert_eq!(key("2001:db8::1", 0), key("fe80::1", 0));
        assert_eq!(mask(64), 0xffff_ffff_ffff_ffff_0000_0000_0000_0000);
        assert_eq!(mask(1), 1 << 127);
        assert_eq!(mask(128), u128::MAX);
        // Out-of-range prefixes are read as 128.
        assert_eq!(key("2001:db8::1", 200), key("2001:db8::1", 128));
    }

    #[test]
    fn ipv4_is_kept_whole_and_mapped_addresses_are_ipv4() {
        assert_ne!(key("192.0.2.1", 64), key("192.0.2.2", 64));
        assert_eq!(key("::ffff:192.0.2.1", 64), key("192.0.2.1", 64));
        assert_eq!(key("192.0.2.1", 64).to_string(), "192.0.2.1");
    }
}
