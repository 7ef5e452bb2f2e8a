//! The second factor after the face: the PIN, its hash, and the locks against guessing.
//!
//! A face match opens a login *ticket* (in memory, single-use, two minutes) naming the account —
//! or, when two enrolled people are near-equally close, both; the PIN then says which. Wrong PINs
//! are counted in the database (`db::pin_locks`), so the locks hold across restarts and instances
//! (docs/security.md, "The lock"):
//!
//! - per **client** (address, IPv6 by /64) and account: after [`LOCK_AFTER`] wrong PINs in a row
//!   that client waits [`FIRST_LOCK`], doubling with every further wrong PIN up to
//!   [`LONGEST_LOCK`]. Only the guessing client waits: the owner elsewhere does not.
//! - per **account**, all clients together: [`DAILY_GUESSES`] wrong PINs per [`GUESS_WINDOW`].
//!   Past that, only clients the account registered or signed in from (its history) may still
//!   try, so many addresses do not buy many guesses; a passkey always works.
//!
//! One check per client and account runs at a time on all instances (a lease in the same
//! document), and one per ticket (a flag on the ticket), so parallel requests cannot race past a
//! lock or use up a ticket's tries.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use mongodb::bson::{DateTime, oid::ObjectId};

use super::ClientMeta;
use crate::{db::pin_locks::Reservation, error::AppError, expiring::Expiring};

use super::Accounts;

/// Wrong PINs in a row from one client before that client is locked out of the account.
pub(crate) const LOCK_AFTER: u32 = 5;
/// The first lock; each wrong PIN after it doubles the wait.
pub(crate) const FIRST_LOCK: Duration = Duration::from_secs(30);
/// A lock never lasts longer than this.
pub(crate) const LONGEST_LOCK: Duration = Duration::from_secs(3600);
/// Wrong PINs an account takes per [`GUESS_WINDOW`] from all clients together; past it only
/// clients from its own history may try (docs/security.md: the guesses per day this allows).
pub(crate) const DAILY_GUESSES: u32 = 10;
pub(crate) const GUESS_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// How long a PIN check may hold its client's lease: an instance that dies mid-check frees it
/// after this (its attempt stays counted).
const CHECK_LEASE: Duration = Duration::from_secs(30);
/// How long a ticket waits for its PIN.
pub(crate) const TICKET_TTL: Duration = Duration::from_secs(120);
/// PINs one ticket may try before the person must show their face again.
pub(crate) const TRIES_PER_TICKET: u8 = 3;

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
pub(crate) fn lock_duration(failures: u32) -> Option<Duration> {
    let extra = failures.checked_sub(LOCK_AFTER)?;
    let factor = 1u32.checked_shl(extra.min(31)).unwrap_or(u32::MAX);
    Some(FIRST_LOCK.saturating_mul(factor).min(LONGEST_LOCK))
}

/// Time left until `until`, if it is still ahead.
fn remaining(until: DateTime) -> Option<Duration> {
    let left = until.timestamp_millis() - DateTime::now().timestamp_millis();
    (left > 0).then(|| Duration::from_millis(left as u64))
}

/// "42 seconds", "3 minutes".
pub(crate) fn readable_wait(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    match secs {
        1 => "1 second".into(),
        2..=119 => format!("{secs} seconds"),
        120..=7199 => format!("{} minutes", secs.div_ceil(60)),
        _ => format!("{} hours", secs.div_ceil(3600)),
    }
}

pub(crate) fn locked_error(wait: Duration) -> AppError {
    AppError::RetryLater {
        code: "pin_locked",
        message: format!(
            "Too many wrong PINs for this account. Try again in {}, or use your passkey.",
            readable_wait(wait)
        ),
        retry_after: wait,
    }
}

/// The account's day budget of wrong PINs is spent and this client is not one it knows.
pub(crate) fn daily_budget_spent(wait: Duration) -> AppError {
    AppError::RetryLater {
        code: "pin_locked",
        message: format!(
            "Too many wrong PINs for this account today. Try again in {}, from a place you signed in from before, or use your passkey.",
            readable_wait(wait)
        ),
        retry_after: wait,
    }
}

/// A face that passed, waiting for its PIN.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    /// The matched account first, then a near-equal runner-up if any.
    pub(crate) candidates: Vec<ObjectId>,
    pub(crate) tries_left: u8,
    pub(crate) expires_at: Instant,
    /// A PIN of this ticket is being checked now.
    pub(crate) checking: bool,
}

/// Open tickets, in memory: a ticket lives two minutes and is redeemed on the instance that
/// issued it (like a live-check proof).
#[derive(Clone, Default)]
pub(crate) struct LoginTickets {
    tickets: Arc<Mutex<Expiring<Ticket>>>,
}

fn expired() -> AppError {
    AppError::Unauthorized("This login has expired. Show your face again to log in.".into())
}

impl LoginTickets {
    pub(crate) fn issue(&self, candidates: Vec<ObjectId>) -> String {
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
                checking: false,
            },
        );
        ticket
    }

    /// Takes a ticket (single use), unless a PIN of it is being checked.
    pub(crate) fn take(&self, ticket: &str) -> Result<Ticket, AppError> {
        let mut tickets = crate::expiring::lock(&self.tickets);
        if tickets.entries.get(ticket).is_some_and(|t| t.checking) {
            return Err(check_running());
        }
        match tickets.entries.remove(ticket) {
            Some(t) if t.expires_at > Instant::now() => Ok(t),
            _ => Err(expired()),
        }
    }

    /// The accounts of a live ticket for one PIN check, marking it as being checked: a second
    /// PIN for the same ticket meanwhile is refused without using up a try. The check ends with
    /// [`PinCheckTicket::spend`] (a wrong PIN), [`PinCheckTicket::redeem`] (signed in), or drop
    /// (no PIN was tried: the ticket is as it was).
    pub(crate) fn begin_check(&self, ticket: &str) -> Result<PinCheckTicket, AppError> {
        let mut tickets = crate::expiring::lock(&self.tickets);
        match tickets.entries.get_mut(ticket) {
            Some(t) if t.checking => Err(check_running()),
            Some(t) if t.expires_at > Instant::now() => {
                t.checking = true;
                Ok(PinCheckTicket {
                    tickets: self.tickets.clone(),
                    ticket: ticket.to_string(),
                    candidates: t.candidates.clone(),
                })
            }
            _ => Err(expired()),
        }
    }

    /// The accounts a live ticket names, leaving it in place.
    pub(crate) fn candidates(&self, ticket: &str) -> Result<Vec<ObjectId>, AppError> {
        match crate::expiring::lock(&self.tickets).entries.get(ticket) {
            Some(t) if t.expires_at > Instant::now() => Ok(t.candidates.clone()),
            _ => Err(expired()),
        }
    }
}

fn check_running() -> AppError {
    AppError::RetryLater {
        code: "pin_check_running",
        message: "A PIN for this login is being checked already. Try again in a moment.".into(),
        retry_after: Duration::from_secs(1),
    }
}

/// A ticket being checked (see [`LoginTickets::begin_check`]).
pub(crate) struct PinCheckTicket {
    tickets: Arc<Mutex<Expiring<Ticket>>>,
    ticket: String,
    pub(crate) candidates: Vec<ObjectId>,
}

impl PinCheckTicket {
    /// A wrong PIN used one try; returns the tries left (at 0 the ticket is gone).
    pub(crate) fn spend(self) -> u8 {
        let mut tickets = crate::expiring::lock(&self.tickets);
        let Some(entry) = tickets.entries.get_mut(&self.ticket) else {
            return 0;
        };
        entry.tries_left = entry.tries_left.saturating_sub(1);
        entry.checking = false;
        let left = entry.tries_left;
        if left == 0 {
            tickets.entries.remove(&self.ticket);
        }
        left
    }

    /// The ticket is used up (signed in).
    pub(crate) fn redeem(self) {
        crate::expiring::lock(&self.tickets).entries.remove(&self.ticket);
    }
}

impl Drop for PinCheckTicket {
    fn drop(&mut self) {
        if let Some(entry) = crate::expiring::lock(&self.tickets).entries.get_mut(&self.ticket) {
            entry.checking = false;
        }
    }
}

/// What checking a PIN against the ticket's accounts found.
pub(crate) enum PinCheck {
    /// The PIN belongs to this account, and to no other of the ticket.
    Confirmed(ObjectId),
    /// Wrong for every account of the ticket; the lock this client earned, if any.
    Wrong { locked_for: Option<Duration> },
    /// Right for both accounts of an ambiguous ticket: it cannot tell them apart.
    Shared,
    /// This client is locked out of the ticket's accounts for this long.
    Locked(Duration),
    /// The account's day budget is spent and this client is not one it knows.
    BudgetSpent(Duration),
    /// Another PIN check of this client for these accounts is running (on some instance).
    Busy,
}

/// The key of a ticket's accounts in `pin_locks`: one id, or both ids of an ambiguous ticket
/// joined by `+` (sorted), so its guesses never count against either account alone.
pub(crate) fn subject_key(candidates: &[ObjectId]) -> String {
    let mut ids: Vec<String> = candidates.iter().map(|id| id.to_hex()).collect();
    ids.sort();
    ids.join("+")
}

/// The client as the locks see it: its address, IPv6 by /64 (one subscriber's network).
pub(crate) fn client_key(address: Option<&str>) -> String {
    match address.and_then(|a| a.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
        Some(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(String::new, |v4| v4.to_string()),
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// Whether the ticket's accounts registered or signed in from this client (their history: kept
/// `audit-retention-days`). Read only when the day budget is spent.
async fn known_client(accounts: &Accounts, candidates: &[ObjectId], client: &str) -> Result<bool, AppError> {
    use futures::TryStreamExt;
    let mut entries = accounts
        .db
        .audit()
        .clone_with_type::<mongodb::bson::Document>()
        .find(mongodb::bson::doc! {
            "user_id": { "$in": candidates.to_vec() },
            "event": { "$in": ["registered", "signed_in"] },
        })
        .projection(mongodb::bson::doc! { "client_address": 1 })
        .await?;
    while let Some(entry) = entries.try_next().await? {
        if client_key(entry.get_str("client_address").ok()) == client {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Checks `pin` against each candidate's hash (`hashes`: account and its PHC string) for a
/// request from `client`, honouring and updating the locks. Every candidate's hash is tried,
/// so a PIN two accounts share never signs in either.
pub(crate) async fn check_pin(
    accounts: &Accounts,
    pin: &str,
    hashes: &[(ObjectId, String)],
    client: &ClientMeta,
) -> Result<PinCheck, AppError> {
    let ids: Vec<ObjectId> = hashes.iter().map(|(id, _)| *id).collect();
    let subject = subject_key(&ids);
    let client = client_key(client.address.as_deref());
    let key = format!("{subject}@{client}");
    let lease = crate::expiring::random_token();
    let db = &accounts.db;
    let failures = match db.reserve_pin_check(&key, &ids, &lease, CHECK_LEASE).await? {
        Reservation::Granted { failures } => failures,
        Reservation::Busy => return Ok(PinCheck::Busy),
        Reservation::Locked(until) => {
            return Ok(remaining(until).map_or(PinCheck::Busy, PinCheck::Locked));
        }
    };
    let counted = db
        .count_daily_guess(&subject, &ids, GUESS_WINDOW, DAILY_GUESSES)
        .await?
        .is_some();
    if !counted && !known_client(accounts, &ids, &client).await? {
        db.release_unchecked(&key, &lease).await?;
        let window = db.daily_guesses(&subject).await?;
        let ends = window
            .and_then(|w| w.window_start)
            .map(|start| DateTime::from_millis(start.timestamp_millis() + GUESS_WINDOW.as_millis() as i64));
        return Ok(PinCheck::BudgetSpent(
            ends.and_then(remaining).unwrap_or(FIRST_LOCK),
        ));
    }
    let mut matching = Vec::new();
    for (id, hash) in hashes {
        if pin_matches(pin, hash).await {
            matching.push(*id);
        }
    }
    match matching[..] {
        [id] => {
            db.release_right_pin(&key, &lease).await?;
            if counted {
                db.uncount_daily_guess(&subject).await?;
            }
            Ok(PinCheck::Confirmed(id))
        }
        [] => {
            let locked_for = lock_duration(failures);
            db.release_wrong_pin(&key, &lease, locked_for).await?;
            Ok(PinCheck::Wrong { locked_for })
        }
        _ => {
            db.release_unchecked(&key, &lease).await?;
            if counted {
                db.uncount_daily_guess(&subject).await?;
            }
            Ok(PinCheck::Shared)
        }
    }
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
        assert_eq!(readable_wait(Duration::from_secs(20 * 3600)), "20 hours");
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
    fn a_ticket_is_checked_once_at_a_time_and_only_a_wrong_pin_uses_a_try() {
        let tickets = LoginTickets::default();
        let id = ObjectId::new();
        let ticket = tickets.issue(vec![id]);
        let check = tickets.begin_check(&ticket).expect("issued");
        assert_eq!(check.candidates, [id]);
        for second in [tickets.begin_check(&ticket).err(), tickets.take(&ticket).err()] {
            assert!(
                matches!(
                    second,
                    Some(AppError::RetryLater {
                        code: "pin_check_running",
                        ..
                    })
                ),
                "a second PIN meanwhile is refused"
            );
        }
        drop(check);
        // Nothing was tried: all tries are left.
        for left in (0..TRIES_PER_TICKET).rev() {
            assert_eq!(tickets.begin_check(&ticket).expect("still there").spend(), left);
        }
        assert!(matches!(
            tickets.begin_check(&ticket),
            Err(AppError::Unauthorized(_))
        ));
        let other = tickets.issue(vec![id]);
        tickets.begin_check(&other).expect("issued").redeem();
        assert!(tickets.take(&other).is_err(), "single use");
    }

    #[test]
    fn clients_are_keyed_by_address_ipv6_by_64() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            client_key(Some("2001:db8:1:2:ffff:1:2:3")),
            client_key(Some("2001:db8:1:2::9"))
        );
        assert_ne!(
            client_key(Some("2001:db8:1:3::1")),
            client_key(Some("2001:db8:1:2::1"))
        );
        assert_eq!(client_key(Some("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(client_key(None), "unknown");
        let (a, b) = (ObjectId::new(), ObjectId::new());
        assert_eq!(subject_key(&[a, b]), subject_key(&[b, a]));
        assert_eq!(subject_key(&[a]), a.to_hex());
    }
}
