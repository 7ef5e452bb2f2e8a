//! The second factor after the face: the PIN, its hash, and the per-account lock.
//!
//! A face match opens a login *ticket* (in memory, single-use, two minutes) naming the account —
//! or, when two enrolled people are near-equally close, both; the PIN then says which. Each wrong
//! PIN is counted per account in the database, so the lock holds across restarts and instances:
//! after [`LOCK_AFTER`] wrong PINs in a row the account waits [`FIRST_LOCK`], doubling with every
//! further wrong PIN up to [`LONGEST_LOCK`] (in the spirit of kanidm's soft-lock). A good PIN
//! clears the count.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use mongodb::bson::{DateTime, oid::ObjectId};

use crate::{db::pin_locks::PinLockDoc, error::AppError, expiring::Expiring, state::AppState};

/// Wrong PINs in a row before the account locks.
pub const LOCK_AFTER: u32 = 5;
/// The first lock; each wrong PIN after it doubles the wait.
pub const FIRST_LOCK: Duration = Duration::from_secs(30);
/// A lock never lasts longer than this, so the owner is never shut out for days by a stranger.
pub const LONGEST_LOCK: Duration = Duration::from_secs(3600);
/// How long a ticket waits for its PIN.
pub const TICKET_TTL: Duration = Duration::from_secs(120);
/// PINs one ticket may try before the person must show their face again.
pub const TRIES_PER_TICKET: u8 = 3;

/// Hashes a PIN with Argon2id (OWASP's parameters: 19 MiB, 2 passes) off the async workers.
pub async fn hash_pin(pin: &str) -> Result<String, AppError> {
    let pin = pin.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Internal(format!("hashing a PIN: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("PIN hashing task: {e}")))?
}

/// Whether `pin` matches the stored hash. An unreadable hash counts as no match (and is logged).
async fn pin_matches(pin: &str, stored: &str) -> bool {
    let (pin, stored) = (pin.to_string(), stored.to_string());
    let verified = tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
        Ok(hash) => Argon2::default().verify_password(pin.as_bytes(), &hash).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored PIN hash cannot be read");
            false
        }
    })
    .await;
    verified.unwrap_or(false)
}

/// How long the account stays locked after `failures` wrong PINs in a row, from the last one.
pub fn lock_duration(failures: u32) -> Option<Duration> {
    let extra = failures.checked_sub(LOCK_AFTER)?;
    let factor = 1u32.checked_shl(extra.min(31)).unwrap_or(u32::MAX);
    Some(FIRST_LOCK.saturating_mul(factor).min(LONGEST_LOCK))
}

/// Time left on a lock, if the account is locked now.
pub fn lock_remaining(lock: &PinLockDoc) -> Option<Duration> {
    let duration = lock_duration(lock.failures)?;
    let until = lock.last_failure_at.timestamp_millis() + duration.as_millis() as i64;
    let left = until - DateTime::now().timestamp_millis();
    (left > 0).then(|| Duration::from_millis(left as u64))
}

/// "42 seconds", "3 minutes".
pub fn readable_wait(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    match secs {
        1 => "1 second".into(),
        2..=119 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

pub fn locked_error(wait: Duration) -> AppError {
    AppError::RetryLater {
        code: "pin_locked",
        message: format!(
            "Too many wrong PINs for this account. Try again in {}.",
            readable_wait(wait)
        ),
        retry_after: wait,
    }
}

/// A face that passed, waiting for its PIN.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// The matched account first, then a near-equal runner-up if any.
    pub candidates: Vec<ObjectId>,
    pub tries_left: u8,
    pub expires_at: Instant,
}

/// Open tickets and the accounts whose PIN is being checked right now, in memory: a ticket lives
/// two minutes and is redeemed on the instance that issued it (like a live-check proof).
#[derive(Clone, Default)]
pub struct LoginTickets {
    tickets: Arc<Mutex<Expiring<Ticket>>>,
    checking: Arc<Mutex<HashSet<ObjectId>>>,
}

impl LoginTickets {
    pub fn issue(&self, candidates: Vec<ObjectId>) -> String {
        let ticket = crate::expiring::random_token();
        let now = Instant::now();
        let mut tickets = crate::expiring::lock(&self.tickets);
        tickets.sweep(now, |t| t.expires_at > now);
        tickets.entries.insert(
            ticket.clone(),
            Ticket {
                candidates,
                tries_left: TRIES_PER_TICKET,
                expires_at: now + TICKET_TTL,
            },
        );
        ticket
    }

    /// Takes a ticket (single use); [`LoginTickets::give_back`] returns it after a wrong PIN.
    pub fn take(&self, ticket: &str) -> Result<Ticket, AppError> {
        let taken = crate::expiring::lock(&self.tickets).entries.remove(ticket);
        match taken {
            Some(t) if t.expires_at > Instant::now() => Ok(t),
            _ => Err(AppError::Unauthorized(
                "This login has expired. Show your face again to log in.".into(),
            )),
        }
    }

    /// The accounts a live ticket names, leaving it in place.
    pub fn candidates(&self, ticket: &str) -> Result<Vec<ObjectId>, AppError> {
        match crate::expiring::lock(&self.tickets).entries.get(ticket) {
            Some(t) if t.expires_at > Instant::now() => Ok(t.candidates.clone()),
            _ => Err(AppError::Unauthorized(
                "This login has expired. Show your face again to log in.".into(),
            )),
        }
    }

    pub fn give_back(&self, ticket: &str, mut entry: Ticket) -> u8 {
        entry.tries_left = entry.tries_left.saturating_sub(1);
        if entry.tries_left > 0 {
            crate::expiring::lock(&self.tickets)
                .entries
                .insert(ticket.to_string(), entry.clone());
        }
        entry.tries_left
    }

    /// Marks the accounts as being checked; `None` if one already is (on this instance): one PIN
    /// check per account at a time, so parallel guesses cannot race past the lock.
    pub fn start_checking(&self, accounts: &[ObjectId]) -> Option<CheckingGuard> {
        let mut checking = crate::expiring::lock(&self.checking);
        if accounts.iter().any(|id| checking.contains(id)) {
            return None;
        }
        checking.extend(accounts.iter().copied());
        Some(CheckingGuard {
            set: self.checking.clone(),
            accounts: accounts.to_vec(),
        })
    }
}

/// Clears the "being checked" marks when dropped, whatever way the check ended.
pub struct CheckingGuard {
    set: Arc<Mutex<HashSet<ObjectId>>>,
    accounts: Vec<ObjectId>,
}

impl Drop for CheckingGuard {
    fn drop(&mut self) {
        let mut set = crate::expiring::lock(&self.set);
        for id in &self.accounts {
            set.remove(id);
        }
    }
}

/// What checking a PIN against the ticket's accounts found.
pub enum PinCheck {
    /// The PIN belongs to this account (its failures are cleared).
    Confirmed(ObjectId),
    /// Wrong for every unlocked account; the worst lock now in force, if any.
    Wrong {
        locked_for: Option<Duration>,
        refused: Vec<ObjectId>,
    },
    /// Every account is locked.
    Locked(Duration),
}

/// Checks `pin` against each candidate's hash (`hashes`: account and its PIN hash), honouring
/// and updating the locks.
pub async fn check_pin(
    state: &AppState,
    pin: &str,
    hashes: &[(ObjectId, String)],
) -> Result<PinCheck, AppError> {
    let mut unlocked = Vec::new();
    let mut shortest_lock: Option<Duration> = None;
    for (id, hash) in hashes {
        let lock = state.db.pin_lock(*id).await?;
        match lock.as_ref().and_then(lock_remaining) {
            Some(left) => shortest_lock = Some(shortest_lock.map_or(left, |s| s.min(left))),
            None => unlocked.push((*id, hash, lock.is_some())),
        }
    }
    if unlocked.is_empty() {
        return Ok(PinCheck::Locked(shortest_lock.unwrap_or(FIRST_LOCK)));
    }
    for (id, hash, had_failures) in &unlocked {
        if pin_matches(pin, hash).await {
            if *had_failures {
                state.db.clear_pin_failures(*id).await?;
            }
            return Ok(PinCheck::Confirmed(*id));
        }
    }
    let mut locked_for = None;
    for (id, _, _) in &unlocked {
        let counted = state.db.record_pin_failure(*id).await?;
        if let Some(lock) = counted.as_ref().and_then(|l| lock_duration(l.failures)) {
            locked_for = Some(locked_for.map_or(lock, |l: Duration| l.max(lock)));
        }
    }
    Ok(PinCheck::Wrong {
        locked_for,
        refused: unlocked.iter().map(|(id, _, _)| *id).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_starts_at_the_fifth_failure_and_doubles() {
        assert_eq!(lock_duration(4), None);
        assert_eq!(lock_duration(5), Some(Duration::from_secs(30)));
        assert_eq!(lock_duration(6), Some(Duration::from_secs(60)));
        assert_eq!(lock_duration(8), Some(Duration::from_secs(240)));
        assert_eq!(lock_duration(12), Some(LONGEST_LOCK));
        assert_eq!(lock_duration(500), Some(LONGEST_LOCK));
    }

    #[test]
    fn waits_read_naturally() {
        assert_eq!(readable_wait(Duration::from_secs(30)), "30 seconds");
        assert_eq!(readable_wait(Duration::from_millis(300)), "1 second");
        assert_eq!(readable_wait(Duration::from_secs(240)), "4 minutes");
    }

    #[tokio::test]
    async fn pins_hash_and_verify() {
        let hash = hash_pin("583920").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(pin_matches("583920", &hash).await);
        assert!(!pin_matches("583921", &hash).await);
        assert!(!pin_matches("583920", "not a hash").await);
    }

    #[test]
    fn tickets_are_single_use_with_limited_tries() {
        let tickets = LoginTickets::default();
        let id = ObjectId::new();
        let ticket = tickets.issue(vec![id]);
        let entry = tickets.take(&ticket).expect("issued");
        assert!(tickets.take(&ticket).is_err(), "single use");
        assert_eq!(tickets.give_back(&ticket, entry), TRIES_PER_TICKET - 1);
        let entry = tickets.take(&ticket).expect("given back");
        let guard = tickets.start_checking(&entry.candidates).expect("free");
        assert!(
            tickets.start_checking(&[id]).is_none(),
            "one check per account at a time"
        );
        drop(guard);
        assert!(tickets.start_checking(&[id]).is_some());
    }
}
