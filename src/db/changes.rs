//! The `changes` collection: an append-only log of what other app instances must mirror in
//! memory (enrolments, deletions, sessions), numbered by one counter so every instance applies
//! the changes in the same order. Kept for [`KEPT_FOR`]; an instance that starts loads the
//! collections themselves and follows the log from the counter's value at that moment.

use mongodb::{
    Collection,
    bson::{DateTime, doc, oid::ObjectId},
    options::ReturnDocument,
};
use serde::{Deserialize, Serialize};

use super::{Db, sessions::SessionDoc};

pub(crate) const COLLECTION: &str = "changes";
const COUNTERS: &str = "counters";
const COUNTER_ID: &str = "changes";

/// How long changes stay in the log: far longer than any follower lags (it reads every 500 ms),
/// short enough that the log, which FerretDB scans at every read, stays small under load.
pub const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(3 * 60);

/// One change, as every instance applies it. Each is idempotent: applying it twice, or after a
/// start-up load that already saw it, leaves the same state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged (`{"enrolled": {…}}`): BSON's own types (ids, dates, binaries) do not
// survive the buffering an internally tagged enum needs.
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// A new account. Only its id: no secret (sealed or not) goes into the log, which every
    /// instance reads; followers read the record itself by id (entries of older versions, with
    /// more fields, read the same way).
    Enrolled {
        user_id: ObjectId,
    },
    /// An account deleted: out of the gallery, its sessions ended, its passkeys forgotten.
    Removed {
        user_id: ObjectId,
    },
    /// A login: a new session (and the user's latest login).
    SessionOpened {
        session: SessionDoc,
    },
    /// An active session's `last_seen_at` moved on (at most once a minute per session).
    SessionSeen {
        token_hash: String,
        at: DateTime,
    },
    SessionEnded {
        token_hash: String,
    },
    /// "Sign out everywhere".
    SessionsEnded {
        user_id: ObjectId,
    },
    /// The account can now confirm logins with a passkey.
    PasskeyAdded {
        user_id: ObjectId,
    },
    /// The account removed its last passkey: logins no longer offer one.
    PasskeysGone {
        user_id: ObjectId,
    },
    /// What was here belonged to an account since deleted (nothing to apply). Kept, not deleted,
    /// so that followers see no gap in the numbers.
    Redacted {},
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeDoc {
    /// The change's number, from the `counters` collection: unique and increasing.
    #[serde(rename = "_id")]
    pub(crate) seq: i64,
    pub(crate) at: DateTime,
    /// The instance that made it (it applied the change itself already).
    pub(crate) origin: String,
    pub(crate) change: Change,
}

#[derive(Debug, Serialize, Deserialize)]
struct Counter {
    #[serde(rename = "_id")]
    id: String,
    seq: i64,
}

impl Db {
    pub fn changes(&self) -> Collection<ChangeDoc> {
        self.database().collection(COLLECTION)
    }

    fn counters(&self) -> Collection<Counter> {
        self.database().collection(COUNTERS)
    }
}

/// Takes the next change number: one atomic `$inc` on a one-document collection.
pub async fn next_seq(db: &Db) -> mongodb::error::Result<i64> {
    let counter = db
        .counters()
        .find_one_and_update(doc! { "_id": COUNTER_ID }, doc! { "$inc": { "seq": 1_i64 } })
        .upsert(true)
        .return_document(ReturnDocument::After)
        .await?;
    Ok(counter.map_or(1, |c| c.seq))
}

/// The last number handed out (0 before the first change).
pub async fn last_seq(db: &Db) -> mongodb::error::Result<i64> {
    let counter = db.counters().find_one(doc! { "_id": COUNTER_ID }).await?;
    Ok(counter.map_or(0, |c| c.seq))
}

/// Appends a change under a number taken with [`next_seq`].
pub(crate) async fn append(db: &Db, seq: i64, origin: &str, change: Change) -> mongodb::error::Result<()> {
    let entry = ChangeDoc {
        seq,
        at: DateTime::now(),
        origin: origin.to_string(),
        change,
    };
    db.changes().insert_one(&entry).await.map(|_| ())
}

/// Changes numbered `from` or later, in order. An entry this version cannot read — damaged, or
/// a kind of change a newer version writes — is logged and stands in the result as
/// [`Change::Redacted`] (nothing to apply) under its number: the follower moves past it instead
/// of failing on every read from then on, and later changes are applied in order as usual.
pub async fn since(db: &Db, from: i64) -> mongodb::error::Result<Vec<ChangeDoc>> {
    use futures::TryStreamExt;
    let raw: Vec<mongodb::bson::Document> = db
        .database()
        .collection(COLLECTION)
        .find(doc! { "_id": { "$gte": from } })
        .sort(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(raw.into_iter().filter_map(readable).collect())
}

/// One log entry as this version reads it; see [`since`]. `None` (logged) for an entry without
/// even a number, which no follower can place.
fn readable(raw: mongodb::bson::Document) -> Option<ChangeDoc> {
    let error = match mongodb::bson::from_document::<ChangeDoc>(raw.clone()) {
        Ok(entry) => return Some(entry),
        Err(e) => e,
    };
    let seq = match raw.get("_id") {
        Some(mongodb::bson::Bson::Int64(seq)) => *seq,
        Some(mongodb::bson::Bson::Int32(seq)) => i64::from(*seq),
        _ => {
            tracing::error!(%error, "skipped a change log entry without a number");
            return None;
        }
    };
    let kind = raw
        .get_document("change")
        .ok()
        .and_then(|change| change.keys().next().cloned())
        .unwrap_or_default();
    tracing::warn!(
        seq,
        kind,
        %error,
        "skipped a change log entry this version cannot read (damaged, or written by a newer version)"
    );
    Some(ChangeDoc {
        seq,
        at: raw
            .get_datetime("at")
            .copied()
            .unwrap_or_else(|_| DateTime::now()),
        origin: String::new(),
        change: Change::Redacted {},
    })
}

/// Deletes changes older than [`KEPT_FOR`] (background housekeeping).
pub async fn purge_old(db: &Db) -> mongodb::error::Result<u64> {
    let before = DateTime::from_millis(DateTime::now().timestamp_millis() - KEPT_FOR.as_millis() as i64);
    let result = db.changes().delete_many(doc! { "at": { "$lt": before } }).await?;
    Ok(result.deleted_count)
}

/// Blanks the log's entries about `user_id` (an enrolment, their sessions, passkeys): "delete my account" leaves only the deletion's own entry, which holds
/// nothing but the id, and goes with the log's tail (entries naming only a session's token
/// hash, which no longer leads anywhere, go with it too). Followers that had not read them yet
/// skip them; the deletion that follows removes what they had applied.
pub(crate) async fn forget_user(db: &Db, user_id: ObjectId) -> mongodb::error::Result<u64> {
    let result = db
        .changes()
        .update_many(
            doc! { "$or": [
            { "change.enrolled.user_id": user_id },
            { "change.session_opened.session.user_id": user_id },
            { "change.passkey_added.user_id": user_id },
            { "change.passkeys_gone.user_id": user_id },
            { "change.sessions_ended.user_id": user_id },
            ] },
            doc! { "$set": { "change": { "redacted": {} } } },
        )
        .await?;
    Ok(result.modified_count)
}

pub async fn ensure_indexes(db: &Db) -> mongodb::error::Result<()> {
    super::create_missing_indexes(&db.changes(), vec![super::plain_index("at", None)]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_entries_keep_their_number_and_apply_nothing() {
        let future_kind = doc! { "_id": 7_i64, "at": DateTime::now(), "origin": "newer", "change": { "device_trusted": { "user_id": ObjectId::new() } } };
        let damaged =
            doc! { "_id": 8_i64, "origin": "x", "change": { "session_ended": { "token_hash": 42 } } };
        let no_number = doc! { "_id": "nine", "change": {} };
        let good = doc! { "_id": 10_i64, "at": DateTime::now(), "origin": "o", "change": { "session_ended": { "token_hash": "t" } } };
        let read: Vec<ChangeDoc> = [future_kind, damaged, no_number, good]
            .into_iter()
            .filter_map(readable)
            .collect();
        let summary: Vec<(i64, bool)> = read
            .iter()
            .map(|e| (e.seq, e.change == Change::Redacted {}))
            .collect();
        assert_eq!(summary, [(7, true), (8, true), (10, false)]);
    }
}
