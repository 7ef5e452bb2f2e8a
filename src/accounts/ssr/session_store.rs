//! Every live session, in memory: a signed-in page view looks its cookie up here, never in the
//! database (which FerretDB would scan). The `sessions` collection stays the record that survives
//! a restart; the change feed (`crate::changes`) brings other instances' logins and logouts here.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use mongodb::bson::{DateTime, oid::ObjectId};

use crate::db::sessions::SessionDoc;

#[derive(Clone, Default)]
pub struct SessionStore {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// By SHA-256 of the token (the cookie's token itself is never kept).
    by_hash: HashMap<String, SessionDoc>,
    by_user: HashMap<ObjectId, HashSet<String>>,
}

impl SessionStore {
    pub fn from_sessions(sessions: impl IntoIterator<Item = SessionDoc>) -> Self {
        let store = Self::default();
        for session in sessions {
            store.insert(session);
        }
        store
    }

    pub fn insert(&self, session: SessionDoc) {
        let mut inner = self.write();
        inner
            .by_user
            .entry(session.user_id)
            .or_default()
            .insert(session.token_hash.clone());
        inner.by_hash.insert(session.token_hash.clone(), session);
    }

    pub fn contains(&self, token_hash: &str) -> bool {
        self.read().by_hash.contains_key(token_hash)
    }

    pub(crate) fn get(&self, token_hash: &str) -> Option<SessionDoc> {
        self.read().by_hash.get(token_hash).cloned()
    }

    /// Moves `last_seen_at` forward (never back: changes from other instances arrive late).
    pub(crate) fn seen(&self, token_hash: &str, at: DateTime) {
        if let Some(session) = self.write().by_hash.get_mut(token_hash)
            && session.last_seen_at.is_none_or(|seen| seen < at)
        {
            session.last_seen_at = Some(at);
        }
    }

    pub(crate) fn remove(&self, token_hash: &str) -> Option<SessionDoc> {
        let mut inner = self.write();
        let session = inner.by_hash.remove(token_hash)?;
        if let Some(hashes) = inner.by_user.get_mut(&session.user_id) {
            hashes.remove(token_hash);
            if hashes.is_empty() {
                inner.by_user.remove(&session.user_id);
            }
        }
        Some(session)
    }

    /// Ends every session of `user_id` here; returns how many there were.
    pub(crate) fn remove_user(&self, user_id: &ObjectId) -> usize {
        let mut inner = self.write();
        let hashes = inner.by_user.remove(user_id).unwrap_or_default();
        for hash in &hashes {
            inner.by_hash.remove(hash);
        }
        hashes.len()
    }

    /// Forgets sessions past their absolute end or idle since before `idle_since`; returns how
    /// many. Lookups refuse those anyway: this only bounds memory.
    pub fn forget_expired(&self, now: DateTime, idle_since: DateTime) -> usize {
        let expired: Vec<String> = self
            .read()
            .by_hash
            .values()
            .filter(|s| s.expires_at <= now || s.last_seen_at.unwrap_or(s.created_at) < idle_since)
            .map(|s| s.token_hash.clone())
            .collect();
        for hash in &expired {
            self.remove(hash);
        }
        expired.len()
    }

    /// Forgets the sessions opened before `before` that are not in `stored` (the database's
    /// sessions, read after `before`): a safety net should a change from another instance have
    /// been lost. Newer sessions may not be in that read yet, so they stay.
    pub fn keep_only_stored(&self, stored: &HashSet<String>, before: DateTime) -> usize {
        let gone: Vec<String> = self
            .read()
            .by_hash
            .values()
            .filter(|s| s.created_at < before && !stored.contains(&s.token_hash))
            .map(|s| s.token_hash.clone())
            .collect();
        for hash in &gone {
            self.remove(hash);
        }
        gone.len()
    }

    pub fn len(&self) -> usize {
        self.read().by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A poisoned lock only means a panic elsewhere mid-update of plain data; keep serving.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(hash: &str, user: ObjectId, created_ms: i64) -> SessionDoc {
        SessionDoc {
            token_hash: hash.into(),
            user_id: user,
            created_at: DateTime::from_millis(created_ms),
            expires_at: DateTime::from_millis(created_ms + 1_000_000),
            last_seen_at: Some(DateTime::from_millis(created_ms)),
            previous_login_at: None,
            amr: vec!["face".into(), "pin".into()],
        }
    }

    #[test]
    fn sessions_end_one_by_one_or_all_of_a_user() {
        let (ada, bob) = (ObjectId::new(), ObjectId::new());
        let store = SessionStore::from_sessions([
            session("a1", ada, 1000),
            session("a2", ada, 1000),
            session("b1", bob, 1000),
        ]);
        assert_eq!(store.remove("a1").map(|s| s.user_id), Some(ada));
        assert!(store.get("a1").is_none());
        assert_eq!(store.remove_user(&ada), 1);
        assert!(store.get("a2").is_none());
        assert!(store.get("b1").is_some());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn last_seen_only_moves_forward() {
        let store = SessionStore::from_sessions([session("a", ObjectId::new(), 1000)]);
        store.seen("a", DateTime::from_millis(5000));
        store.seen("a", DateTime::from_millis(3000));
        let seen = store.get("a").and_then(|s| s.last_seen_at);
        assert_eq!(seen, Some(DateTime::from_millis(5000)));
    }

    #[test]
    fn expired_idle_and_unstored_sessions_are_forgotten() {
        let user = ObjectId::new();
        let store = SessionStore::from_sessions([
            session("old", user, 0),
            session("idle", user, 500_000),
            session("fresh", user, 900_000),
        ]);
        // "old" ends at 1_000_000; "idle" was last seen at 500_000.
        let forgotten =
            store.forget_expired(DateTime::from_millis(1_000_000), DateTime::from_millis(600_000));
        assert_eq!(forgotten, 2);
        assert!(store.get("fresh").is_some());

        store.insert(session("newer", user, 2_000_000));
        let stored = HashSet::new();
        assert_eq!(
            store.keep_only_stored(&stored, DateTime::from_millis(1_500_000)),
            1
        );
        assert!(store.get("fresh").is_none(), "not in the database: gone");
        assert!(store.get("newer").is_some(), "opened after the read: kept");
    }
}
