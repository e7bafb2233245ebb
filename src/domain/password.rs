//! `NewPassword`: a password that meets the policy of docs/design.md "Passwords and
//! accounts" (NIST SP 800-63B: a minimum length, at least 64 accepted, at most
//! `MAX_PASSWORD_BYTES`, no composition rules, not on the bundled list of common passwords,
//! not the username). Checked exactly as sent: nothing is trimmed or truncated.

use std::{collections::HashSet, sync::LazyLock};

/// Longest password accepted, in bytes (longer is a 400, never a hash).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password accepted for a new account or a change; only `parse` makes one.
pub struct NewPassword(String);

impl NewPassword {
    /// The password, if it meets the policy for an account named `username`; else the
    /// reason, shown to the user.
    pub fn parse(password: &str, username: &str, min_len: usize) -> Result<NewPassword, String> {
        match policy_violation(password, username, min_len) {
            Some(why) => Err(why),
            None => Ok(NewPassword(password.to_string())),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for NewPassword {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The 10,000 most common passwords (zxcvbn's list from leaked-password frequencies; MIT).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Is a password that has just logged in too weak to keep: shorter than `min_len` or on
/// the common list (with the same trailing-digits rule as for a new one)? Such a login is
/// held to "password change required" (docs/design.md "Passwords and accounts").
pub fn is_weak(password: &str, min_len: usize) -> bool {
    password.chars().count() < min_len || is_common(password)
}

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#$%^&*?.".contains(c));
    COMMON.contains(lower.as_str()) || (stem.len() >= 4 && COMMON.contains(stem))
}

/// Why a new password was refused; the text is shown to the user.
fn policy_violation(password: &str, username: &str, min_len: usize) -> Option<String> {
    let chars = password.chars().count();
    if password.is_empty() {
        return Some("Password is required.".into());
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Some(format!(
            "Password must not exceed {MAX_PASSWORD_BYTES} bytes."
        ));
    }
    if chars < min_len {
        return Some(format!("Password must be at least {min_len} characters."));
    }
    let lower = password.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#$%^&*?.".contains(c));
    // "Password1234" is "password" with digits appended: refuse both forms.
    if is_common(password) {
        return Some(
            "This password is on a list of commonly used passwords; choose another.".into(),
        );
    }
    if !username.is_empty()
        && lower.contains(&username.to_lowercase())
        && stem.len() <= username.len() + 2
    {
        return Some("Password must not be your username.".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(policy_violation("short", "u", 8).is_some());
        assert!(policy_violation("password", "u", 8).is_some());
        assert!(policy_violation("Password1234", "u", 8).is_some());
        assert!(policy_violation("correct horse battery staple", "u", 8).is_none());
        assert!(policy_violation("TestPassword123", "aegis_test_user", 8).is_none());
        assert!(policy_violation(&"x".repeat(1025), "u", 8).is_some());
        assert!(policy_violation(&"xyzzy-plugh-".repeat(10), "u", 8).is_none());
        assert!(policy_violation("aegis_test_user1", "aegis_test_user", 8).is_some());
    }

    #[test]
    fn weak_passwords_of_the_original() {
        for weak in ["admin123", "test123", "Password123", "short"] {
            assert!(is_weak(weak, 8), "{weak}");
        }
        for fine in ["Alice-Learns-2025", "BobsOldPassw0rd", "carol-pbkdf2-260k"] {
            assert!(!is_weak(fine, 8), "{fine}");
        }
        assert!(is_weak("Alice-Learns-2025", 20));
    }

    #[test]
    fn parse_keeps_the_password_as_sent() {
        let p = NewPassword::parse(" spaced out words ", "u", 8).unwrap();
        assert_eq!(p.as_ref(), " spaced out words ");
        assert_eq!(
            NewPassword::parse("short", "u", 8).err().as_deref(),
            Some("Password must be at least 8 characters.")
        );
        assert_eq!(
            NewPassword::parse("", "u", 8).err().as_deref(),
            Some("Password is required.")
        );
    }
}
