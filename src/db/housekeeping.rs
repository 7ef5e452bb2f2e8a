//! Deleting what has expired — sessions, old history — in the background (the change log's old
//! entries: `crate::changes`). These deletes scan
//! whole collections where the database has no usable index (FerretDB v1), so they never run on
//! a request: a login or page view costs the same with ten or a million stored sessions.

use std::time::Duration;

use mongodb::bson::DateTime;

use super::{Db, audit, sessions};
use crate::background::Background;

/// How often the purge runs. Expired sessions are refused at lookup in between, so this only
/// bounds how long dead rows take up space.
pub const EVERY: Duration = Duration::from_secs(300);

/// Runs the purge every [`EVERY`] until shutdown.
pub fn spawn(background: &Background, db: Db, session_idle: Duration, audit_retention: Duration) {
    background.every("session and history purge", EVERY, move || {
        let db = db.clone();
        async move { purge_once(&db, session_idle, audit_retention).await }
    });
}

/// One round; failures are logged and retried at the next round.
pub async fn purge_once(db: &Db, session_idle: Duration, audit_retention: Duration) {
    let ago = |d: Duration| DateTime::from_millis(DateTime::now().timestamp_millis() - d.as_millis() as i64);
    match sessions::purge_ended(db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "purged ended sessions"),
        Err(e) => tracing::warn!(error = %e, "could not purge ended sessions"),
    }
    match sessions::purge_expired(db, ago(session_idle)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
        Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
    }
    match audit::purge_before(db, ago(audit_retention)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, "purged old account history"),
        Err(e) => tracing::warn!(error = %e, "could not purge old account history"),
    }
}
