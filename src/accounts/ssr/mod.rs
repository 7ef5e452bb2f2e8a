//! Register, log in, sessions: the server side of accounts, shared by the server functions and
//! the REST API so both behave identically.
//!
//! A login goes: live face check → [`identify`] among all enrolled → (per the second-factor
//! policy) a ticket waiting for the PIN → [`confirm_pin`] → a session ([`session`]) and an entry
//! in the account's history ([`audit`]).

pub(crate) mod audit;
pub(crate) mod passkeys;
mod replica;
pub mod second_factor;
pub(crate) mod session;
mod session_store;
pub(crate) mod settings;
mod signed_in;
mod your_data;

use std::{sync::Arc, time::Duration};

use mongodb::bson::{DateTime, doc, oid::ObjectId};

pub(crate) use passkeys::Passkeys;
pub(crate) use second_factor::LoginTickets;
pub(crate) use session::SessionToken;
pub(crate) use session_store::SessionStore;
pub use settings::{AccountSettings, SecondFactorPolicy};
pub use signed_in::{ClientMeta, SignedIn};
pub use your_data::{AccountExport, delete_account, export_account};

use self::{
    audit::Event,
    second_factor::{PinCheck, locked_error},
};
use super::{
    LoginStep, Registered, SecondFactorPrompt, SignedInUser, validate_email, validate_pin, validate_username,
};
use crate::{
    at_rest::TemplateCipher,
    background::Background,
    changes::ChangeFeed,
    config::Config,
    db::Db,
    db::{
        changes::Change,
        is_duplicate_key,
        sessions::SessionDoc,
        users::{UserDoc, email_key, username_key},
    },
    error::AppError,
    face::{Encoding, FaceEngine, ImageInput},
    gallery::{Gallery, Person, Pin},
    live::{Purpose, ssr::LiveStore},
};

/// The identity layer's parts: what registering, logging in, sessions, passkeys and an
/// account's data need, and nothing of HTTP. Handlers reach it through `AppState::accounts`;
/// extractors through `FromRef`. Cheap to clone (every part is shared).
#[derive(Clone)]
pub struct Accounts {
    pub(crate) config: Arc<Config>,
    pub(crate) db: Db,
    pub faces: FaceEngine,
    pub(crate) gallery: Gallery,
    /// Passed live checks waiting to be redeemed (their proofs).
    pub(crate) live: LiveStore,
    /// Every live session, so a signed-in page view reads memory, not the database.
    pub(crate) sessions: SessionStore,
    /// Keeps the gallery and the sessions in step with the other instances on this database.
    pub(crate) changes: ChangeFeed,
    /// Faces that passed, waiting for their PIN.
    pub(crate) tickets: LoginTickets,
    pub(crate) passkeys: Passkeys,
    /// Seals and opens the stored face templates and PIN hashes (`crate::at_rest`).
    pub(crate) templates: TemplateCipher,
    /// Runs the writes a request does not wait for (shutdown does).
    pub(crate) background: Background,
}

/// What a person sees when a login face matches nobody. It says nothing about who is enrolled.
pub(crate) const NOT_RECOGNISED: &str =
    "Face not recognised. Try again facing the camera in good light, or register first.";

/// The error code of a login face that matches nobody.
pub(crate) const NOT_RECOGNISED_CODE: &str = "not_recognised";

/// When the best match is not clearly better than the next person's.
pub(crate) const AMBIGUOUS: &str =
    "We could not tell with confidence who you are. Try again facing the camera in good light.";

/// Encodings kept per enrolled user, from different moments and poses of the live check.
pub(crate) const MAX_ENROLLED_ENCODINGS: usize = 5;

pub(crate) const FACE_TAKEN_CODE: &str = "face_already_registered";

/// How recent the login must be for deleting or exporting the account: a session left open on a
/// shared computer must not be enough to erase or copy someone's data.
pub(crate) const FRESH_LOGIN: Duration = Duration::from_secs(5 * 60);

/// What a new account is made of, as sent by the form or the API.
pub struct NewAccount<'a> {
    pub(crate) username: &'a str,
    pub(crate) email: &'a str,
    pub(crate) pin: &'a str,
}

/// Registers with the face of a passed live check (`proof` from the live socket). A refusal the
/// person can fix without a new check leaves the proof redeemable within its original lifetime:
/// an invalid field (refused before the proof is taken) any number of times, a taken username
/// or email [`crate::live::ssr::PROOF_RETURNS`] times — so one face check cannot probe a list
/// of addresses for accounts.
pub(crate) async fn register_with_proof(
    accounts: &Accounts,
    account: NewAccount<'_>,
    proof: &str,
    client: &ClientMeta,
) -> Result<Registered, AppError> {
    validate_form(&account)?;
    let taken = accounts
        .live
        .take_returnable_proof(proof.trim(), Purpose::Register)?;
    match register_with_check(accounts, account, &taken.check.encodings, client).await {
        Err(AppError::Conflict { code, message }) if code != FACE_TAKEN_CODE => {
            let message = if accounts.live.restore_proof(proof.trim(), taken) {
                message
            } else {
                format!("{message} Show your face again to try once more.")
            };
            Err(AppError::Conflict { code, message })
        }
        other => other,
    }
}

/// Validates the form, refuses a face that is already enrolled, stores the user with up to
/// [`MAX_ENROLLED_ENCODINGS`] encodings and the PIN's hash. The unique indexes decide duplicate
/// names and emails, so two racing registrations of one name cannot both succeed.
pub(crate) async fn register_with_check(
    accounts: &Accounts,
    account: NewAccount<'_>,
    encodings: &[Encoding],
    client: &ClientMeta,
) -> Result<Registered, AppError> {
    validate_form(&account)?;
    let (username, email) = (account.username.trim(), account.email.trim());
    let query = mean_encoding(encodings)
        .ok_or_else(|| AppError::Internal("a passed live check without encodings".into()))?;
    let threshold = accounts.config.face.match_threshold;
    if let Some(existing) = accounts.gallery.best_match(query).await
        && f64::from(existing.distance) <= threshold
    {
        tracing::info!(
            distance = existing.distance,
            "registration refused: face already enrolled"
        );
        return Err(AppError::Conflict {
            code: FACE_TAKEN_CODE,
            message: "This face is already registered — log in instead.".into(),
        });
    }
    let kept = spread(encodings, MAX_ENROLLED_ENCODINGS);
    let id = ObjectId::new();
    let face_templates = accounts
        .templates
        .seal(&id, &kept)
        .map_err(|e| AppError::Internal(format!("sealing face templates: {e}")))?;
    let pin_hash = second_factor::hash_pin(account.pin).await?;
    let pin_sealed = accounts
        .templates
        .seal_pin(&id, &pin_hash)
        .map_err(|e| AppError::Internal(format!("sealing a PIN hash: {e}")))?;
    let user = UserDoc {
        id,
        email: email.to_string(),
        email_key: email_key(email),
        username: username.to_string(),
        username_key: username_key(username),
        face_templates,
        created_at: DateTime::now(),
        last_login_at: None,
        pin_sealed: Some(pin_sealed),
        pin_hash: None,
    };
    match accounts.db.users().insert_one(&user).await {
        Ok(_) => {}
        Err(e) if is_duplicate_key(&e) => return Err(which_duplicate(accounts, &user).await),
        Err(e) => return Err(e.into()),
    }
    let person = Person {
        username: user.username.clone(),
        pin: Pin::Hash(pin_hash),
        last_login_at: None,
    };
    accounts.gallery.add(user.id, &kept, person);
    // No secret in the log: the other instances read the new record by its id.
    let enrolled = Change::Enrolled { user_id: user.id };
    if let Err(e) = accounts.changes.publish(enrolled).await {
        // The account exists; other instances enrol it at their next reconciliation.
        tracing::warn!(error = %e, "could not tell the other instances about a registration");
    }
    audit::record(accounts, user.id, Event::Registered, None, client).await;
    tracing::info!(user_id = %user.id, encodings = kept.len(), "user registered");
    Ok(Registered {
        user_id: user.id.to_hex(),
        username: user.username,
    })
}

/// The old single-picture registration, for `allow-single-image` (trusted kiosks).
pub async fn register_single_image(
    accounts: &Accounts,
    account: NewAccount<'_>,
    image: ImageInput,
    client: &ClientMeta,
) -> Result<Registered, AppError> {
    validate_form(&account)?;
    let analysis = accounts.faces.analyze(image).await?;
    register_with_check(accounts, account, &[analysis.encoding], client).await
}

fn validate_form(account: &NewAccount<'_>) -> Result<(), AppError> {
    let invalid = |code| move |message| AppError::Unprocessable { code, message };
    validate_username(account.username.trim()).map_err(invalid("invalid_username"))?;
    validate_email(account.email.trim()).map_err(invalid("invalid_email"))?;
    validate_pin(account.pin).map_err(invalid("invalid_pin"))
}

/// At most `n` of `items`, spread evenly from first to last (different moments, so different
/// poses and expressions).
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n || n < 2 {
        return items.iter().take(n.max(1)).cloned().collect();
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1)].clone())
        .collect()
}

/// The mean of several encodings of one face: steadier than any single frame.
pub fn mean_encoding(encodings: &[Encoding]) -> Option<Encoding> {
    if encodings.is_empty() {
        return None;
    }
    let mut sum = [0.0f32; crate::face::ENCODING_LEN];
    for encoding in encodings {
        for (total, value) in sum.iter_mut().zip(encoding.as_slice()) {
            *total += value;
        }
    }
    let n = encodings.len() as f32;
    Some(Encoding(sum.map(|total| total / n)))
}

/// After the index refused the insert: name the taken field. The read only chooses the message.
async fn which_duplicate(accounts: &Accounts, user: &UserDoc) -> AppError {
    let email_taken = accounts
        .db
        .users()
        .count_documents(doc! { "email_key": &user.email_key })
        .await
        .map(|n| n > 0)
        .unwrap_or(false);
    if email_taken {
        AppError::Conflict {
            code: "email_taken",
            message: "This email address is already registered.".into(),
        }
    } else {
        AppError::Conflict {
            code: "username_taken",
            message: format!("The username {} is taken. Choose another.", user.username),
        }
    }
}

/// Where a login request stands once the face is known.
pub enum LoginOutcome {
    SignedIn(SignedInUser, SessionToken),
    SecondFactor(SecondFactorPrompt),
}

impl LoginOutcome {
    /// The page's view of it (the token goes into the cookie, never into a body).
    pub(crate) fn step(&self) -> LoginStep {
        match self {
            Self::SignedIn(user, _) => LoginStep::SignedIn(user.clone()),
            Self::SecondFactor(prompt) => LoginStep::SecondFactor(prompt.clone()),
        }
    }
}

/// The browser's request around a login: who it is, and the session it already had (replaced
/// by the new one, so a planted or stolen older cookie dies at the next login).
#[derive(Clone)]
pub struct LoginContext {
    pub(crate) client: ClientMeta,
    pub(crate) previous: Option<SessionToken>,
}

/// Logs in with the face of a passed live check (`proof` from the live socket).
pub(crate) async fn login_with_proof(
    accounts: &Accounts,
    proof: &str,
    context: LoginContext,
) -> Result<LoginOutcome, AppError> {
    let check = accounts.live.take_proof(proof.trim(), Purpose::Login)?;
    login_with_check(accounts, &check.encodings, context).await
}

/// The old single-picture login, for `allow-single-image` (trusted kiosks).
pub async fn login_single_image(
    accounts: &Accounts,
    image: ImageInput,
    context: LoginContext,
) -> Result<LoginOutcome, AppError> {
    let analysis = accounts.faces.analyze(image).await?;
    login_with_check(accounts, &[analysis.encoding], context).await
}

/// Who the face is: the enrolled user within the match threshold, plus a runner-up that is
/// closer than the match margin behind (then the face alone cannot tell them apart).
struct Identified {
    best: ObjectId,
    contender: Option<ObjectId>,
}

async fn identify(accounts: &Accounts, encodings: &[Encoding]) -> Result<Identified, AppError> {
    let not_recognised = || AppError::NotIdentified {
        code: NOT_RECOGNISED_CODE,
        message: NOT_RECOGNISED.into(),
    };
    let query = mean_encoding(encodings).ok_or_else(not_recognised)?;
    let (threshold, margin) = (
        accounts.config.face.match_threshold,
        accounts.config.face.match_margin,
    );
    let best = accounts.gallery.best_match(query).await;
    let nearest = best.as_ref().map(|m| m.distance);
    let Some(best) = best.filter(|m| f64::from(m.distance) <= threshold) else {
        tracing::info!(distance = ?nearest, "login refused: no match");
        return Err(not_recognised());
    };
    let contender = match (best.runner_up, best.runner_up_id) {
        (Some(runner_up), Some(id)) if f64::from(runner_up - best.distance) < margin => Some(id),
        _ => None,
    };
    tracing::info!(distance = best.distance, runner_up = ?best.runner_up, ambiguous = contender.is_some(), "face identified");
    Ok(Identified {
        best: best.id,
        contender,
    })
}

/// Identifies the person from the mean of their sampled encodings, then — per the second-factor
/// policy — signs them in or asks for the PIN. With the policy `off`, an ambiguous face is
/// refused with its own code; otherwise the PIN tells the two candidates apart.
pub(crate) async fn login_with_check(
    accounts: &Accounts,
    encodings: &[Encoding],
    context: LoginContext,
) -> Result<LoginOutcome, AppError> {
    let identified = identify(accounts, encodings).await?;
    let ambiguous = identified.contender.is_some();
    let policy = accounts.config.accounts.second_factor;
    if policy == SecondFactorPolicy::Off && ambiguous {
        return Err(AppError::NotIdentified {
            code: "ambiguous_match",
            message: AMBIGUOUS.into(),
        });
    }
    let needs_second_factor = match policy {
        SecondFactorPolicy::Always => true,
        SecondFactorPolicy::Ambiguous => ambiguous,
        SecondFactorPolicy::Off => false,
    };
    // An account from before PINs existed has no second factor to ask for; an ambiguous face
    // cannot be settled without one.
    let legacy = accounts.gallery.has_no_pin(&identified.best);
    if needs_second_factor && legacy {
        if ambiguous {
            return Err(AppError::NotIdentified {
                code: "ambiguous_match",
                message: AMBIGUOUS.into(),
            });
        }
        tracing::warn!(user_id = %identified.best, "login by face alone: the account has no PIN");
    }
    let needs_second_factor = needs_second_factor && !legacy;
    if needs_second_factor {
        let candidates: Vec<ObjectId> = std::iter::once(identified.best)
            .chain(identified.contender)
            .collect();
        let mut factors = vec!["pin".to_string()];
        if accounts.passkeys.any_owner(&candidates) {
            factors.push("passkey".into());
        }
        let ticket = accounts.tickets.issue(candidates);
        return Ok(LoginOutcome::SecondFactor(SecondFactorPrompt {
            ticket,
            factors,
            expires_in_secs: second_factor::TICKET_TTL.as_secs(),
        }));
    }
    let (user, token) = sign_in(accounts, identified.best, &["face"], context).await?;
    Ok(LoginOutcome::SignedIn(user, token))
}

/// The second step of a login: the PIN for a ticket from [`login_with_check`]. A wrong PIN keeps
/// the ticket for [`second_factor::TRIES_PER_TICKET`] tries in all; a refusal before the PIN was
/// tried (a lock, a check already running) uses none.
pub(crate) async fn confirm_pin(
    accounts: &Accounts,
    ticket_id: &str,
    pin: &str,
    context: LoginContext,
) -> Result<(SignedInUser, SessionToken), AppError> {
    let ticket = accounts.tickets.begin_check(ticket_id.trim())?;
    // From memory: the users collection is not read on the PIN step.
    let pins: Vec<(ObjectId, Pin)> = ticket
        .candidates
        .iter()
        .filter_map(|id| accounts.gallery.pin(id).map(|pin| (*id, pin)))
        .collect();
    let hashes: Vec<(ObjectId, String)> = pins
        .iter()
        .filter_map(|(id, pin)| match pin {
            Pin::Hash(hash) => Some((*id, hash.clone())),
            Pin::None | Pin::Refused => None,
        })
        .collect();
    if hashes.is_empty() {
        if pins.iter().any(|(_, pin)| *pin == Pin::Refused) {
            return Err(AppError::Unprocessable {
                code: "pin_unavailable",
                message: "This account's PIN cannot be checked right now. Use your passkey, or ask the administrator.".into(),
            });
        }
        return Err(AppError::Unauthorized(
            "This login has expired. Show your face again to log in.".into(),
        ));
    }
    // An ambiguous ticket whose other account's PIN cannot be checked could sign in the wrong
    // person with a PIN both share: refused.
    let ambiguous = ticket.candidates.len() > 1;
    if ambiguous && hashes.len() < ticket.candidates.len() {
        return Err(AppError::NotIdentified {
            code: "ambiguous_match",
            message: AMBIGUOUS.into(),
        });
    }
    let client = &context.client;
    match second_factor::check_pin(accounts, pin.trim(), &hashes, client).await? {
        PinCheck::Confirmed(user_id) => {
            ticket.redeem();
            sign_in(accounts, user_id, &["face", "pin"], context).await
        }
        PinCheck::Locked(wait) => Err(locked_error(wait)),
        PinCheck::BudgetSpent(wait) => Err(second_factor::daily_budget_spent(wait)),
        PinCheck::Busy => Err(AppError::RetryLater {
            code: "pin_check_running",
            message: "A PIN for this account is being checked already. Try again in a moment.".into(),
            retry_after: Duration::from_secs(1),
        }),
        PinCheck::Shared => {
            ticket.redeem();
            tracing::warn!("a PIN that both accounts of an ambiguous face share: nobody signed in");
            Err(AppError::NotIdentified {
                code: "ambiguous_match",
                message: format!("{AMBIGUOUS} Or use your passkey."),
            })
        }
        PinCheck::Wrong { locked_for } => {
            // The history of an account is written only when the ticket names that account
            // alone: on an ambiguous ticket the person may be the other one.
            if let [account] = ticket.candidates[..] {
                let event = if locked_for.is_some() {
                    Event::PinLocked
                } else {
                    Event::PinRefused
                };
                audit::record(accounts, account, event, Some(event.code()), client).await;
            }
            tracing::info!(ambiguous, locked = locked_for.is_some(), "wrong PIN");
            let tries_left = ticket.spend();
            if let Some(wait) = locked_for {
                return Err(locked_error(wait));
            }
            Err(match tries_left {
                0 => AppError::NotIdentified {
                    code: "wrong_pin_face_again",
                    message: "Wrong PIN. Show your face again to try once more.".into(),
                },
                n => AppError::NotIdentified {
                    code: "wrong_pin",
                    message: match n {
                        1 => "Wrong PIN. You can try once more.".into(),
                        n => format!("Wrong PIN. You can try {n} more times."),
                    },
                },
            })
        }
    }
}

/// Opens a session for an identified (and, per policy, confirmed) user: records this login and
/// learns the previous one in a single write, ends the browser's older session. `amr`: how the
/// login was made (kept with the session for OpenID Connect's `amr`).
async fn sign_in(
    accounts: &Accounts,
    user_id: ObjectId,
    amr: &[&str],
    context: LoginContext,
) -> Result<(SignedInUser, SessionToken), AppError> {
    let not_recognised = || AppError::NotIdentified {
        code: NOT_RECOGNISED_CODE,
        message: NOT_RECOGNISED.into(),
    };
    // Who they are and when they last logged in, from memory: the users collection is not read
    // (FerretDB would scan it) nor written (the login's history entry records it).
    let username = accounts.gallery.username(&user_id).ok_or_else(not_recognised)?;
    let previous_login_at = accounts.gallery.record_login(&user_id, DateTime::now());
    let (session, token) = session::open(
        accounts,
        user_id,
        previous_login_at,
        amr.iter().map(|m| m.to_string()).collect(),
    )
    .await?;
    if let Some(previous) = &context.previous {
        session::end_in_background(accounts, previous);
    }
    audit::record(accounts, user_id, Event::SignedIn, None, &context.client).await;
    tracing::info!(%user_id, "login");
    Ok((signed_in_user(user_id, username, &session), token))
}

pub(crate) async fn logout(
    accounts: &Accounts,
    signed_in: &SignedIn,
    client: &ClientMeta,
) -> Result<(), AppError> {
    session::end(accounts, &signed_in.token).await?;
    audit::record(accounts, signed_in.user_id, Event::SignedOut, None, client).await;
    Ok(())
}

/// Ends every session of the signed-in user, this one included.
pub(crate) async fn sign_out_everywhere(
    accounts: &Accounts,
    signed_in: &SignedIn,
    client: &ClientMeta,
) -> Result<u64, AppError> {
    let ended = session::end_all(accounts, signed_in.user_id).await?;
    audit::record(
        accounts,
        signed_in.user_id,
        Event::SignedOutEverywhere,
        None,
        client,
    )
    .await;
    tracing::info!(user_id = %signed_in.user_id, sessions = ended, "signed out everywhere");
    Ok(ended)
}

/// Refuses irreversible steps on a session whose login is older than [`FRESH_LOGIN`].
pub(crate) fn require_fresh_login(signed_in: &SignedIn) -> Result<(), AppError> {
    if session::is_fresh(&signed_in.session, FRESH_LOGIN) {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "login_not_fresh",
        message: "For your safety, confirm it's you first: log out, log in again with your face and PIN, then do this within 5 minutes.".into(),
    })
}

/// "Welcome, Ada!" on a first sign-in, "Welcome back, Ada!" after that.
pub fn greeting(user: &SignedInUser) -> String {
    match user.previous_login_at {
        Some(_) => format!("Welcome back, {}!", user.username),
        None => format!("Welcome, {}!", user.username),
    }
}

pub(crate) fn signed_in_user(user_id: ObjectId, username: String, session: &SessionDoc) -> SignedInUser {
    SignedInUser {
        user_id: user_id.to_hex(),
        username,
        previous_login_at: session
            .previous_login_at
            .and_then(|t| t.try_to_rfc3339_string().ok()),
    }
}
