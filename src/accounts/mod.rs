//! Accounts: who may register, and what a signed-in user is. The validation here runs twice —
//! in the browser for instant feedback and on the server as the authority.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
/// RFC 5321's limit on a forward path.
pub const EMAIL_MAX: usize = 254;

/// 3-32 characters: letters, digits, `_`, `.`, `-`.
pub fn validate_username(username: &str) -> Result<(), String> {
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
pub fn validate_email(email: &str) -> Result<(), String> {
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
    pub user_id: String,
    pub username: String,
}

/// The signed-in user, as the pages and the greeting see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub user_id: String,
    pub username: String,
    /// The login before the current one (RFC 3339, UTC), if any.
    pub previous_login_at: Option<String>,
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
