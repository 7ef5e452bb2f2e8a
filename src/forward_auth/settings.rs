//! Settings of forward auth: which domains it serves and which headers carry who is signed in.
//! Flattened into [`crate::config::Config`].

use std::{fmt, str::FromStr};

use axum::http::HeaderName;

use crate::http::settings::HttpSettings;

#[derive(clap::Args, Debug, Clone)]
pub struct ForwardAuthSettings {
    /// Comma-separated domains whose applications facegate guards through a reverse proxy's
    /// forward auth, e.g. `example.org` (the domain and its subdomains). A login may return to
    /// an https page there, and the forward-auth cookie is set for that domain. facegate's own
    /// `public-origin` must be inside one of them. Empty: forward auth is off.
    #[arg(long, env = "FACEGATE_FORWARD_AUTH_DOMAINS", default_value = "")]
    pub(crate) forward_auth_domains: ForwardDomains,

    /// Header that tells the application the signed-in user's name.
    #[arg(
        long,
        env = "FACEGATE_FORWARD_AUTH_USER_HEADER",
        default_value = "Remote-User"
    )]
    pub(crate) forward_auth_user_header: HeaderName,

    /// Header that carries the signed-in user's email address.
    #[arg(
        long,
        env = "FACEGATE_FORWARD_AUTH_EMAIL_HEADER",
        default_value = "Remote-Email"
    )]
    pub(crate) forward_auth_email_header: HeaderName,

    /// Header that carries the name to display (facegate's username).
    #[arg(
        long,
        env = "FACEGATE_FORWARD_AUTH_NAME_HEADER",
        default_value = "Remote-Name"
    )]
    pub(crate) forward_auth_name_header: HeaderName,
}

impl ForwardAuthSettings {
    /// Forward auth hands out a cookie for a parent domain over HTTPS and sends people to the
    /// public origin's login: both must be configured and fit together.
    pub fn validate(&self, http: &HttpSettings) -> Result<(), String> {
        if self.forward_auth_domains.is_empty() {
            return Ok(());
        }
        let Some(origin) = &http.public_origin else {
            return Err(
                "forward-auth-domains needs public-origin (the https address of facegate itself)".into(),
            );
        };
        if !origin.is_https() {
            return Err(format!(
                "forward-auth-domains needs an https public-origin (its cookie is Secure), not {origin}"
            ));
        }
        let host = url::Url::parse(origin.as_str())
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_default();
        if self.forward_auth_domains.covering(&host).is_none() {
            return Err(format!(
                "public-origin {origin} is not inside any of forward-auth-domains ({}): facegate could not set the forward-auth cookie for them",
                self.forward_auth_domains
            ));
        }
        let names = [
            &self.forward_auth_user_header,
            &self.forward_auth_email_header,
            &self.forward_auth_name_header,
        ];
        if names[0] == names[1] || names[0] == names[2] || names[1] == names[2] {
            return Err("the three forward-auth headers need three different names".into());
        }
        Ok(())
    }
}

/// Lower-case ASCII (IDNA) domain names, from one comma-separated string ("" = none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardDomains(Vec<String>);

impl ForwardDomains {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The configured domain that `host` is, or is a subdomain of (the longest, should several
    /// nest). `host` as the `url` crate serialises it: lower-case, IDNA.
    pub fn covering(&self, host: &str) -> Option<&str> {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.0
            .iter()
            .filter(|domain| {
                host == domain.as_str()
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            })
            .max_by_key(|domain| domain.len())
            .map(String::as_str)
    }
}

impl FromStr for ForwardDomains {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let bad = || format!("`{item}` is not a domain name (e.g. example.org)");
                match url::Host::parse(item.trim_start_matches('.')).map_err(|_| bad())? {
                    url::Host::Domain(domain) if domain.contains('.') => Ok(domain),
                    _ => Err(bad()),
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for ForwardDomains {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_and_cover_their_subdomains() {
        let domains: ForwardDomains = "Example.Test, .apps.example.org".parse().expect("valid");
        assert_eq!(domains.to_string(), "example.test,apps.example.org");
        assert_eq!(domains.covering("example.test"), Some("example.test"));
        assert_eq!(domains.covering("a.b.example.test"), Some("example.test"));
        assert_eq!(domains.covering("x.apps.example.org"), Some("apps.example.org"));
        for outside in ["badexample.test", "example.test.evil", "example.org", "test"] {
            assert_eq!(domains.covering(outside), None, "{outside}");
        }
        for bad in ["10.0.0.1", "exa mple.org", "com", "https://example.org"] {
            assert!(bad.parse::<ForwardDomains>().is_err(), "{bad}");
        }
        assert!("".parse::<ForwardDomains>().expect("empty").is_empty());
    }

    #[test]
    fn forward_auth_needs_an_https_public_origin_inside_its_domains() {
        let check = |args: &[&str]| {
            let mut all = vec!["facegate", "--forward-auth-domains", "example.org"];
            all.extend_from_slice(args);
            let config = crate::config::Config::parse_with_file(None, all).expect("config");
            config.forward_auth.validate(&config.http)
        };
        assert!(check(&["--public-origin", "https://face.example.org"]).is_ok());
        assert!(check(&["--public-origin", "https://example.org"]).is_ok());
        for refused in [
            &[][..],
            &["--public-origin", "http://face.example.org"][..],
            &["--public-origin", "https://face.example.net"][..],
            &[
                "--public-origin",
                "https://face.example.org",
                "--forward-auth-email-header",
                "Remote-User",
            ][..],
        ] {
            assert!(check(refused).is_err(), "{refused:?}");
        }
    }
}
