//! The server side of the live check: landmark [`signals`], the per-attempt [`verifier`], the
//! in-memory [`store`] of nonces, proofs and replay fingerprints, and [`attempt`], which runs
//! frames through the face engine and the verifier for the live socket and uploaded clips alike.

pub(crate) mod attempt;
pub mod continuity;
pub(crate) mod replay_log;
pub(crate) mod settings;
pub mod signals;
pub(crate) mod store;
pub mod verifier;

pub(crate) use attempt::Arrival;
pub use attempt::{AttemptError, FrameOutcome, LiveAttempt};
pub use settings::LiveSettings;
pub use store::{Channel, IssuedChallenge, LiveStore, PROOF_RETURNS, PassedCheck, TakenProof};
pub use verifier::{FrameReply, LiveFailure, Tuning, Verifier};
