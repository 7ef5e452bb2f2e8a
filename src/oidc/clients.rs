//! Relying parties registered by the operator, in the clients file (`oidc-clients-file`):
//! a TOML list of `[[clients]]`. No dynamic registration.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

use super::watched::Watched;

pub const SETTING: &str = "oidc-clients-file / FACEGATE_OIDC_CLIENTS_FILE";
/// The scopes facegate knows.
pub(crate) const SCOPES: [&str; 3] = ["openid", "profile", "email"];
/// Shortest secret `clients add` accepts.
pub const MIN_SECRET_LEN: usize = 16;

fn default_scopes() -> Vec<String> {
    SCOPES.iter().map(|s| s.to_string()).collect()
}

/// One registered client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Client {
    pub id: String,
    /// Shown on the consent page; the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Argon2id PHC string of the client secret; none for a public client (PKCE required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    /// Compared exactly, as strings.
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// What the client may ask for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub refresh_tokens: bool,
    /// `sub` differs per client (and cannot be linked across clients without facegate's salt).
    #[serde(default)]
    pub pairwise_subject: bool,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub(crate) fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// Exact string match: no prefix, no wildcard, no normalisation (RFC 9700 §4.1.3).
    pub(crate) fn redirect_uri_allowed(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri)
    }

    pub fn post_logout_uri_allowed(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !id_ok {
            return Err(format!(
                "client id `{}`: 1-64 characters of A-Z a-z 0-9 . _ -",
                self.id
            ));
        }
        if self.redirect_uris.is_empty() {
            return Err(format!("client `{}` has no redirect URI", self.id));
        }
        for uri in self.redirect_uris.iter().chain(&self.post_logout_redirect_uris) {
            check_redirect_uri(uri).map_err(|e| format!("client `{}`: {e}", self.id))?;
        }
        if let Some(scope) = self.scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return Err(format!(
                "client `{}`: unknown scope `{scope}` (known: openid profile email)",
                self.id
            ));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(format!("client `{}`: its scopes must include openid", self.id));
        }
        if let Some(hash) = &self.secret_hash {
            argon2::PasswordHash::new(hash)
                .map_err(|e| format!("client `{}`: secret-hash is not a PHC string: {e}", self.id))?;
        }
        Ok(())
    }
}

/// A redirect URI must be absolute http(s) without a fragment (RFC 6749 §3.1.2).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(uri).map_err(|e| format!("redirect URI `{uri}` is not an absolute URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("redirect URI `{uri}` must be http or https"));
    }
    if parsed.fragment().is_some() {
        return Err(format!("redirect URI `{uri}` must not have a #fragment"));
    }
    Ok(())
}

/// The file: `[[clients]]` tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsFile {
    #[serde(default)]
    pub clients: Vec<Client>,
}

impl ClientsFile {
    /// Reads and checks the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(format!(
                    "cannot read the clients file {}: {e} ({SETTING})",
                    path.display()
                ));
            }
        };
        let file: Self = toml::from_str(&text).map_err(|e| {
            format!(
                "the clients file {} is malformed: {e} ({SETTING})",
                path.display()
            )
        })?;
        file.validate()
            .map_err(|e| format!("the clients file {}: {e}", path.display()))?;
        Ok(file)
    }

    pub fn validate(&self) -> Result<(), String> {
        for (n, client) in self.clients.iter().enumerate() {
            client.validate()?;
            if self.clients[..n].iter().any(|c| c.id == client.id) {
                return Err(format!("client id `{}` appears twice", client.id));
            }
        }
        Ok(())
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Writes the file atomically, mode 0600 (it holds secret hashes).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        self.validate()?;
        let text = toml::to_string_pretty(self).map_err(|e| format!("encoding the clients file: {e}"))?;
        let text = format!(
            "# facegate's OpenID Connect clients (docs/oidc.md); `facegate clients` edits it.\n{text}"
        );
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let temporary: PathBuf = path.with_file_name(format!(".oidc-clients.new-{}", std::process::id()));
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        let _ = std::fs::remove_file(&temporary);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(fail)?;
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&temporary, path).map_err(fail)
    }
}

/// Hashes a client secret like a PIN (Argon2id, OWASP parameters, random salt).
pub fn hash_secret(secret: &str) -> Result<String, String> {
    use argon2::{
        Argon2, PasswordHasher,
        password_hash::{SaltString, rand_core::OsRng},
    };
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the secret: {e}"))
}

/// Whether `secret` is the client's (blocking: Argon2id; run it off the async workers).
pub fn secret_matches(hash: &str, secret: &str) -> bool {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .is_ok()
    })
}

/// The clients of a running server: the file, re-read when it changes ([`super::watched`]).
#[derive(Clone)]
pub struct Clients(Arc<Watched<ClientsFile>>);

impl Clients {
    pub fn load(path: &Path) -> Result<Self, String> {
        let file = ClientsFile::load(path)?;
        Ok(Self(Arc::new(Watched::new(path, file, ClientsFile::load))))
    }

    pub fn file(&self) -> Arc<ClientsFile> {
        self.0.get()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Client> {
        self.file().get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            id: "app".into(),
            name: None,
            secret_hash: None,
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: default_scopes(),
            refresh_tokens: false,
            pairwise_subject: false,
        }
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let c = client();
        assert!(c.redirect_uri_allowed("https://app.example/cb"));
        for near in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://app.example/cb#x",
            "https://APP.example/cb",
            "https://app.example/c",
            "https://app.example/cb/../cb",
            "https://app.example.evil.org/cb",
            "http://app.example/cb",
            "https://app.example:443/cb",
        ] {
            assert!(!c.redirect_uri_allowed(near), "{near} must not match");
        }
    }

    #[test]
    fn bad_registrations_are_refused() {
        assert!(client().validate().is_ok());
        let mut c = client();
        c.redirect_uris = vec!["https://app.example/cb#frag".into()];
        assert!(c.validate().is_err());
        let mut c = client();
        c.redirect_uris = vec!["javascript:alert(1)".into()];
        assert!(c.validate().is_err());
        let mut c = client();
        c.scopes = vec!["openid".into(), "admin".into()];
        assert!(c.validate().is_err());
        let mut c = client();
        c.id = "has space".into();
        assert!(c.validate().is_err());
        let twice = ClientsFile {
            clients: vec![client(), client()],
        };
        assert!(twice.validate().is_err());
    }

    #[test]
    fn the_file_round_trips_and_secrets_verify() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("clients.toml");
        assert_eq!(
            ClientsFile::load(&path).expect("missing is empty"),
            ClientsFile::default()
        );
        let mut c = client();
        c.secret_hash = Some(hash_secret("correct horse battery").expect("hash"));
        let file = ClientsFile { clients: vec![c] };
        file.save(&path).expect("save");
        assert_eq!(ClientsFile::load(&path).expect("load"), file);
        let hash = file.clients[0].secret_hash.as_deref().expect("hash");
        assert!(secret_matches(hash, "correct horse battery"));
        assert!(!secret_matches(hash, "correct horse batterx"));
    }
}
