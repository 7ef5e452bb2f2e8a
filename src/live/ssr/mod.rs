//! The server side of the live check: landmark [`signals`], the per-attempt [`verifier`], the
//! in-memory [`store`] of nonces, proofs and replay fingerprints, and [`attempt`], which runs
//! frames through the face engine and the verifier for the live socket and uploaded clips alike.

pub mod attempt;
pub mod continuity;
pub mod replay_log;
pub mod settings;
pub mod signals;
pub mod store;
pub mod verifier;

pub use attempt::Arrival;
pub use attempt::{AttemptError, FrameOutcome, LiveAttempt};
pub use settings::LiveSettings;
pub use store::{Channel, IssuedChallenge, LiveStore, PROOF_RETURNS, PassedCheck, TakenProof};
pub use verifier::{FrameReply, LiveFailure, Tuning, Verifier};
