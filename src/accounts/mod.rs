//! Accounts: who may register, and what a signed-in user is. The validation here runs twice —
//! in the browser for instant feedback and on the server as the authority.

use serde::{Deserialize, Serialize};

mod pin;
#[cfg(feature = "ssr")]
pub mod ssr;

pub(crate) use pin::{PIN_MAX, PIN_MIN, validate_pin};

pub(crate) const USERNAME_MIN: usize = 3;
pub(crate) const USERNAME_MAX: usize = 32;
/// RFC 5321's limit on a forward path.
pub(crate) const EMAIL_MAX: usize = 254;

/// 3-32 characters: letters, digits, `_`, `.`, `-`.
pub(crate) fn validate_username(username: &str) -> Result<(), String> {
    let length = username.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&length) {
        return Err(format!(
            "Choose a username of {USERNAME_MIN} to {USERNAME_MAX} characters."
        ));
    }
    if let Some(bad) = username
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "A username may only hold letters, digits, '_', '.' and '-' (not {:?}).",
            bad
        ));
    }
    Ok(())
}

/// A practical check of address syntax: `local@domain.tld`, no spaces, one `@`.
pub(crate) fn validate_email(email: &str) -> Result<(), String> {
    let invalid = || Err("Enter an email address like name@example.org.".to_string());
    if email.is_empty()
        || email.len() > EMAIL_MAX
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid();
    };
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty() && !label.starts_with('-') && !label.ends_with('-') && !label.contains('@')
    });
    if local.is_empty() || local.len() > 64 || !domain.contains('.') || !labels_ok {
        return invalid();
    }
    Ok(())
}

/// A user who has just registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub(crate) user_id: String,
    pub(crate) username: String,
}

/// The signed-in user, as the pages and the greeting see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub(crate) user_id: String,
    pub(crate) username: String,
    /// The login before the current one (RFC 3339, UTC), if any.
    pub(crate) previous_login_at: Option<String>,
}

/// What a login asks for after the face check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum LoginStep {
    /// Signed in: the session cookie is set.
    SignedIn(SignedInUser),
    /// The face was recognised; the second factor must confirm it.
    SecondFactor(SecondFactorPrompt),
}

/// The face check passed; send the PIN with this ticket (single-use, short-lived).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecondFactorPrompt {
    pub(crate) ticket: String,
    /// What the account can confirm with: `pin`, and `passkey` once one was added.
    pub(crate) factors: Vec<String>,
    pub(crate) expires_in_secs: u64,
}

/// "2026-11-28T14:03:05.123Z" → "2026-11-28 14:03 UTC"; the same on server and browser.
pub fn readable_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// One of the account's passkeys, as its owner sees it (`GET /api/account/passkeys`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct PasskeyInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    /// RFC 3339, UTC.
    pub(crate) created_at: String,
    /// The latest login it confirmed, if any.
    pub(crate) last_used_at: Option<String>,
}

/// Longest passkey name, in characters.
pub(crate) const PASSKEY_NAME_MAX: usize = 64;

/// A passkey's name: 1-64 characters after trimming, no control characters.
pub fn validate_passkey_name(name: &str) -> Result<(), String> {
    let length = name.chars().count();
    if length == 0 || length > PASSKEY_NAME_MAX {
        return Err(format!(
            "Give the passkey a name of 1 to {PASSKEY_NAME_MAX} characters."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("A passkey name cannot contain control characters.".into());
    }
    Ok(())
}

/// One line of an account's history, as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct ActivityEntry {
    /// RFC 3339, UTC.
    pub(crate) at: String,
    /// `registered`, `signed_in`, `pin_refused`, `pin_locked`, `signed_out`, …
    pub(crate) event: String,
    pub(crate) success: bool,
    /// The refusal's error code, when refused.
    pub(crate) reason: Option<String>,
    pub(crate) client_address: Option<String>,
    pub(crate) user_agent: Option<String>,
}

impl ActivityEntry {
    /// The event in words.
    pub fn describe(&self) -> &'static str {
        match self.event.as_str() {
            "registered" => "Account created",
            "signed_in" => "Signed in",
            "pin_refused" => "Wrong PIN",
            "pin_locked" => "Locked after wrong PINs",
            "signed_out" => "Signed out",
            "signed_out_everywhere" => "Signed out everywhere",
            "exported" => "Data exported",
            "passkey_added" => "Passkey added",
            "passkey_removed" => "Passkey removed",
            _ => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ada", "Ada.Lovelace", "x_y-z", "émile", &"a".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ab", "has space", "semi;colon", "<script>", &"a".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["ada@example.org", "a.b+c@sub.example.co.uk"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "ada@@example.org",
            "ada@-x.org",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
