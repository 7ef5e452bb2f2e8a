//! What live checks remember between requests, in memory: issued challenges (single-use nonces),
//! proofs of passed checks waiting to be redeemed, and fingerprints of frames that already passed
//! a check (replays). Nonces and proofs live seconds and stay in memory: a nonce or proof is
//! redeemable only on the instance that issued it (docs/live.md, "Several instances"). The
//! replay memory is also written to the database and shared ([`super::replay_log`]); lookups
//! read memory only.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, seq::SliceRandom};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::LiveFailure;
pub(crate) use super::replay_log::FrameFingerprint;
use super::replay_log::{ReplayLog, ReplayMemory};
use super::settings::LiveSettings;
use crate::expiring::{Expiring, lock, random_token};
use crate::face::Encoding;
use crate::live::{Purpose, Step};

/// How long a proof of a passed check may wait to be redeemed.
pub const PROOF_TTL: Duration = Duration::from_secs(120);
/// How long fingerprints of accepted frames are kept to refuse replays.
pub const REPLAY_MEMORY: Duration = Duration::from_secs(3600);
/// Outstanding nonces at most; beyond that new checks are refused as busy.
const NONCE_CAPACITY: usize = 100_000;
/// Which path a challenge was issued for. A nonce is redeemed only on its own path: the live
/// socket's nonce is in use from the moment it is issued, an upload's when its clip arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Socket,
    Upload,
}

/// An issued challenge.
#[derive(Debug, Clone)]
pub struct IssuedChallenge {
    pub nonce: String,
    pub purpose: Purpose,
    pub channel: Channel,
    pub steps: Vec<Step>,
    pub issued_at: Instant,
    pub expires_at: Instant,
}

impl IssuedChallenge {
    pub fn expires_in(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now())
    }
}

struct NonceEntry {
    challenge: IssuedChallenge,
    used: bool,
}

/// A passed check's result: the sampled encodings, and the frames' fingerprints.
#[derive(Debug, Clone)]
pub struct PassedCheck {
    pub purpose: Purpose,
    pub encodings: Vec<Encoding>,
}

struct ProofEntry {
    check: PassedCheck,
    expires_at: Instant,
    /// How many more times it may be put back after a refusal the person can fix.
    returns_left: u8,
}

/// How often a registration proof survives a taken username or email: enough to fix a typo or
/// pick another name twice, too few to probe a list of addresses with one face check.
pub const PROOF_RETURNS: u8 = 2;

/// A proof taken for a request that may give it back ([`LiveStore::restore_proof`]).
pub struct TakenProof {
    pub(crate) check: PassedCheck,
    expires_at: Instant,
    returns_left: u8,
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct LiveStore {
    inner: Arc<Inner>,
}

struct Inner {
    settings: LiveSettings,
    nonces: Mutex<Expiring<NonceEntry>>,
    proofs: Mutex<Expiring<ProofEntry>>,
    replays: Arc<Mutex<ReplayMemory>>,
    /// Where passed frames are also written, once the database is attached.
    replay_log: std::sync::OnceLock<super::replay_log::ReplayLog>,
    sessions: Arc<Semaphore>,
}

impl LiveStore {
    /// `face_workers` sizes the default session cap.
    pub fn new(settings: LiveSettings, face_workers: usize) -> Self {
        let sessions = Arc::new(Semaphore::new(settings.session_cap(face_workers)));
        Self {
            inner: Arc::new(Inner {
                settings,
                nonces: Mutex::default(),
                proofs: Mutex::default(),
                replays: Arc::default(),
                replay_log: std::sync::OnceLock::new(),
                sessions,
            }),
        }
    }

    pub fn settings(&self) -> &LiveSettings {
        &self.inner.settings
    }

    /// A place for one live session, or `None` when all are taken.
    pub fn try_open_session(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.inner.sessions).try_acquire_owned().ok()
    }

    /// Draws a challenge (or takes the pinned one) under a fresh nonce. `None` when too many are
    /// outstanding (a flood of requests), which callers answer as busy.
    pub fn issue(&self, purpose: Purpose, channel: Channel) -> Option<IssuedChallenge> {
        let now = Instant::now();
        let challenge = IssuedChallenge {
            nonce: random_token(),
            purpose,
            channel,
            steps: self.draw_steps(),
            issued_at: now,
            expires_at: now + self.inner.settings.nonce_ttl(),
        };
        let mut nonces = lock(&self.inner.nonces);
        if nonces.entries.len() >= NONCE_CAPACITY / 2 {
            // Used entries are kept until they expire, to answer "used" rather than "unknown".
            nonces.sweep(now, |entry| entry.challenge.expires_at > now);
        }
        if nonces.entries.len() >= NONCE_CAPACITY {
            return None;
        }
        nonces.entries.insert(
            challenge.nonce.clone(),
            NonceEntry {
                challenge: challenge.clone(),
                // The socket's attempt runs on the connection that received it: the nonce can
                // never be redeemed anywhere else (an upload with it is told it was used).
                used: channel == Channel::Socket,
            },
        );
        Some(challenge)
    }

    /// Takes an upload's nonce for one attempt: it is used from now on, whatever the attempt's
    /// outcome. A socket's nonce is used from the start.
    pub fn redeem_nonce(
        &self,
        nonce: &str,
        purpose: Purpose,
        arrived: Instant,
    ) -> Result<IssuedChallenge, LiveFailure> {
        let mut nonces = lock(&self.inner.nonces);
        let entry = nonces.entries.get_mut(nonce).ok_or(LiveFailure::UnknownNonce)?;
        if entry.used {
            return Err(LiveFailure::NonceUsed);
        }
        entry.used = true;
        if entry.challenge.expires_at <= arrived {
            return Err(LiveFailure::NonceExpired);
        }
        if entry.challenge.purpose != purpose {
            return Err(LiveFailure::WrongPurpose(entry.challenge.purpose.code()));
        }
        Ok(entry.challenge.clone())
    }

    fn draw_steps(&self) -> Vec<Step> {
        let settings = &self.inner.settings;
        if let Some(fixed) = &settings.liveness_challenge {
            return fixed.clone();
        }
        let mut rng = rand::thread_rng();
        let mut steps: Vec<Step> = Vec::with_capacity(settings.liveness_step_count);
        while steps.len() < settings.liveness_step_count {
            let choices: Vec<Step> = settings
                .liveness_steps
                .iter()
                .copied()
                .filter(|s| steps.last() != Some(s))
                .collect();
            match choices.choose(&mut rng) {
                Some(&step) => steps.push(step),
                None => break, // validated at start-up: never with two or more steps
            }
        }
        if steps.is_empty() {
            steps.push(Step::ALL[rng.gen_range(0..Step::ALL.len())]);
        }
        steps
    }

    /// Was any of these frames part of a check that already passed?
    pub fn is_replay(&self, print: &FrameFingerprint) -> bool {
        lock(&self.inner.replays).contains(print)
    }

    /// Remembers a passed check's frames, so that replaying them fails, here at once and, once
    /// written to the database, on every instance and after a restart.
    pub fn remember_passed_frames(&self, prints: &[FrameFingerprint]) {
        lock(&self.inner.replays).remember(prints, Instant::now() + REPLAY_MEMORY);
        if let Some(log) = self.inner.replay_log.get() {
            log.write(prints.to_vec(), REPLAY_MEMORY);
        }
    }

    /// Shares the replay memory through the database: loads what is remembered there now and
    /// follows what other instances add (see [`super::replay_log`]). Call once at start-up.
    pub async fn share_replays(
        &self,
        db: crate::db::Db,
        background: &crate::background::Background,
    ) -> mongodb::error::Result<()> {
        let log = ReplayLog::start(db, Arc::clone(&self.inner.replays), background).await?;
        let _ = self.inner.replay_log.set(log);
        Ok(())
    }

    /// Keeps a passed check until it is redeemed; returns its single-use proof token.
    pub fn mint_proof(&self, check: PassedCheck) -> String {
        let now = Instant::now();
        let proof = random_token();
        let mut proofs = lock(&self.inner.proofs);
        proofs.sweep(now, |entry| entry.expires_at > now);
        proofs.entries.insert(
            proof.clone(),
            ProofEntry {
                check,
                expires_at: now + PROOF_TTL,
                returns_left: PROOF_RETURNS,
            },
        );
        proof
    }

    /// Takes a proof (single use). Put it back with [`LiveStore::restore_proof`] when the
    /// request failed for a reason the person can fix without a new check (a taken username).
    pub(crate) fn take_proof(&self, proof: &str, purpose: Purpose) -> Result<PassedCheck, LiveFailure> {
        self.take_returnable_proof(proof, purpose)
            .map(|taken| taken.check)
    }

    /// [`Self::take_proof`], keeping what [`Self::restore_proof`] needs.
    pub(crate) fn take_returnable_proof(
        &self,
        proof: &str,
        purpose: Purpose,
    ) -> Result<TakenProof, LiveFailure> {
        let mut proofs = lock(&self.inner.proofs);
        let entry = proofs.entries.remove(proof).ok_or(LiveFailure::UnknownProof)?;
        if entry.expires_at <= Instant::now() {
            return Err(LiveFailure::NonceExpired);
        }
        if entry.check.purpose != purpose {
            let wanted = entry.check.purpose.code();
            proofs.entries.insert(proof.to_string(), entry);
            return Err(LiveFailure::WrongPurpose(wanted));
        }
        Ok(TakenProof {
            check: entry.check,
            expires_at: entry.expires_at,
            returns_left: entry.returns_left,
        })
    }

    /// Puts a proof back after a refusal the person can fix, with the lifetime it had (never
    /// renewed) and one return fewer; returns whether it was put back (false: no returns left,
    /// a new face check is needed).
    pub(crate) fn restore_proof(&self, proof: &str, taken: TakenProof) -> bool {
        if taken.returns_left == 0 {
            return false;
        }
        lock(&self.inner.proofs).entries.insert(
            proof.to_string(),
            ProofEntry {
                check: taken.check,
                expires_at: taken.expires_at,
                returns_left: taken.returns_left - 1,
            },
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiring::SWEEP_EVERY;
    use std::collections::HashSet;

    fn store(settings: LiveSettings) -> LiveStore {
        LiveStore::new(settings, 2)
    }

    #[test]
    fn challenges_are_random_without_repeats_and_single_use() {
        let store = store(LiveSettings::default());
        let mut distinct = HashSet::new();
        for _ in 0..200 {
            let challenge = store.issue(Purpose::Login, Channel::Upload).expect("issued");
            assert_eq!(challenge.steps.len(), 2);
            assert_ne!(challenge.steps[0], challenge.steps[1]);
            distinct.insert(challenge.steps.clone());
        }
        // 4 steps, 2 in a row, no repeat: 12 sequences; 200 draws find nearly all.
        assert!(distinct.len() >= 10, "{distinct:?}");

        let challenge = store.issue(Purpose::Login, Channel::Upload).expect("issued");
        assert!(
            store
                .redeem_nonce(&challenge.nonce, Purpose::Login, Instant::now())
                .is_ok()
        );
        assert_eq!(
            store
                .redeem_nonce(&challenge.nonce, Purpose::Login, Instant::now())
                .err(),
            Some(LiveFailure::NonceUsed)
        );
        assert_eq!(
            store
                .redeem_nonce("made-up", Purpose::Login, Instant::now())
                .err(),
            Some(LiveFailure::UnknownNonce)
        );
        let other = store.issue(Purpose::Register, Channel::Upload).expect("issued");
        assert_eq!(
            store
                .redeem_nonce(&other.nonce, Purpose::Login, Instant::now())
                .err(),
            Some(LiveFailure::WrongPurpose("register"))
        );
    }

    #[test]
    fn a_socket_nonce_cannot_be_redeemed_by_an_upload() {
        let store = store(LiveSettings::default());
        let socket = store.issue(Purpose::Login, Channel::Socket).expect("issued");
        assert_eq!(
            store
                .redeem_nonce(&socket.nonce, Purpose::Login, Instant::now())
                .err(),
            Some(LiveFailure::NonceUsed)
        );
    }

    #[test]
    fn a_pinned_challenge_is_always_asked() {
        let settings = LiveSettings {
            liveness_challenge: Some(vec![Step::Blink, Step::TurnRight, Step::Blink]),
            ..LiveSettings::default()
        };
        let store = store(settings);
        for _ in 0..5 {
            assert_eq!(
                store
                    .issue(Purpose::Login, Channel::Upload)
                    .expect("issued")
                    .steps,
                vec![Step::Blink, Step::TurnRight, Step::Blink]
            );
        }
    }

    #[test]
    fn proofs_are_single_use_and_bound_to_a_purpose() {
        let store = store(LiveSettings::default());
        let check = PassedCheck {
            purpose: Purpose::Register,
            encodings: vec![],
        };
        let proof = store.mint_proof(check.clone());
        assert_eq!(
            store.take_proof(&proof, Purpose::Login).err(),
            Some(LiveFailure::WrongPurpose("register"))
        );
        let taken = store
            .take_returnable_proof(&proof, Purpose::Register)
            .expect("proof");
        let expires_at = taken.expires_at;
        assert!(store.take_proof(&proof, Purpose::Register).is_err());
        // Put back at most PROOF_RETURNS times, never with a longer life.
        let mut taken = taken;
        for _ in 0..PROOF_RETURNS {
            assert!(store.restore_proof(&proof, taken));
            taken = store
                .take_returnable_proof(&proof, Purpose::Register)
                .expect("proof");
            assert_eq!(taken.expires_at, expires_at);
        }
        assert!(!store.restore_proof(&proof, taken));
        assert!(store.take_proof(&proof, Purpose::Register).is_err());
    }

    #[test]
    fn expiring_maps_are_swept_at_most_once_a_second() {
        let start = Instant::now();
        let mut map = Expiring::default();
        map.entries.insert("a".to_string(), 1);
        map.sweep(start, |_| false);
        assert!(map.entries.is_empty());
        map.entries.insert("b".to_string(), 2);
        map.sweep(start + Duration::from_millis(500), |_| false);
        assert_eq!(map.entries.len(), 1, "too soon for another sweep");
        map.sweep(start + SWEEP_EVERY, |_| false);
        assert!(map.entries.is_empty());
    }

    #[test]
    fn passed_frames_are_remembered() {
        let store = store(LiveSettings::default());
        let (a, b) = ([1; 32], [2; 32]);
        store.remember_passed_frames(&[a]);
        assert!(store.is_replay(&a));
        assert!(!store.is_replay(&b));
    }

    #[test]
    fn the_default_cap_follows_the_face_workers() {
        let settings = LiveSettings::default();
        assert_eq!(settings.session_cap(2), 8);
        assert_eq!(settings.session_cap(0), 4);
        let fixed = LiveSettings {
            live_max_sessions: 3,
            ..LiveSettings::default()
        };
        assert_eq!(fixed.session_cap(16), 3);
    }

    #[test]
    fn sessions_are_capped() {
        let store = store(LiveSettings {
            live_max_sessions: 2,
            ..LiveSettings::default()
        });
        let first = store.try_open_session().expect("one");
        let _second = store.try_open_session().expect("two");
        assert!(store.try_open_session().is_none());
        drop(first);
        assert!(store.try_open_session().is_some());
    }
}
