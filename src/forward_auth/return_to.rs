//! Where a login may send the browser afterwards (`/login?return_to=…`), decided here and nowhere
//! else, so that facegate never becomes an open redirect. Two shapes are accepted:
//!
//! - a local path of facegate itself (`/oauth2/authorize?…`): starts with one `/`, never `//`,
//!   no backslash, no control character or space (browsers drop tabs and newlines from URLs, so
//!   `/\t/evil.example` would become `//evil.example`), and the same again once percent-decoded;
//! - an absolute `https` URL whose host is one of the forward-auth domains or a subdomain of one,
//!   with no user info. Parsed with the WHATWG URL rules browsers use (the `url` crate), so
//!   `https://evil.example#@example.test` is the host `evil.example`, as the browser would see it.
//!
//! Anything else is ignored: the login ends on the welcome page as without `return_to`.

use url::Url;

use super::settings::ForwardDomains;

/// The longest `return_to` considered; a real one is a URL of a page, not a payload.
const RETURN_TO_MAX: usize = 4096;

/// A checked return address, in the normalised form the browser will be sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReturnTo {
    /// A path (with query) on facegate itself.
    Local(String),
    /// A page of an application behind forward auth.
    Forward(Url),
}

impl ReturnTo {
    /// Checks `raw` (as received, already percent-decoded once by the query parser).
    pub(crate) fn check(raw: &str, domains: &ForwardDomains) -> Option<Self> {
        if raw.is_empty() || raw.len() > RETURN_TO_MAX {
            return None;
        }
        if raw.starts_with('/') {
            return local_path(raw).map(Self::Local);
        }
        forward_url(raw, domains).map(Self::Forward)
    }

    /// Where the login page navigates once signed in. An application's page goes through
    /// [`super::ENTER_PATH`] first, which hands the browser its forward-auth cookie.
    pub(crate) fn destination(&self) -> String {
        match self {
            Self::Local(path) => path.clone(),
            Self::Forward(url) => enter_path(url),
        }
    }
}

/// `/api/forward-auth/enter?return_to=<url>`.
pub(crate) fn enter_path(url: &Url) -> String {
    format!("{}?return_to={}", super::ENTER_PATH, encode(url.as_str()))
}

/// Percent-encodes a query parameter's value.
pub(crate) fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn local_path(raw: &str) -> Option<String> {
    let decoded: String = percent_decode(raw)?;
    for text in [raw, decoded.as_str()] {
        let bad_char = text
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
        if !text.starts_with('/') || text.starts_with("//") || bad_char {
            return None;
        }
    }
    // Resolved the way a browser would against facegate's own origin: it must stay there.
    let base = Url::parse("https://facegate.invalid/").ok()?;
    let resolved = base.join(raw).ok()?;
    if resolved.origin() != base.origin() || resolved.fragment().is_some() {
        return None;
    }
    let mut path = resolved.path().to_string();
    if let Some(query) = resolved.query() {
        path.push('?');
        path.push_str(query);
    }
    Some(path)
}

fn forward_url(raw: &str, domains: &ForwardDomains) -> Option<Url> {
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let url::Host::Domain(host) = url.host()? else {
        return None; // an IP address is nobody's subdomain
    };
    domains.covering(host)?;
    Some(url)
}

/// Decodes `%XX` escapes (bytes that are not UTF-8 become U+FFFD).
fn percent_decode(text: &str) -> Option<String> {
    // `+` and `&` would otherwise be read as a space and a separator.
    let escaped = text.replace('+', "%2B").replace('&', "%26");
    url::form_urlencoded::parse(format!("x={escaped}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> ForwardDomains {
        "example.test".parse().expect("domains")
    }

    fn check(raw: &str) -> Option<ReturnTo> {
        ReturnTo::check(raw, &domains())
    }

    #[test]
    fn local_paths_of_facegate_are_kept() {
        assert_eq!(
            check("/oauth2/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx"),
            Some(ReturnTo::Local(
                "/oauth2/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx".into()
            ))
        );
        assert_eq!(check("/welcome"), Some(ReturnTo::Local("/welcome".into())));
        // Dot segments are resolved as the browser would: still facegate.
        assert_eq!(check("/a/../welcome"), Some(ReturnTo::Local("/welcome".into())));
    }

    #[test]
    fn pages_of_the_forward_auth_domains_are_kept() {
        for good in [
            "https://example.test/",
            "https://app.example.test/private?x=1",
            "https://a.b.example.test:8443/p",
            "https://APP.Example.Test/",
        ] {
            let Some(ReturnTo::Forward(url)) = check(good) else {
                panic!("{good} must be accepted");
            };
            assert!(
                url.host_str().is_some_and(|h| h.ends_with("example.test")),
                "{url}"
            );
        }
        let checked = check("https://app.example.test/p?q=1").expect("accepted");
        assert_eq!(
            checked.destination(),
            "/api/forward-auth/enter?return_to=https%3A%2F%2Fapp.example.test%2Fp%3Fq%3D1"
        );
    }

    #[test]
    fn open_redirect_tricks_are_ignored() {
        for evil in [
            // Scheme-relative and backslash forms browsers treat as another host.
            "//evil.example",
            "//evil.example/welcome",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " /evil",
            "///evil.example",
            // Percent-encoded slashes and backslashes.
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            // Other hosts that look like the allowed one.
            "https://example.test.evil.example/",
            "https://evilexample.test/",
            "https://evil.example#@example.test",
            "https://evil.example?@example.test",
            "https://evil.example\\@example.test",
            "https:/\\evil.example",
            "https:evil.example",
            // User info, even before an allowed host.
            "https://example.test@evil.example/",
            "https://user:pass@app.example.test/",
            "https://evil.example%2F@example.test/",
            "https://evil.example%40example.test/",
            // Other schemes and plain http.
            "http://app.example.test/",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)//example.test",
            "data:text/html,hi",
            "ftp://app.example.test/",
            // IP addresses and no host.
            "https://127.0.0.1/",
            "https://[::1]/",
            // Nothing, or too much.
            "",
            "welcome",
        ] {
            assert_eq!(check(evil), None, "{evil:?} must be ignored");
        }
        assert_eq!(check(&format!("/{}", "a".repeat(RETURN_TO_MAX))), None);
    }

    #[test]
    fn no_forward_auth_domains_means_local_paths_only() {
        let none = ForwardDomains::default();
        assert_eq!(ReturnTo::check("https://app.example.test/", &none), None);
        assert!(ReturnTo::check("/welcome", &none).is_some());
    }
}
