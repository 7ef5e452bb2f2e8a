//! Who is asking, and over what: the client's address and whether it came over HTTPS, decided in
//! one place ([`ClientInfo::resolve`]) from the TCP peer and, only when that peer is a trusted
//! proxy, its `X-Forwarded-For` / `X-Forwarded-Proto`.

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderName, request::Parts},
    middleware::Next,
    response::Response,
};

use crate::config::Config;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// The client of a request. An axum extractor, and for server functions [`ClientInfo::current`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address: the TCP peer, or the right-most address in `X-Forwarded-For` that
    /// is not a trusted proxy when the peer is one.
    pub(crate) ip: IpAddr,
    /// The page was served over HTTPS: the public origin is https, `secure-cookies` is on, or a
    /// trusted proxy said so.
    pub(crate) https: bool,
}

/// Stands in for a peer address that axum did not record (a router served without
/// `into_make_service_with_connect_info`): never a trusted proxy, one shared throttle bucket.
const UNKNOWN_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl ClientInfo {
    /// The one place that decides who the client is.
    pub fn resolve(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> Self {
        let peer = peer.map_or(UNKNOWN_PEER, |ip| ip.to_canonical());
        let proxies = &config.http.trusted_proxies;
        if !proxies.contains(peer) {
            return Self {
                ip: peer,
                https: configured_https(config),
            };
        }
        // Walk the hops from the right: each was appended by the proxy after it, so the first
        // one that is not a trusted proxy is the client. Anything left of it is the client's say.
        let mut client = peer;
        for hop in forwarded_for_hops(headers).rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !proxies.contains(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        Self {
            ip: client,
            https: configured_https(config) || forwarded_https(headers),
        }
    }

    fn from_parts(config: &Config, parts: &Parts) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Self::resolve(config, peer, &parts.headers)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo
where
    Arc<Config>: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<Self>() {
            Some(client) => *client,
            None => Self::from_parts(&Arc::<Config>::from_ref(state), parts),
        })
    }
}

/// `cookie_secure` for code that only has the request headers. Correct behind
/// [`attach_client_info`], which removes forwarding headers that an untrusted peer sent.
pub fn cookie_secure_from_headers(config: &Config, headers: &HeaderMap) -> bool {
    configured_https(config) || forwarded_https(headers)
}

/// HTTPS by configuration, whatever the request says.
pub fn configured_https(config: &Config) -> bool {
    config.secure_cookies || config.http.public_origin_is_https()
}

/// Middleware: resolves the [`ClientInfo`] once and stores it in the request's extensions (where
/// handlers, server functions and the other middleware read it). Forwarding headers from a peer
/// that is not a trusted proxy are removed, so nothing further in can be fooled by them.
pub async fn attach_client_info(
    State(config): State<Arc<Config>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let client = ClientInfo::resolve(&config, peer, request.headers());
    let trusted = peer.is_some_and(|ip| config.http.trusted_proxies.contains(ip.to_canonical()));
    if !trusted {
        let headers = request.headers_mut();
        for name in [X_FORWARDED_FOR, X_FORWARDED_PROTO, FORWARDED] {
            headers.remove(name);
        }
    }
    request.extensions_mut().insert(client);
    next.run(request).await
}

fn forwarded_for_hops(headers: &HeaderMap) -> impl DoubleEndedIterator<Item = &str> {
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>()
        .into_iter()
}

/// One `X-Forwarded-For` entry: `ip`, `ip:port` or `[ipv6]:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .map(|ip| ip.to_canonical())
}

/// The nearest proxy's `X-Forwarded-Proto` (the last value) says `https`.
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get_all(X_FORWARDED_PROTO)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .last()
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["facegate"];
        all.extend_from_slice(args);
        Config::parse_with_file(None, all).expect("config")
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address_or_scheme() {
        let config = config(&["--trusted-proxies", "10.0.0.0/8"]);
        let forged = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-proto", "https")]);
        let client = ClientInfo::resolve(&config, Some(ip("198.51.100.7")), &forged);
        assert_eq!(
            client,
            ClientInfo {
                ip: ip("198.51.100.7"),
                https: false
            }
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_right_most_untrusted_hop() {
        let config = config(&["--trusted-proxies", "10.0.0.0/8"]);
        // The client put 1.2.3.4 there itself; 203.0.113.9 is what the outer proxy saw.
        let chain = headers(&[
            ("x-forwarded-for", "1.2.3.4, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = ClientInfo::resolve(&config, Some(ip("10.0.0.1")), &chain);
        assert_eq!(
            client,
            ClientInfo {
                ip: ip("203.0.113.9"),
                https: true
            }
        );
        // No header: the proxy itself. Garbage: the last address a trusted proxy wrote.
        let none = ClientInfo::resolve(&config, Some(ip("10.0.0.1")), &HeaderMap::new());
        assert_eq!(none.ip, ip("10.0.0.1"));
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, nonsense, 10.0.0.3")]);
        let client = ClientInfo::resolve(&config, Some(ip("10.0.0.1")), &garbage);
        assert_eq!(client.ip, ip("10.0.0.3"));
        let ported = headers(&[("x-forwarded-for", "[2001:db8::1]:4711")]);
        let client = ClientInfo::resolve(&config, Some(ip("10.0.0.1")), &ported);
        assert_eq!(client.ip, ip("2001:db8::1"));
    }

    #[test]
    fn https_by_configuration() {
        let by_origin = config(&["--public-origin", "https://face.example.org"]);
        assert!(ClientInfo::resolve(&by_origin, Some(ip("127.0.0.1")), &HeaderMap::new()).https);
        let by_cookies = config(&["--secure-cookies", "true"]);
        assert!(ClientInfo::resolve(&by_cookies, None, &HeaderMap::new()).https);
        let plain = config(&["--public-origin", "http://face.example.org"]);
        assert!(!ClientInfo::resolve(&plain, None, &HeaderMap::new()).https);
    }
}
