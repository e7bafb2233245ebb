//! Password hashing (Argon2id, OWASP parameters, PHC strings) and the password policy
//! (NIST SP 800-63B: a minimum length, at least 64 accepted, no composition rules, a
//! bundled list of common passwords).
//!
//! Hashing runs on tokio's blocking pool behind a semaphore sized to the CPU count, so a
//! flood of logins queues here instead of stalling the async workers that serve everything
//! else.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock},
};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::{OnceCell, Semaphore};

/// Longest password accepted, in bytes (longer is a 400, never a hash).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The 10,000 most common passwords (zxcvbn's list from leaked-password frequencies; MIT).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../assets/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Why a new password was refused; the text is shown to the user.
pub fn policy_violation(password: &str, username: &str, min_len: usize) -> Option<String> {
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
    // "Password1234" is "password" with digits appended: refuse both forms.
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#$%^&*?.".contains(c));
    if COMMON.contains(lower.as_str()) || (stem.len() >= 4 && COMMON.contains(stem)) {
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

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    dummy: Arc<OnceCell<String>>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Hasher {
            permits: Arc::new(Semaphore::new(cpus)),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await?;
        Ok(tokio::task::spawn_blocking(f).await?)
    }

    /// Hashes a password into a PHC string `$argon2id$v=19$m=19456,t=2,p=1$…`.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.blocking(move || hash_sync(&password)).await?
    }

    /// Verifies against a stored PHC string. Malformed stored hashes simply fail.
    pub async fn verify(&self, password: String, stored: String) -> anyhow::Result<bool> {
        self.blocking(move || {
            argon2()
                .verify_password(password.as_bytes(), stored.as_str())
                .is_ok()
        })
        .await
    }

    /// Burns the same time as a real verification, for unknown usernames.
    pub async fn verify_dummy(&self, password: String) -> anyhow::Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                rand::fill(&mut random[..]);
                self.hash(hex::encode(random)).await
            })
            .await?
            .clone();
        self.verify(password, dummy).await?;
        Ok(())
    }
}

pub fn hash_sync(password: &str) -> anyhow::Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
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
    fn phc_string_has_owasp_parameters() {
        let h = hash_sync("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(
            argon2()
                .verify_password(b"correct horse battery staple", h.as_str())
                .is_ok()
        );
        assert!(
            argon2()
                .verify_password(b"correct horse battery stapl", h.as_str())
                .is_err()
        );
    }
}
