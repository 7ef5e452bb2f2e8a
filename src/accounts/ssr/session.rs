//! Sessions: a random token in the browser's cookie, its SHA-256 in the `sessions` collection and
//! in every instance's memory ([`super::SessionStore`]).
//! A session ends at logout, after `session-idle-minutes` without a request, at
//! `session-lifetime-hours` after its login, when the same browser logs in again, or when its
//! owner signs out everywhere.

use super::Accounts;
use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use mongodb::bson::{DateTime, doc, oid::ObjectId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{
    db::{
        changes::Change,
        sessions::{self, SessionDoc},
    },
    error::AppError,
};

/// How stale `last_seen_at` may get, as a share of the idle timeout, before a request records
/// it again (in memory, in the database and for the other instances). An active session costs
/// one write and one change per quarter of the idle timeout, not one per request; the idle
/// timeout then runs from the last *recorded* activity, so it ends a session after between
/// three quarters and all of `session-idle-minutes` without a request.
const TOUCH_SHARE_OF_IDLE: u32 = 4;

/// How long a cookie this instance does not know waits for the change follower to read the
/// log (two polls, and some slack for the database's answer) before it is refused.
const UNKNOWN_COOKIE_WAIT: Duration =
    Duration::from_millis(3 * crate::changes::POLL_EVERY.as_millis() as u64);

/// A session token: 256 random bits, URL-safe base64. Deliberately neither `Serialize` nor
/// `Display`, so it cannot end up in a response body or a log line by accident.
#[derive(Clone)]
pub struct SessionToken(String);

impl SessionToken {
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub(crate) fn from_cookie(value: &str) -> Self {
        Self(value.to_string())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn hash(&self) -> String {
        format!("{:x}", Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

fn millis_after(at: DateTime, duration: Duration) -> DateTime {
    DateTime::from_millis(at.timestamp_millis().saturating_add(duration.as_millis() as i64))
}

/// Stores a new session for `user_id` (an insert: cheap at any size), holds it in memory and
/// tells the other instances, then returns its token.
pub(super) async fn open(
    accounts: &Accounts,
    user_id: ObjectId,
    previous_login_at: Option<DateTime>,
    amr: Vec<String>,
) -> Result<(SessionDoc, SessionToken), AppError> {
    let now = DateTime::now();
    let token = SessionToken::generate();
    let session = SessionDoc {
        token_hash: token.hash(),
        user_id,
        created_at: now,
        expires_at: millis_after(now, accounts.config.accounts.session_lifetime()),
        last_seen_at: Some(now),
        previous_login_at,
        amr,
    };
    accounts.db.sessions().insert_one(&session).await?;
    accounts.sessions.insert(session.clone());
    // Awaited, so that the next request, wherever a proxy sends it, finds the session. Should
    // it fail, the session still works on this instance.
    let opened = Change::SessionOpened {
        session: session.clone(),
    };
    if let Err(e) = accounts.changes.publish(opened).await {
        tracing::warn!(error = %e, "could not tell the other instances about a new session");
    }
    Ok((session, token))
}

/// The live session behind `token`: present, before its absolute end, and not idle too long.
/// Read from memory; a token found nowhere waits for the follower's next read of the change
/// log (no read of its own), in case its login happened on another instance a moment ago. Refreshes `last_seen_at` (in the background
/// for the database and the other instances) at most once per quarter of the idle timeout.
pub(crate) async fn find(accounts: &Accounts, token: &SessionToken) -> Result<Option<SessionDoc>, AppError> {
    find_by_hash(accounts, token.hash()).await
}

/// [`find`] by the token's hash (what forward auth keeps: `crate::forward_auth`).
pub(crate) async fn find_by_hash(accounts: &Accounts, hash: String) -> Result<Option<SessionDoc>, AppError> {
    let session = match accounts.sessions.get(&hash) {
        Some(session) => session,
        None => {
            accounts.changes.next_read(UNKNOWN_COOKIE_WAIT).await;
            match accounts.sessions.get(&hash) {
                Some(session) => session,
                None => return Ok(None),
            }
        }
    };
    let now = DateTime::now();
    let last_seen = session.last_seen_at.unwrap_or(session.created_at);
    let idle_until = millis_after(last_seen, accounts.config.accounts.session_idle());
    if session.expires_at <= now || idle_until <= now {
        end_hash_in_background(accounts, hash);
        return Ok(None);
    }
    let touch_every = accounts.config.accounts.session_idle() / TOUCH_SHARE_OF_IDLE;
    if now.timestamp_millis() - last_seen.timestamp_millis() >= touch_every.as_millis() as i64 {
        accounts.sessions.seen(&hash, now);
        let (db, changes) = (accounts.db.clone(), accounts.changes.clone());
        accounts.background.finish(async move {
            let touched = db
                .sessions()
                .update_one(doc! { "_id": &hash }, doc! { "$set": { "last_seen_at": now } })
                .await;
            if let Err(e) = touched {
                tracing::warn!(error = %e, "could not record session activity");
            }
            changes.publish_in_background(Change::SessionSeen {
                token_hash: hash,
                at: now,
            });
        });
    }
    Ok(Some(session))
}

/// Whether the session's login is recent enough for an irreversible step (delete, export).
pub(crate) fn is_fresh(session: &SessionDoc, within: Duration) -> bool {
    DateTime::now().timestamp_millis() - session.created_at.timestamp_millis() <= within.as_millis() as i64
}

/// Ends a session here, in the database (an insert: `sessions::mark_ended`) and — awaited, a
/// logout must reach every instance — on the other instances.
pub(crate) async fn end(accounts: &Accounts, token: &SessionToken) -> Result<(), AppError> {
    let hash = token.hash();
    accounts.sessions.remove(&hash);
    sessions::mark_ended(&accounts.db, &hash).await?;
    accounts
        .changes
        .publish(Change::SessionEnded { token_hash: hash })
        .await?;
    Ok(())
}

/// Ends a session without making the request wait (a login replacing the browser's old one,
/// an expired one found at lookup).
pub(super) fn end_in_background(accounts: &Accounts, token: &SessionToken) {
    end_hash_in_background(accounts, token.hash());
}

fn end_hash_in_background(accounts: &Accounts, hash: String) {
    accounts.sessions.remove(&hash);
    let (db, changes) = (accounts.db.clone(), accounts.changes.clone());
    accounts.background.finish(async move {
        if let Err(e) = sessions::mark_ended(&db, &hash).await {
            tracing::warn!(error = %e, "could not record an ended session");
        }
        changes.publish_in_background(Change::SessionEnded { token_hash: hash });
    });
}

/// Ends every session of `user_id`, on every instance; returns how many were stored.
pub(crate) async fn end_all(accounts: &Accounts, user_id: ObjectId) -> Result<u64, AppError> {
    accounts.sessions.remove_user(&user_id);
    let deleted = accounts
        .db
        .sessions()
        .delete_many(doc! { "user_id": user_id })
        .await?;
    accounts
        .changes
        .publish(Change::SessionsEnded { user_id })
        .await?;
    Ok(deleted.deleted_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 43); // 256 bits
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose());
        assert_eq!(format!("{a:?}"), "SessionToken(…)");
    }
}
