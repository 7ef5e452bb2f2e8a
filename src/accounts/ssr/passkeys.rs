//! Passkeys (WebAuthn), the second factor a signed-in person can add and then use instead of the
//! PIN. User verification is required (the authenticator's own PIN or biometric), so a passkey
//! is itself two factors; after the face it confirms who the face belongs to.
//!
//! The relying party is the public origin's host (`public-origin`); without one, `localhost` on
//! any port, for local use. Browsers refuse passkeys for an IP address.

use super::Accounts;
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::TryStreamExt;
use mongodb::bson::{DateTime, doc, oid::ObjectId};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{ClientMeta, LoginContext, SessionToken, SignedIn, audit, audit::Event};
use crate::db::changes::Change;
use crate::{
    accounts::{PasskeyInfo, SignedInUser},
    db::passkeys::PasskeyDoc,
    error::AppError,
    expiring::{Expiring, lock},
};

/// How long a started ceremony (add or sign in) waits for the browser's answer.
const CEREMONY_TTL: Duration = Duration::from_secs(300);
/// Ceremonies waiting at once for one account (or one login ticket's accounts): a new one
/// replaces the oldest, so retrying never locks the person out and nobody can pile them up.
pub(crate) const PENDING_PER_ACCOUNT: usize = 3;
/// Ceremonies waiting at once on this instance, all accounts together; past it, "busy".
const PENDING_MAX: usize = 10_000;

struct Pending<T> {
    user_ids: Vec<ObjectId>,
    state: T,
    expires_at: Instant,
}

/// The relying party and the ceremonies in progress (in memory, like login tickets).
#[derive(Clone)]
pub(crate) struct Passkeys {
    webauthn: Arc<Webauthn>,
    registrations: Arc<Mutex<Expiring<Pending<PasskeyRegistration>>>>,
    authentications: Arc<Mutex<Expiring<Pending<PasskeyAuthentication>>>>,
    /// Accounts with at least one passkey, so a login can offer one without a database read.
    owners: Arc<Mutex<HashSet<ObjectId>>>,
}

impl Passkeys {
    /// `origin`: the site's public origin, if configured.
    pub fn new(origin: Option<&Url>) -> Result<Self, String> {
        let local = Url::parse("http://localhost").map_err(|e| e.to_string())?;
        let (origin, any_port) = match origin {
            Some(origin) => (origin.clone(), false),
            None => (local, true),
        };
        let rp_id = origin
            .host_str()
            .ok_or_else(|| format!("the public origin {origin} has no host name"))?
            .to_string();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .map_err(|e| format!("passkeys cannot use {origin}: {e}"))?
            .rp_name("facegate")
            .allow_any_port(any_port)
            .build()
            .map_err(|e| format!("passkeys cannot use {origin}: {e}"))?;
        Ok(Self {
            webauthn: Arc::new(webauthn),
            registrations: Arc::default(),
            authentications: Arc::default(),
            owners: Arc::default(),
        })
    }

    /// Learns which accounts have passkeys (start-up: one read of the collection).
    pub async fn load_owners(&self, db: &crate::db::Db) -> mongodb::error::Result<()> {
        let owners = db.passkeys().distinct("user_id", doc! {}).await?;
        let mut set = lock(&self.owners);
        set.extend(owners.iter().filter_map(|id| id.as_object_id()));
        Ok(())
    }

    /// Whether any of these accounts has a passkey.
    pub(crate) fn any_owner(&self, user_ids: &[ObjectId]) -> bool {
        let owners = lock(&self.owners);
        user_ids.iter().any(|id| owners.contains(id))
    }

    pub(crate) fn add_owner(&self, user_id: ObjectId) {
        lock(&self.owners).insert(user_id);
    }

    pub(crate) fn forget_owner(&self, user_id: &ObjectId) {
        lock(&self.owners).remove(user_id);
    }
}

fn store<T>(
    map: &Mutex<Expiring<Pending<T>>>,
    user_ids: Vec<ObjectId>,
    state: T,
) -> Result<String, AppError> {
    let key = crate::expiring::random_token();
    let now = Instant::now();
    let mut map = lock(map);
    map.sweep(now, |p| p.expires_at > now);
    let mut same: Vec<(Instant, String)> = map
        .entries
        .iter()
        .filter(|(_, p)| p.user_ids == user_ids)
        .map(|(key, p)| (p.expires_at, key.clone()))
        .collect();
    same.sort();
    let surplus = (same.len() + 1).saturating_sub(PENDING_PER_ACCOUNT);
    for (_, oldest) in same.into_iter().take(surplus) {
        map.entries.remove(&oldest);
    }
    if map.entries.len() >= PENDING_MAX {
        return Err(AppError::Busy(
            "Too many passkey requests right now. Try again in a moment.".into(),
        ));
    }
    map.entries.insert(
        key.clone(),
        Pending {
            user_ids,
            state,
            expires_at: now + CEREMONY_TTL,
        },
    );
    Ok(key)
}

fn take<T>(map: &Mutex<Expiring<Pending<T>>>, key: &str) -> Result<Pending<T>, AppError> {
    match lock(map).entries.remove(key) {
        Some(pending) if pending.expires_at > Instant::now() => Ok(pending),
        _ => Err(AppError::Unauthorized(
            "This passkey request has expired. Start again.".into(),
        )),
    }
}

/// A passkey ceremony for the browser: the options to hand to `navigator.credentials`, and the
/// key that brings its answer back to this ceremony.
#[derive(serde::Serialize)]
pub(crate) struct Ceremony<T> {
    pub(crate) ceremony: String,
    pub(crate) options: T,
}

fn refused(what: &str, error: impl std::fmt::Display) -> AppError {
    tracing::info!(error = %error, "{what} refused");
    AppError::Unprocessable {
        code: "passkey_refused",
        message: format!("The passkey could not be {what}. Try again, or use your PIN."),
    }
}

/// WebAuthn's user handle: the account id, 12 bytes, in a UUID's 16.
fn user_handle(user_id: ObjectId) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[4..].copy_from_slice(&user_id.bytes());
    Uuid::from_bytes(bytes)
}

async fn passkeys_of(
    accounts: &Accounts,
    user_ids: &[ObjectId],
) -> Result<Vec<(PasskeyDoc, Passkey)>, AppError> {
    let docs: Vec<PasskeyDoc> = accounts
        .db
        .passkeys()
        .find(doc! { "user_id": { "$in": user_ids } })
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .into_iter()
        .filter_map(|d| match serde_json::from_str::<Passkey>(&d.credential) {
            Ok(passkey) => Some((d, passkey)),
            Err(e) => {
                tracing::error!(error = %e, passkey = %d.id, "a stored passkey cannot be read");
                None
            }
        })
        .collect())
}

/// How many passkeys the account has.
pub(crate) async fn count(accounts: &Accounts, user_id: ObjectId) -> Result<u64, AppError> {
    Ok(accounts
        .db
        .passkeys()
        .count_documents(doc! { "user_id": user_id })
        .await?)
}

/// A passkey is a way in that skips the PIN: adding one takes what a login takes at its
/// strongest, the face *and* the second factor. A session opened by the face alone
/// (`second-factor = off` or `ambiguous`, an account without a PIN) cannot add one.
fn require_second_factor_login(signed_in: &SignedIn) -> Result<(), AppError> {
    if signed_in.session.second_factor() {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "second_factor_needed",
        message: "Adding a passkey needs a login with your face and your PIN: log out, log in again with both, then add it within 5 minutes.".into(),
    })
}

/// Starts adding a passkey to the signed-in account (a face + PIN login under 5 minutes old: a
/// session left open, or a face alone, must not be enough to plant someone else's passkey).
pub(crate) async fn start_adding(
    accounts: &Accounts,
    signed_in: &SignedIn,
) -> Result<Ceremony<CreationChallengeResponse>, AppError> {
    super::require_fresh_login(signed_in)?;
    require_second_factor_login(signed_in)?;
    let existing = passkeys_of(accounts, &[signed_in.user_id]).await?;
    let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect();
    let name = &signed_in.user.username;
    let (options, registration) = accounts
        .passkeys
        .webauthn
        .start_passkey_registration(user_handle(signed_in.user_id), name, name, Some(exclude))
        .map_err(|e| AppError::Internal(format!("starting a passkey registration: {e}")))?;
    let ceremony = store(
        &accounts.passkeys.registrations,
        vec![signed_in.user_id],
        registration,
    )?;
    Ok(Ceremony { ceremony, options })
}

/// Stores the passkey the browser created for [`start_adding`]'s ceremony, under `name` (or
/// "Passkey added <date>").
pub(crate) async fn finish_adding(
    accounts: &Accounts,
    signed_in: &SignedIn,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: Option<&str>,
    client: &ClientMeta,
) -> Result<(), AppError> {
    let name = match name.map(str::trim) {
        Some(name) => valid_name(name)?,
        None => default_name(DateTime::now()),
    };
    let pending = take(&accounts.passkeys.registrations, ceremony)?;
    if pending.user_ids != [signed_in.user_id] {
        return Err(AppError::Unauthorized(
            "This passkey request belongs to another session.".into(),
        ));
    }
    let passkey = accounts
        .passkeys
        .webauthn
        .finish_passkey_registration(credential, &pending.state)
        .map_err(|e| refused("added", e))?;
    let stored = PasskeyDoc {
        id: ObjectId::new(),
        user_id: signed_in.user_id,
        credential: serde_json::to_string(&passkey)
            .map_err(|e| AppError::Internal(format!("serialising a passkey: {e}")))?,
        name,
        created_at: DateTime::now(),
        last_used_at: None,
    };
    accounts.db.passkeys().insert_one(&stored).await?;
    accounts.passkeys.add_owner(signed_in.user_id);
    accounts.changes.publish_in_background(Change::PasskeyAdded {
        user_id: signed_in.user_id,
    });
    audit::record(accounts, signed_in.user_id, Event::PasskeyAdded, None, client).await;
    Ok(())
}

/// Starts confirming a login ticket with a passkey of the account(s) the face matched.
pub(crate) async fn start_login(
    accounts: &Accounts,
    ticket: &str,
) -> Result<Ceremony<RequestChallengeResponse>, AppError> {
    let candidates = accounts.tickets.candidates(ticket.trim())?;
    let passkeys: Vec<Passkey> = passkeys_of(accounts, &candidates)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if passkeys.is_empty() {
        return Err(AppError::Unprocessable {
            code: "no_passkey",
            message:
                "This account has no passkey yet. Enter your PIN; you can add a passkey after logging in."
                    .into(),
        });
    }
    let (options, authentication) = accounts
        .passkeys
        .webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| AppError::Internal(format!("starting a passkey login: {e}")))?;
    let ceremony = store(&accounts.passkeys.authentications, candidates, authentication)?;
    // The ceremony carries the ticket's accounts; the ticket itself is used up here.
    accounts.tickets.take(ticket.trim())?;
    Ok(Ceremony { ceremony, options })
}

/// Signs in with the passkey assertion for [`start_login`]'s ceremony.
pub(crate) async fn finish_login(
    accounts: &Accounts,
    ceremony: &str,
    credential: &PublicKeyCredential,
    context: LoginContext,
) -> Result<(SignedInUser, SessionToken), AppError> {
    let pending = take(&accounts.passkeys.authentications, ceremony)?;
    let result = accounts
        .passkeys
        .webauthn
        .finish_passkey_authentication(credential, &pending.state)
        .map_err(|e| refused("verified", e))?;
    let stored = passkeys_of(accounts, &pending.user_ids).await?;
    let Some((mut doc, mut passkey)) = stored.into_iter().find(|(_, p)| p.cred_id() == result.cred_id())
    else {
        return Err(refused("verified", "no stored passkey has this credential id"));
    };
    // The signature counter moves on; a clone of the authenticator would show up as a step back,
    // which webauthn-rs refuses above.
    passkey.update_credential(&result);
    doc.credential = serde_json::to_string(&passkey)
        .map_err(|e| AppError::Internal(format!("serialising a passkey: {e}")))?;
    accounts
        .db
        .passkeys()
        .update_one(
            doc! { "_id": doc.id },
            doc! { "$set": { "credential": &doc.credential, "last_used_at": DateTime::now() } },
        )
        .await?;
    // Hardware key, and the user verified on it (required; recorded as the authenticator said).
    let amr: &[&str] = if result.user_verified() {
        &["face", "hwk", "user"]
    } else {
        &["face", "hwk"]
    };
    super::sign_in(accounts, doc.user_id, amr, context).await
}

fn valid_name(name: &str) -> Result<String, AppError> {
    crate::accounts::validate_passkey_name(name).map_err(|message| AppError::Unprocessable {
        code: "invalid_passkey_name",
        message,
    })?;
    Ok(name.to_string())
}

fn default_name(at: DateTime) -> String {
    let date = at.try_to_rfc3339_string().unwrap_or_default();
    format!("Passkey added {}", date.get(..10).unwrap_or_default())
}

fn time(at: DateTime) -> String {
    at.try_to_rfc3339_string().unwrap_or_default()
}

/// The signed-in account's passkeys, oldest first.
pub(crate) async fn list(accounts: &Accounts, signed_in: &SignedIn) -> Result<Vec<PasskeyInfo>, AppError> {
    let mut docs: Vec<PasskeyDoc> = accounts
        .db
        .passkeys()
        .find(doc! { "user_id": signed_in.user_id })
        .await?
        .try_collect()
        .await?;
    docs.sort_by_key(|d| d.created_at);
    Ok(docs
        .into_iter()
        .map(|d| PasskeyInfo {
            id: d.id.to_hex(),
            name: if d.name.is_empty() {
                default_name(d.created_at)
            } else {
                d.name
            },
            created_at: time(d.created_at),
            last_used_at: d.last_used_at.map(time),
        })
        .collect())
}

/// A passkey id from a request: one of the account's, or 404 (someone else's looks the same as
/// none at all).
fn passkey_id(id: &str) -> Result<ObjectId, AppError> {
    ObjectId::parse_str(id.trim()).map_err(|_| no_such_passkey())
}

fn no_such_passkey() -> AppError {
    AppError::NotFound {
        code: "unknown_passkey",
        message: "This account has no such passkey. Reload the page to see your passkeys.".into(),
    }
}

/// Renames one of the signed-in account's passkeys.
pub(crate) async fn rename(
    accounts: &Accounts,
    signed_in: &SignedIn,
    id: &str,
    name: &str,
) -> Result<(), AppError> {
    let name = valid_name(name.trim())?;
    let id = passkey_id(id)?;
    let renamed = accounts
        .db
        .passkeys()
        .update_one(
            doc! { "_id": id, "user_id": signed_in.user_id },
            doc! { "$set": { "name": name } },
        )
        .await?;
    if renamed.matched_count == 0 {
        return Err(no_such_passkey());
    }
    Ok(())
}

/// Removes one of the signed-in account's passkeys (a login under 5 minutes old, like deleting
/// the account: a session left open must not be enough to take a way in away from its owner).
/// When it was the last, logins stop offering a passkey, here and on the other instances.
pub(crate) async fn remove(
    accounts: &Accounts,
    signed_in: &SignedIn,
    id: &str,
    client: &ClientMeta,
) -> Result<(), AppError> {
    super::require_fresh_login(signed_in)?;
    let id = passkey_id(id)?;
    let user_id = signed_in.user_id;
    let removed = accounts
        .db
        .passkeys()
        .delete_one(doc! { "_id": id, "user_id": user_id })
        .await?;
    if removed.deleted_count == 0 {
        return Err(no_such_passkey());
    }
    if count(accounts, user_id).await? == 0 {
        accounts.passkeys.forget_owner(&user_id);
        accounts
            .changes
            .publish_in_background(Change::PasskeysGone { user_id });
    }
    audit::record(accounts, user_id, Event::PasskeyRemoved, None, client).await;
    Ok(())
}
