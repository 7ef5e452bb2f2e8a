//! This instance's memory of the accounts — the gallery, the sessions, who has a passkey — as
//! the change feed (`crate::changes`) keeps it in step with the other instances: what each
//! change means here, and the reconciliation with the collections behind it.

use std::collections::HashSet;

use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};

use super::Accounts;
use crate::{
    at_rest::stored,
    changes::Replica,
    db::{Db, changes::Change},
    gallery::STORED_FIELDS,
};

impl Replica for Accounts {
    async fn apply(&self, change: Change) {
        apply(self, change).await;
    }

    fn forget_expired(&self) {
        forget_expired_sessions(self);
    }

    async fn reconcile(&self) {
        reconcile(self).await;
    }
}

/// Applies another instance's change to this one's memory.
async fn apply(accounts: &Accounts, change: Change) {
    match change {
        // One read by id per registration, in the follower (off the request paths): the record
        // is opened and its binding checked exactly as at start-up.
        Change::Enrolled { user_id } => {
            if !accounts.gallery.contains(&user_id) {
                enrol_stored(accounts, user_id).await;
            }
        }
        Change::Removed { user_id } => forget_user(accounts, &user_id),
        Change::SessionOpened { session } => {
            accounts
                .gallery
                .record_login(&session.user_id, session.created_at);
            accounts.sessions.insert(session);
        }
        Change::SessionSeen { token_hash, at } => accounts.sessions.seen(&token_hash, at),
        Change::SessionEnded { token_hash } => {
            accounts.sessions.remove(&token_hash);
        }
        Change::SessionsEnded { user_id } => {
            accounts.sessions.remove_user(&user_id);
        }
        Change::PasskeyAdded { user_id } => accounts.passkeys.add_owner(user_id),
        Change::PasskeysGone { user_id } => accounts.passkeys.forget_owner(&user_id),
        Change::Redacted {} => {}
    }
}

/// Everything this instance holds in memory about a deleted account.
pub(crate) fn forget_user(accounts: &Accounts, user_id: &ObjectId) {
    accounts.changes.note_removed(*user_id);
    accounts.gallery.remove(user_id);
    accounts.sessions.remove_user(user_id);
    accounts.passkeys.forget_owner(user_id);
}

/// Puts a user back from the database after [`forget_user`] (a deletion that failed midway).
pub(crate) async fn reload_user(accounts: &Accounts, user_id: ObjectId) {
    accounts.changes.unnote_removed(&user_id);
    enrol_stored(accounts, user_id).await;
}

/// Enrols a user as stored in the database (nothing when the record is gone or does not open).
async fn enrol_stored(accounts: &Accounts, user_id: ObjectId) {
    match stored::matching(&accounts.db, doc! { "_id": user_id }, &STORED_FIELDS).await {
        Ok(users) => {
            for user in users {
                if let Err(e) = accounts.gallery.add_stored(&accounts.templates, user) {
                    tracing::error!(%user_id, error = %e, "a user's face templates do not open for them with this instance's key file: not enrolled");
                }
            }
        }
        Err(e) => tracing::error!(%user_id, error = %e, "could not read a user into the gallery"),
    }
}

fn forget_expired_sessions(accounts: &Accounts) {
    let now = DateTime::now();
    let idle = accounts.config.accounts.session_idle();
    let idle_since = DateTime::from_millis(now.timestamp_millis() - idle.as_millis() as i64);
    let forgotten = accounts.sessions.forget_expired(now, idle_since);
    if forgotten > 0 {
        tracing::debug!(sessions = forgotten, "forgot expired sessions");
    }
}

/// The safety net behind the feed: forgets sessions and users this instance holds but the
/// database no longer has, and enrols users it has but this instance missed (a change lost
/// to a crash between two writes). Reads ids first, records only for what differs; runs in the
/// background, so its full scans never delay a request.
async fn reconcile(accounts: &Accounts) {
    let started = DateTime::now();
    let before_start = |id: &ObjectId| id.timestamp().timestamp_millis() < started.timestamp_millis();
    match stored_ids(&accounts.db, crate::db::sessions::COLLECTION).await {
        Ok(ids) => {
            let mut stored: HashSet<String> = ids
                .into_iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect();
            // Ended sessions keep their rows until the purge: they are not live.
            match crate::db::sessions::ended(&accounts.db).await {
                Ok(ended) => stored.retain(|hash| !ended.contains(hash)),
                Err(e) => tracing::warn!(error = %e, "could not read the ended sessions"),
            }
            let forgotten = accounts.sessions.keep_only_stored(&stored, started);
            if forgotten > 0 {
                tracing::warn!(sessions = forgotten, "forgot sessions the database no longer has");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not reconcile sessions with the database"),
    }
    let stored: HashSet<ObjectId> = match stored_ids(&accounts.db, crate::db::users::COLLECTION).await {
        Ok(ids) => ids.into_iter().filter_map(|id| id.as_object_id()).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not reconcile the gallery with the database");
            return;
        }
    };
    let held: HashSet<ObjectId> = accounts.gallery.ids().into_iter().collect();
    // A user enrolled after the read began is not in it yet: keep them.
    let gone: Vec<ObjectId> = held
        .iter()
        .filter(|id| !stored.contains(id) && before_start(id))
        .copied()
        .collect();
    for id in &gone {
        forget_user(accounts, id);
    }
    if !gone.is_empty() {
        tracing::warn!(users = gone.len(), "forgot users the database no longer has");
    }
    let missing: Vec<ObjectId> = stored.difference(&held).copied().collect();
    if missing.is_empty() {
        return;
    }
    let users =
        match stored::matching(&accounts.db, doc! { "_id": { "$in": &missing } }, &STORED_FIELDS).await {
            Ok(users) => users,
            Err(e) => {
                tracing::warn!(error = %e, "could not read users missing from the gallery");
                return;
            }
        };
    let mut added = 0;
    for user in users {
        if accounts.changes.was_removed(&user.id) {
            continue;
        }
        match accounts.gallery.add_stored(&accounts.templates, user) {
            Ok(true) => added += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "a user's face templates do not open with this instance's key file")
            }
        }
    }
    if added > 0 {
        tracing::warn!(
            users = added,
            "enrolled users whose registration had not reached this instance"
        );
    }
}

async fn stored_ids(db: &Db, collection: &str) -> mongodb::error::Result<Vec<mongodb::bson::Bson>> {
    let cursor = db
        .database()
        .collection::<Document>(collection)
        .find(doc! {})
        .projection(doc! { "_id": 1 })
        .await?;
    let docs: Vec<Document> = cursor.try_collect().await?;
    Ok(docs.into_iter().filter_map(|mut d| d.remove("_id")).collect())
}
