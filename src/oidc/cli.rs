//! `facegate clients add|list|remove|hash-secret` and `facegate keys signing new|rotate|retire`.

use std::path::PathBuf;

use super::{
    clients::{self, Client, ClientsFile, MIN_SECRET_LEN},
    keys,
};
use crate::config::Config;

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum ClientsCommand {
    /// Register a client in the clients file (oidc-clients-file). Prints a generated secret once.
    Add {
        /// The client_id
        id: String,
        /// Name shown on the consent page [default: the id]
        #[arg(long)]
        name: Option<String>,
        /// An allowed redirect URI, matched exactly (repeat for several)
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// An allowed post-logout redirect URI, matched exactly (repeat for several)
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE S256 required)
        #[arg(long, conflicts_with = "secret_env")]
        public: bool,
        /// Take the secret from this environment variable instead of generating one
        #[arg(long)]
        secret_env: Option<String>,
        /// Allowed scopes, space-separated
        #[arg(long, default_value = "openid profile email")]
        scopes: String,
        /// Issue refresh tokens to this client
        #[arg(long)]
        refresh_tokens: bool,
        /// A different `sub` for this client (pairwise)
        #[arg(long)]
        pairwise_subject: bool,
    },
    /// List the registered clients (no secrets).
    List,
    /// Remove a client.
    Remove { id: String },
    /// Read a secret from standard input, print its Argon2id hash (for writing the file by hand).
    HashSecret,
}

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum SigningKeysCommand {
    /// Create the signing key file (oidc-key-file) with one new key. Never overwrites.
    New {
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Put a new key in front; the old one stays published (JWKS) and accepted until `retire`.
    Rotate,
    /// Remove every key but the active one: tokens they signed stop being accepted.
    Retire,
}

pub fn run_clients(config: &Config, command: &ClientsCommand) -> Result<String, String> {
    let path = &config.oidc.oidc_clients_file;
    let mut file = ClientsFile::load(path)?;
    match command {
        ClientsCommand::Add {
            id,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            secret_env,
            scopes,
            refresh_tokens,
            pairwise_subject,
        } => {
            if file.get(id).is_some() {
                return Err(format!(
                    "client `{id}` exists already; `facegate clients remove {id}` first"
                ));
            }
            let (secret, shown) = match (public, secret_env) {
                (true, _) => (None, None),
                (false, Some(var)) => {
                    let secret =
                        std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?;
                    (Some(secret), None)
                }
                (false, None) => {
                    let secret = super::random_token();
                    (Some(secret.clone()), Some(secret))
                }
            };
            if secret.as_ref().is_some_and(|s| s.len() < MIN_SECRET_LEN) {
                return Err(format!("the secret must be at least {MIN_SECRET_LEN} characters"));
            }
            let secret_hash = secret.as_deref().map(clients::hash_secret).transpose()?;
            file.clients.push(Client {
                id: id.clone(),
                name: name.clone(),
                secret_hash,
                redirect_uris: redirect_uris.clone(),
                post_logout_redirect_uris: post_logout_redirect_uris.clone(),
                scopes: scopes.split_whitespace().map(str::to_string).collect(),
                refresh_tokens: *refresh_tokens,
                pairwise_subject: *pairwise_subject,
            });
            file.save(path)?;
            let kind = if *public {
                "public client"
            } else {
                "confidential client"
            };
            Ok(match shown {
                Some(secret) => format!(
                    "added {kind} `{id}` to {}\nclient secret (shown once, only its hash is kept): {secret}",
                    path.display()
                ),
                None => format!("added {kind} `{id}` to {}", path.display()),
            })
        }
        ClientsCommand::List => Ok(file
            .clients
            .iter()
            .map(|c| {
                format!(
                    "{}\t{}\t{}\tscopes: {}\trefresh tokens: {}\tredirect: {}",
                    c.id,
                    c.display_name(),
                    if c.is_public() { "public" } else { "confidential" },
                    c.scopes.join(" "),
                    if c.refresh_tokens { "yes" } else { "no" },
                    c.redirect_uris.join(" ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
        ClientsCommand::Remove { id } => {
            let before = file.clients.len();
            file.clients.retain(|c| c.id != *id);
            if file.clients.len() == before {
                return Err(format!("no client `{id}` in {}", path.display()));
            }
            file.save(path)?;
            Ok(format!("removed `{id}`"))
        }
        ClientsCommand::HashSecret => {
            let mut secret = String::new();
            std::io::stdin()
                .read_line(&mut secret)
                .map_err(|e| e.to_string())?;
            clients::hash_secret(secret.trim_end_matches(['\r', '\n']))
        }
    }
}

pub fn run_signing_keys(config: &Config, command: &SigningKeysCommand) -> Result<String, String> {
    let path = &config.oidc.oidc_key_file;
    match command {
        SigningKeysCommand::New { file } => {
            let path = file.as_ref().unwrap_or(path);
            let set = keys::KeySet::generate()?;
            keys::create(path, &set)?;
            Ok(format!(
                "created {} with signing key {} (mode 0600)",
                path.display(),
                set.active().id()
            ))
        }
        SigningKeysCommand::Rotate => {
            let set = keys::load(path)?.rotated()?;
            keys::replace(path, &set)?;
            Ok(format!(
                "new signing key {}; published and accepted: {}. Running servers pick it up within 5 s; `facegate keys signing retire` once the old tokens have expired",
                set.active().id(),
                set.ids().join(", ")
            ))
        }
        SigningKeysCommand::Retire => {
            let set = keys::load(path)?.without_previous();
            keys::replace(path, &set)?;
            Ok(format!("kept only signing key {}", set.active().id()))
        }
    }
}
