//! The account history its owner sees: one inserted entry per sign-in, refused PIN, lock,
//! sign-out. Recording never fails the request it describes (a database hiccup must not turn a
//! good login into an error); a failure is logged instead.

use futures::TryStreamExt;
use mongodb::bson::{DateTime, doc, oid::ObjectId};

use super::ClientMeta;
use crate::{accounts::ActivityEntry, db::audit::AuditDoc, error::AppError};

use super::Accounts;

/// How many entries the welcome page and `GET /api/account/history` show.
pub(crate) const HISTORY_SHOWN: i64 = 20;

/// What happened to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Registered,
    SignedIn,
    PinRefused,
    PinLocked,
    SignedOut,
    SignedOutEverywhere,
    Exported,
    PasskeyAdded,
    PasskeyRemoved,
}

impl Event {
    pub fn code(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::SignedIn => "signed_in",
            Self::PinRefused => "pin_refused",
            Self::PinLocked => "pin_locked",
            Self::SignedOut => "signed_out",
            Self::SignedOutEverywhere => "signed_out_everywhere",
            Self::Exported => "exported",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }

    fn success(self) -> bool {
        !matches!(self, Self::PinRefused | Self::PinLocked)
    }
}

/// Records `event` for `user_id`; `reason` is the refusal's error code.
pub(crate) async fn record(
    accounts: &Accounts,
    user_id: ObjectId,
    event: Event,
    reason: Option<&str>,
    client: &ClientMeta,
) {
    let entry = AuditDoc {
        id: ObjectId::new(),
        user_id,
        at: DateTime::now(),
        event: event.code().into(),
        success: event.success(),
        reason: reason.map(str::to_string),
        client_address: client.address.clone(),
        user_agent: client.user_agent.clone(),
    };
    if let Err(e) = accounts.db.audit().insert_one(&entry).await {
        tracing::error!(error = %e, event = event.code(), %user_id, "could not record account history");
    }
}

/// The latest `limit` entries of an account, newest first.
pub(crate) async fn recent(
    accounts: &Accounts,
    user_id: ObjectId,
    limit: i64,
) -> Result<Vec<ActivityEntry>, AppError> {
    let entries: Vec<AuditDoc> = accounts
        .db
        .audit()
        .find(doc! { "user_id": user_id })
        .sort(doc! { "at": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok(entries.into_iter().map(activity_entry).collect())
}

pub(crate) fn activity_entry(entry: AuditDoc) -> ActivityEntry {
    ActivityEntry {
        at: entry.at.try_to_rfc3339_string().unwrap_or_default(),
        event: entry.event,
        success: entry.success,
        reason: entry.reason,
        client_address: entry.client_address,
        user_agent: entry.user_agent,
    }
}

/// Each account's latest sign-in in the kept history (start-up: one read of the history).
pub async fn latest_logins(
    db: &crate::db::Db,
) -> mongodb::error::Result<std::collections::HashMap<ObjectId, DateTime>> {
    let mut latest = std::collections::HashMap::new();
    let mut cursor = db
        .audit()
        .clone_with_type::<mongodb::bson::Document>()
        .find(doc! { "event": Event::SignedIn.code() })
        .projection(doc! { "user_id": 1, "at": 1 })
        .await?;
    while let Some(entry) = cursor.try_next().await? {
        if let (Ok(user), Ok(at)) = (entry.get_object_id("user_id"), entry.get_datetime("at")) {
            let at = *at;
            latest
                .entry(user)
                .and_modify(|t: &mut DateTime| *t = (*t).max(at))
                .or_insert(at);
        }
    }
    Ok(latest)
}
