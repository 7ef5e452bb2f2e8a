//! `facegate clients add|list|remove|hash-secret` and `facegate keys signing new|rotate|retire`.

use super::{
    clients::{self, Client, ClientsFile, MIN_SECRET_LEN},
    keys,
};
use crate::config::{
    Config,
    commands::{ClientsCommand, SigningKeysCommand},
};

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
