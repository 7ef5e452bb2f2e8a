//! Register, log in, sessions: the server side of accounts, shared by the server functions and
//! the REST API so both behave identically.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use mongodb::{
    bson::{DateTime, doc, oid::ObjectId},
    options::ReturnDocument,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Registered, SignedInUser, validate_email, validate_username};
use crate::{
    db::{
        is_duplicate_key,
        sessions::SessionDoc,
        users::{UserDoc, email_key, username_key},
    },
    error::AppError,
    face::{Encoding, ImageInput},
    live::Purpose,
    state::AppState,
};

pub const SESSION_COOKIE: &str = "facegate_session";

/// What a person sees when a login face matches nobody. It says nothing about who is enrolled.
pub const NOT_RECOGNISED: &str =
    "Face not recognised. Try again facing the camera in good light, or register first.";

/// A session token: 256 random bits, URL-safe base64. Deliberately neither `Serialize` nor
/// `Display`, so it cannot end up in a response body or a log line by accident.
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn from_cookie(value: &str) -> Self {
        Self(value.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        format!("{:x}", Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// The error code of a login face that matches nobody.
pub const NOT_RECOGNISED_CODE: &str = "not_recognised";

/// When the best match is not clearly better than the next person's.
pub const AMBIGUOUS: &str =
    "We could not tell with confidence who you are. Try again facing the camera in good light.";

/// Encodings kept per enrolled user, from different moments and poses of the live check.
pub const MAX_ENROLLED_ENCODINGS: usize = 5;

/// Registers with the face of a passed live check (`proof` from the live socket). A refusal the
/// person can fix without a new check (a taken username or email, an invalid field) leaves the
/// proof redeemable until it expires.
pub async fn register_with_proof(
    state: &AppState,
    username: &str,
    email: &str,
    proof: &str,
) -> Result<Registered, AppError> {
    validate_form(username, email)?;
    let check = state.live.take_proof(proof.trim(), Purpose::Register)?;
    match register_with_check(state, username, email, &check.encodings).await {
        Err(error @ AppError::Conflict { code, .. }) if code != FACE_TAKEN_CODE => {
            state.live.restore_proof(proof.trim(), check);
            Err(error)
        }
        other => other,
    }
}

pub const FACE_TAKEN_CODE: &str = "face_already_registered";

/// Validates the form, refuses a face that is already enrolled, stores the user with up to
/// [`MAX_ENROLLED_ENCODINGS`] encodings. The unique indexes decide duplicate names and emails,
/// so two racing registrations of one name cannot both succeed.
pub async fn register_with_check(
    state: &AppState,
    username: &str,
    email: &str,
    encodings: &[Encoding],
) -> Result<Registered, AppError> {
    let (username, email) = (username.trim(), email.trim());
    validate_form(username, email)?;
    let query = mean_encoding(encodings)
        .ok_or_else(|| AppError::Internal("a passed live check without encodings".into()))?;
    let threshold = state.config.face.match_threshold;
    if let Some(existing) = state.gallery.best_match(query).await
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
    let face_templates = state
        .templates
        .seal(&id, &kept)
        .map_err(|e| AppError::Internal(format!("sealing face templates: {e}")))?;
    let user = UserDoc {
        id,
        email: email.to_string(),
        email_key: email_key(email),
        username: username.to_string(),
        username_key: username_key(username),
        face_templates,
        created_at: DateTime::now(),
        last_login_at: None,
    };
    match state.db.users().insert_one(&user).await {
        Ok(_) => {}
        Err(e) if is_duplicate_key(&e) => return Err(which_duplicate(state, &user).await),
        Err(e) => return Err(e.into()),
    }
    state.gallery.add(user.id, &kept);
    tracing::info!(user_id = %user.id, encodings = kept.len(), "user registered");
    Ok(Registered {
        user_id: user.id.to_hex(),
        username: user.username,
    })
}

/// The old single-picture registration, for `allow-single-image` (trusted kiosks).
pub async fn register_single_image(
    state: &AppState,
    username: &str,
    email: &str,
    image: ImageInput,
) -> Result<Registered, AppError> {
    validate_form(username, email)?;
    let analysis = state.faces.analyze(image).await?;
    register_with_check(state, username, email, &[analysis.encoding]).await
}

fn validate_form(username: &str, email: &str) -> Result<(), AppError> {
    validate_username(username.trim()).map_err(|message| AppError::Unprocessable {
        code: "invalid_username",
        message,
    })?;
    validate_email(email.trim()).map_err(|message| AppError::Unprocessable {
        code: "invalid_email",
        message,
    })
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
async fn which_duplicate(state: &AppState, user: &UserDoc) -> AppError {
    let email_taken = state
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

/// Logs in with the face of a passed live check (`proof` from the live socket).
pub async fn login_with_proof(
    state: &AppState,
    proof: &str,
) -> Result<(SignedInUser, SessionToken), AppError> {
    let check = state.live.take_proof(proof.trim(), Purpose::Login)?;
    login_with_check(state, &check.encodings).await
}

/// The old single-picture login, for `allow-single-image` (trusted kiosks).
pub async fn login_single_image(
    state: &AppState,
    image: ImageInput,
) -> Result<(SignedInUser, SessionToken), AppError> {
    let analysis = state.faces.analyze(image).await?;
    login_with_check(state, &[analysis.encoding]).await
}

/// Identifies the person from the mean of their sampled encodings and opens a session. Accepted
/// only when the best user is within the match threshold AND every other user is farther by at
/// least the match margin; an ambiguous face is refused with its own code.
pub async fn login_with_check(
    state: &AppState,
    encodings: &[Encoding],
) -> Result<(SignedInUser, SessionToken), AppError> {
    let not_recognised = || AppError::NotIdentified {
        code: NOT_RECOGNISED_CODE,
        message: NOT_RECOGNISED.into(),
    };
    let query = mean_encoding(encodings).ok_or_else(not_recognised)?;
    let (threshold, margin) = (state.config.face.match_threshold, state.config.face.match_margin);
    let best = state.gallery.best_match(query).await;
    let nearest = best.as_ref().map(|m| m.distance);
    let Some(best) = best.filter(|m| f64::from(m.distance) <= threshold) else {
        tracing::info!(distance = ?nearest, "login refused: no match");
        return Err(not_recognised());
    };
    if let Some(runner_up) = best.runner_up
        && f64::from(runner_up - best.distance) < margin
    {
        tracing::info!(
            distance = best.distance,
            runner_up,
            "login refused: ambiguous match"
        );
        return Err(AppError::NotIdentified {
            code: "ambiguous_match",
            message: AMBIGUOUS.into(),
        });
    }
    // Record this login and learn the previous one in a single write.
    let now = DateTime::now();
    let user = state
        .db
        .users()
        .find_one_and_update(doc! { "_id": best.id }, doc! { "$set": { "last_login_at": now } })
        .return_document(ReturnDocument::Before)
        .await?
        .ok_or_else(not_recognised)?;

    let token = SessionToken::generate();
    let session = SessionDoc {
        token_hash: token.hash(),
        user_id: user.id,
        created_at: now,
        expires_at: DateTime::from_millis(
            now.timestamp_millis() + state.config.session_ttl().as_millis() as i64,
        ),
        previous_login_at: user.last_login_at,
    };
    state.db.sessions().insert_one(&session).await?;
    if !state.db.expires_sessions() {
        // Housekeeping where the database has no TTL index; a failure here must not fail the login.
        if let Err(e) = crate::db::sessions::purge_expired(&state.db).await {
            tracing::warn!(error = %e, "could not purge expired sessions");
        }
    }
    tracing::info!(user_id = %user.id, distance = best.distance, runner_up = ?best.runner_up, "login");
    Ok((signed_in(&user, &session), token))
}

/// The user behind a session token, if the session exists and has not expired.
pub async fn current_user(state: &AppState, token: &SessionToken) -> Result<Option<SignedInUser>, AppError> {
    let Some(session) = state.db.sessions().find_one(doc! { "_id": token.hash() }).await? else {
        return Ok(None);
    };
    if session.expires_at <= DateTime::now() {
        return Ok(None);
    }
    let user = state.db.users().find_one(doc! { "_id": session.user_id }).await?;
    Ok(user.map(|user| signed_in(&user, &session)))
}

/// Deletes the signed-in user: their encodings leave the database and the gallery, and every
/// session of theirs ends.
pub async fn delete_account(state: &AppState, token: &SessionToken) -> Result<(), AppError> {
    let user = current_user(state, token)
        .await?
        .ok_or_else(|| AppError::Unauthorized("Log in first.".into()))?;
    let id =
        ObjectId::parse_str(&user.user_id).map_err(|e| AppError::Internal(format!("stored user id: {e}")))?;
    state.db.users().delete_one(doc! { "_id": id }).await?;
    state.gallery.remove(&id);
    state.db.sessions().delete_many(doc! { "user_id": id }).await?;
    tracing::info!(user_id = %id, "account deleted");
    Ok(())
}

pub async fn logout(state: &AppState, token: &SessionToken) -> Result<(), AppError> {
    state
        .db
        .sessions()
        .delete_one(doc! { "_id": token.hash() })
        .await?;
    Ok(())
}

/// "Welcome, Ada!" on a first sign-in, "Welcome back, Ada!" after that.
pub fn greeting(user: &SignedInUser) -> String {
    match user.previous_login_at {
        Some(_) => format!("Welcome back, {}!", user.username),
        None => format!("Welcome, {}!", user.username),
    }
}

fn signed_in(user: &UserDoc, session: &SessionDoc) -> SignedInUser {
    SignedInUser {
        user_id: user.id.to_hex(),
        username: user.username.clone(),
        previous_login_at: session
            .previous_login_at
            .and_then(|t| t.try_to_rfc3339_string().ok()),
    }
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, Secure behind TLS.
pub fn session_cookie(token: &SessionToken, ttl: Duration, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        token.expose(),
        ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that deletes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token from a request's `Cookie` headers.
pub fn token_from_headers(headers: &axum::http::HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| SessionToken::from_cookie(value))
}

/// Should cookies carry `Secure`? When configured so, or when a TLS proxy says it served HTTPS.
pub fn cookies_secure(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 43); // 256 bits
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose());
        assert_eq!(format!("{a:?}"), "SessionToken(…)");
    }

    #[test]
    fn the_cookie_is_read_back_from_headers() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "theme=dark; facegate_session=abc123".parse().expect("header"),
        );
        assert_eq!(
            token_from_headers(&headers).map(|t| t.expose().to_string()),
            Some("abc123".into())
        );
        let cookie = session_cookie(
            &SessionToken::from_cookie("abc123"),
            Duration::from_secs(60),
            true,
        );
        assert_eq!(
            cookie,
            "facegate_session=abc123; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
    }
}
