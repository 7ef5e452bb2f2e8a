//! `facegate keys …`: create a key file, rotate the key (face templates and PIN hashes) while
//! servers keep running, seal the plain records of older versions.

use std::{collections::HashSet, time::Duration};

use super::{
    TemplateCipher, TemplateKey,
    keyring::{self, KeyRing, SETTING},
    stored,
};
use crate::{
    config::{Config, commands::KeysCommand},
    db::Db,
};

/// Runs a `keys` subcommand; the text is the summary for the operator.
pub async fn run(config: &Config, command: &KeysCommand) -> Result<String, String> {
    match command {
        KeysCommand::New { file } => {
            let path = file.as_ref().unwrap_or(&config.template_key_file);
            let ring = KeyRing::new(vec![TemplateKey::generate(&keyring::new_key_id(&[]))?])?;
            keyring::create(path, &ring).map_err(|e| e.to_string())?;
            Ok(format!(
                "created {} with key {} (mode 0600)",
                path.display(),
                ring.active().id()
            ))
        }
        KeysCommand::Rotate { settle_secs } => {
            let settle = settle_secs.map_or_else(
                || Duration::from_secs(2 * config.template_key_reload_secs + 1),
                Duration::from_secs,
            );
            let report = rotate(config, settle).await?;
            Ok(report.to_string())
        }
        KeysCommand::MigratePlain => migrate_plain(config).await,
        KeysCommand::Signing(command) => crate::oidc::cli::run_signing_keys(config, command),
    }
}

/// `facegate keys migrate-plain`: seals the plain records and names the users it sealed.
async fn migrate_plain(config: &Config) -> Result<String, String> {
    let cipher =
        TemplateCipher::load(&config.template_key_file).map_err(|e| format!("{e} (setting {SETTING})"))?;
    let db = Db::connect(&config.mongodb_uri, &config.database, config.db_connect_timeout())
        .await
        .map_err(|e| e.to_string())?;
    let report = stored::migrate_plain(&db, &cipher)
        .await
        .map_err(|e| e.to_string())?;
    let names = |users: &[(mongodb::bson::oid::ObjectId, String)]| {
        let named: Vec<String> = users.iter().map(|(id, name)| format!("{name} ({id})")).collect();
        list(&named)
    };
    Ok(format!(
        "sealed with key {}: face templates of {} user(s): {}; PIN hashes of {} user(s): {}; plain copies beside a sealed record removed: {}. Restart the running servers to load them.",
        cipher.active_key_id(),
        report.faces.len(),
        names(&report.faces),
        report.pins.len(),
        names(&report.pins),
        report.dropped
    ))
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateReport {
    pub(crate) new_key: String,
    pub(crate) resealed: usize,
    pub(crate) retired: Vec<String>,
    /// Old keys some record still uses (a write raced every pass): run rotate again.
    pub(crate) kept: Vec<String>,
}

impl std::fmt::Display for RotateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "new active key {}; re-encrypted {} user(s); removed key(s): {}",
            self.new_key,
            self.resealed,
            list(&self.retired)
        )?;
        if !self.kept.is_empty() {
            write!(
                f,
                "; still in use, kept: {} (run `facegate keys rotate` again)",
                list(&self.kept)
            )?;
        }
        Ok(())
    }
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

/// Passes over the collection before giving up on records that keep changing under us.
const MAX_PASSES: usize = 5;

/// The rotation procedure (docs/security.md, "Rotating the key"):
/// 1. check that every stored record opens with the current key file, else change nothing;
/// 2. write the key file with a new random key first (active), the old keys after it;
/// 3. wait `settle` so every running server has re-read the file and seals new registrations
///    with the new key (they check it every `template-key-reload-secs`);
/// 4. re-seal each record not under the new key, conditional on it being unchanged since read;
/// 5. rewrite the key file without the keys no record uses any more.
pub async fn rotate(config: &Config, settle: Duration) -> Result<RotateReport, String> {
    let path = &config.template_key_file;
    let key_file_error = |e: keyring::KeyFileError| format!("{e} (setting {SETTING})");
    let cipher = TemplateCipher::load(path).map_err(key_file_error)?;
    let db = Db::connect(&config.mongodb_uri, &config.database, config.db_connect_timeout())
        .await
        .map_err(|e| e.to_string())?;

    let users = stored::all(&db, &[stored::PIN_FIELD])
        .await
        .map_err(|e| format!("database: {e}"))?;
    let plain = stored::count_plain(&db)
        .await
        .map_err(|e| format!("database: {e}"))?;
    if plain > 0 {
        return Err(format!(
            "{plain} user(s) still have unencrypted face templates or PIN hashes from an older version: run `facegate keys migrate-plain` first, then rotate"
        ));
    }
    for user in &users {
        let cannot_open = |cause| {
            format!(
                "nothing changed: the sealed records of user {} cannot be opened with {} ({SETTING}): {cause}",
                user.id,
                path.display()
            )
        };
        if let Some(templates) = &user.templates {
            cipher.open(&user.id, templates).map_err(cannot_open)?;
        }
        if let Some(pin) = stored::sealed_pin(user) {
            cipher.open_pin(&user.id, &pin).map_err(cannot_open)?;
        }
    }

    let (ring, _) = keyring::load(path).map_err(key_file_error)?;
    let new_key = keyring::new_key_id(&ring.ids());
    let ring = ring.with_active(TemplateKey::generate(&new_key)?)?;
    keyring::replace(path, &ring).map_err(key_file_error)?;
    tracing::info!(
        new_key,
        "added the new key as the active key; waiting {settle:?} for running servers to reload the key file"
    );
    tokio::time::sleep(settle).await;

    let cipher = TemplateCipher::from_ring(ring);
    let ring = cipher.ring();
    let key = ring
        .get(&new_key)
        .ok_or_else(|| "the new key went missing".to_string())?;
    let mut resealed = 0;
    for pass in 1..=MAX_PASSES {
        let result = stored::reseal_pass(&db, &cipher, key)
            .await
            .map_err(|e| e.to_string())?;
        resealed += result.resealed;
        tracing::info!(
            pass,
            resealed = result.resealed,
            raced = result.raced,
            "re-encryption pass"
        );
        if result.raced == 0 {
            break;
        }
    }

    let in_use: HashSet<String> = stored::all(&db, &[stored::PIN_FIELD])
        .await
        .map_err(|e| format!("database: {e}"))?
        .into_iter()
        .flat_map(|u| {
            [
                stored::sealed_pin(&u).map(|p| p.key_id),
                u.templates.map(|t| t.key_id),
            ]
        })
        .flatten()
        .collect();
    // Re-read the file so an edit made meanwhile is kept; only unused keys leave it.
    let (ring, _) = keyring::load(path).map_err(key_file_error)?;
    let active = ring.active().id().to_string();
    let (kept, retired): (Vec<String>, Vec<String>) = ring
        .ids()
        .into_iter()
        .filter(|id| *id != active)
        .map(str::to_string)
        .partition(|id| in_use.contains(id));
    if !retired.is_empty() {
        let ring = ring.retain(|id| in_use.contains(id));
        keyring::replace(path, &ring).map_err(key_file_error)?;
    }
    Ok(RotateReport {
        new_key,
        resealed,
        retired,
        kept,
    })
}
