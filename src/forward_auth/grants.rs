//! Forward-auth grants: the random token of a browser's forward-auth cookie (by its SHA-256)
//! → the facegate session it was minted from. Held in memory: a proxy asks on every request
//! to a guarded application, and that answer must not wait for the database. A grant is only
//! as good as its session: each check looks the session up ([`crate::accounts::ssr::session`]),
//! so logout, expiry, "sign out everywhere" and account deletion end it at once; a sweep then
//! forgets grants whose session is gone.
//!
//! Not stored: after a restart, or on another instance, the cookie is unknown and the browser
//! is sent through facegate's login once more, which — still signed in — mints a new grant
//! without asking for the face (docs/forward-auth.md).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::Duration,
};

use mongodb::bson::oid::ObjectId;

use crate::accounts::ssr::{SessionStore, SessionToken};

/// How often grants of ended sessions are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What a forward-auth cookie stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub(crate) session_hash: String,
    pub(crate) user_id: ObjectId,
    /// Read from the database when the grant was minted: the hot path reads no database.
    pub(crate) email: String,
    /// The cookie's `Domain`.
    pub(crate) domain: String,
}

#[derive(Clone, Default)]
pub struct ForwardGrants {
    inner: Arc<RwLock<HashMap<String, Grant>>>,
}

impl ForwardGrants {
    /// A new grant; returns the token for the cookie (only its hash is kept). The session's
    /// earlier grant for the same domain is replaced, so one session holds at most one grant
    /// per domain however often it passes through.
    pub fn mint(&self, grant: Grant) -> SessionToken {
        let token = SessionToken::generate();
        let mut grants = self.write();
        grants.retain(|_, g| g.session_hash != grant.session_hash || g.domain != grant.domain);
        grants.insert(token.hash(), grant);
        token
    }

    pub fn get(&self, token: &SessionToken) -> Option<Grant> {
        self.read().get(&token.hash()).cloned()
    }

    pub fn remove(&self, token: &SessionToken) {
        self.write().remove(&token.hash());
    }

    /// Forgets the grants whose session no longer exists; returns how many.
    pub fn forget_ended(&self, sessions: &SessionStore) -> usize {
        let mut grants = self.write();
        let before = grants.len();
        grants.retain(|_, g| sessions.contains(&g.session_hash));
        before - grants.len()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs [`Self::forget_ended`] every minute until shutdown.
    pub fn sweep_in_background(&self, sessions: SessionStore, background: &crate::background::Background) {
        let grants = self.clone();
        background.every("forward-auth grant sweep", SWEEP_EVERY, move || {
            let forgotten = grants.forget_ended(&sessions);
            if forgotten > 0 {
                tracing::debug!(forgotten, "forward-auth grants of ended sessions forgotten");
            }
            std::future::ready(())
        });
    }

    // A poisoned lock only means a panic elsewhere mid-update of plain data; keep serving.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Grant>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, Grant>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sessions::SessionDoc;
    use mongodb::bson::DateTime;

    fn grant(session: &str, domain: &str) -> Grant {
        Grant {
            session_hash: session.into(),
            user_id: ObjectId::new(),
            email: "ada@example.test".into(),
            domain: domain.into(),
        }
    }

    #[test]
    fn a_grant_is_found_by_its_token_only_and_replaced_per_domain() {
        let grants = ForwardGrants::default();
        let first = grants.mint(grant("s1", "example.test"));
        assert_eq!(grants.get(&first).map(|g| g.session_hash), Some("s1".into()));
        assert_eq!(grants.get(&SessionToken::from_cookie("guess")), None);
        let other_domain = grants.mint(grant("s1", "example.org"));
        let second = grants.mint(grant("s1", "example.test"));
        assert_eq!(grants.get(&first), None, "replaced by the newer grant");
        assert!(grants.get(&second).is_some());
        assert!(grants.get(&other_domain).is_some());
        grants.remove(&second);
        assert_eq!(grants.len(), 1);
    }

    #[test]
    fn grants_of_ended_sessions_are_forgotten() {
        let now = DateTime::now();
        let live = SessionDoc {
            token_hash: "live".into(),
            user_id: ObjectId::new(),
            created_at: now,
            expires_at: now,
            last_seen_at: None,
            previous_login_at: None,
            amr: vec!["face".into(), "pin".into()],
        };
        let sessions = SessionStore::from_sessions([live]);
        let grants = ForwardGrants::default();
        let kept = grants.mint(grant("live", "example.test"));
        grants.mint(grant("ended", "example.test"));
        assert_eq!(grants.forget_ended(&sessions), 1);
        assert!(grants.get(&kept).is_some());
    }
}
