//! Your own data: everything facegate stores about an account, as JSON, and deleting all of it.

use futures::TryStreamExt;
use mongodb::bson::{DateTime, doc};
use serde::Serialize;

use super::{ClientMeta, SignedIn, audit, audit::Event};
use crate::{accounts::ActivityEntry, db::changes::Change, error::AppError};

use super::Accounts;

/// Everything stored about one account. The PIN's hash is the one thing left out: with it, a
/// six-digit PIN falls to an offline search in hours, and the export may be saved carelessly.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountExport {
    pub(crate) exported_at: String,
    pub(crate) user: ExportedUser,
    pub(crate) sessions: Vec<ExportedSession>,
    pub(crate) pin_locks: Vec<ExportedPinLock>,
    pub(crate) passkeys: Vec<ExportedPasskey>,
    pub(crate) history: Vec<ActivityEntry>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportedUser {
    pub(crate) user_id: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) created_at: String,
    pub(crate) last_login_at: Option<String>,
    /// The stored face encodings: 128 numbers each, no picture.
    pub(crate) face_encodings: Vec<Vec<f32>>,
    pub(crate) pin_set: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportedSession {
    pub(crate) created_at: String,
    pub(crate) expires_at: String,
    pub(crate) last_seen_at: Option<String>,
    pub(crate) current: bool,
}

/// A passkey as stored: its public key and counter are inside `credential`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportedPasskey {
    pub(crate) created_at: String,
    pub(crate) last_used_at: Option<String>,
    #[schema(value_type = Object)]
    pub(crate) credential: serde_json::Value,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportedPinLock {
    /// `<account id(s)>` (wrong PINs today, all clients) or `<account id(s)>@<client address>`
    /// (wrong PINs in a row from that client).
    pub(crate) counts: String,
    pub(crate) wrong_pins: u32,
    pub(crate) last_wrong_pin_at: Option<String>,
}

fn time(at: DateTime) -> String {
    at.try_to_rfc3339_string().unwrap_or_default()
}

pub async fn export_account(
    accounts: &Accounts,
    signed_in: &SignedIn,
    client: &ClientMeta,
) -> Result<AccountExport, AppError> {
    super::require_fresh_login(signed_in)?;
    let id = signed_in.user_id;
    let user = accounts
        .db
        .users()
        .find_one(doc! { "_id": id })
        .await?
        .ok_or_else(|| AppError::Unauthorized("Log in first.".into()))?;
    let sessions: Vec<_> = accounts
        .db
        .sessions()
        .find(doc! { "user_id": id })
        .await?
        .try_collect()
        .await?;
    let ended = crate::db::sessions::ended(&accounts.db).await?;
    let sessions: Vec<_> = sessions
        .into_iter()
        .filter(|s| !ended.contains(&s.token_hash))
        .collect();
    let history: Vec<_> = accounts
        .db
        .audit()
        .find(doc! { "user_id": id })
        .sort(doc! { "at": -1 })
        .await?
        .try_collect()
        .await?;
    let pin_locks = accounts.db.pin_locks_of(id).await?;
    let face_encodings = accounts
        .templates
        .open(&id, &user.face_templates)
        .map_err(|e| AppError::Internal(format!("opening the face templates of {id}: {e}")))?;
    let passkeys: Vec<_> = accounts
        .db
        .passkeys()
        .find(doc! { "user_id": id })
        .await?
        .try_collect()
        .await?;
    audit::record(accounts, id, Event::Exported, None, client).await;
    Ok(AccountExport {
        exported_at: time(DateTime::now()),
        user: ExportedUser {
            user_id: id.to_hex(),
            username: user.username,
            email: user.email,
            created_at: time(user.created_at),
            last_login_at: accounts.gallery.last_login(&id).or(user.last_login_at).map(time),
            face_encodings: face_encodings.iter().map(|e| e.as_slice().to_vec()).collect(),
            pin_set: user.pin_sealed.is_some() || user.pin_hash.is_some(),
        },
        sessions: sessions
            .into_iter()
            .map(|s| ExportedSession {
                current: s.token_hash == signed_in.session.token_hash,
                created_at: time(s.created_at),
                expires_at: time(s.expires_at),
                last_seen_at: s.last_seen_at.map(time),
            })
            .collect(),
        pin_locks: pin_locks
            .into_iter()
            .map(|lock| ExportedPinLock {
                counts: lock.key,
                wrong_pins: lock.failures,
                last_wrong_pin_at: lock.last_failure_at.map(time),
            })
            .collect(),
        passkeys: passkeys
            .into_iter()
            .map(|p| ExportedPasskey {
                created_at: time(p.created_at),
                last_used_at: p.last_used_at.map(time),
                credential: serde_json::from_str(&p.credential).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
        history: history.into_iter().map(audit::activity_entry).collect(),
    })
}

/// Deletes the signed-in user and everything stored about them. The face leaves the gallery
/// first (no login can succeed meanwhile), the user document goes last: if a step fails, the
/// account still exists and the person can simply try again — nothing is left half-deleted
/// without an owner.
pub async fn delete_account(accounts: &Accounts, signed_in: &SignedIn) -> Result<(), AppError> {
    super::require_fresh_login(signed_in)?;
    let id = signed_in.user_id;
    super::replica::forget_user(accounts, &id);
    let result = async {
        accounts.db.audit().delete_many(doc! { "user_id": id }).await?;
        accounts
            .db
            .pin_locks()
            .delete_many(doc! { "user_ids": id })
            .await?;
        accounts.db.passkeys().delete_many(doc! { "user_id": id }).await?;
        accounts.db.sessions().delete_many(doc! { "user_id": id }).await?;
        accounts.db.users().delete_one(doc! { "_id": id }).await?;
        // A login that raced the deletion may have added a session or an entry.
        accounts.db.sessions().delete_many(doc! { "user_id": id }).await?;
        accounts.db.audit().delete_many(doc! { "user_id": id }).await?;
        crate::db::changes::forget_user(&accounts.db, id).await?;
        Ok::<_, mongodb::error::Error>(())
    }
    .await;
    if let Err(e) = result {
        // Put the face back: the account still exists, so its owner must still be able to log in.
        super::replica::reload_user(accounts, id).await;
        return Err(e.into());
    }
    if let Err(e) = accounts.changes.publish(Change::Removed { user_id: id }).await {
        // Deleted from the database: other instances forget the face at their next reconciliation.
        tracing::warn!(error = %e, "could not tell the other instances about a deleted account");
    }
    tracing::info!(user_id = %id, "account deleted");
    Ok(())
}
