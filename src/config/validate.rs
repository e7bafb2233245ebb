//! The production guard, and the other checks on values once they are read. Each check
//! returns the problem line(s) of one setting; the readers report them as they go, so a
//! refused start lists every problem at once, one line each, in the order the settings are
//! read (docs/design.md "Configuration"; README.md "Production guard").

use super::Config;

/// The example key printed in the deployment checklist (§3). Never accepted in production.
pub(crate) const SEED_EXAMPLE_KEY: &str =
    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1";

/// How many different characters `s` has (a random key has many).
pub(crate) fn distinct_chars(s: &str) -> usize {
    let mut seen: Vec<char> = s.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Production: SECRET_KEY is set, not the checklist's example, long enough and random-looking.
pub(super) fn secret_key(key: Option<&str>, prod: bool) -> Option<String> {
    if !prod {
        return None;
    }
    let Some(k) = key else {
        return Some("SECRET_KEY is not set: generate one with `gleh gen-secret`".to_string());
    };
    if k.trim() == SEED_EXAMPLE_KEY {
        Some("SECRET_KEY is the example value from the deployment checklist: generate a new one with `gleh gen-secret`".to_string())
    } else if k.len() < 32 {
        Some(format!(
            "SECRET_KEY is too short ({} bytes; at least 32 required, 64 hex characters recommended)",
            k.len()
        ))
    } else if distinct_chars(k) < 8 {
        Some("SECRET_KEY has too few distinct characters to be random: generate one with `gleh gen-secret`".to_string())
    } else {
        None
    }
}

/// DATABASE_URL (`None` when unset): required in production, and a URL of a known engine.
pub(super) fn database_url(url: Option<&str>, prod: bool) -> Option<String> {
    match url {
        None if prod => Some(
            "DATABASE_URL is not set: use postgres://… (or sqlite://PATH for a single server)"
                .to_string(),
        ),
        None => None,
        Some(u)
            if !(u.starts_with("sqlite:")
                || u.starts_with("postgres://")
                || u.starts_with("postgresql://")) =>
        {
            Some("DATABASE_URL must start with sqlite:// or postgres://".to_string())
        }
        Some(_) => None,
    }
}

/// PUBLIC_URL is an http(s) origin.
pub(super) fn public_url(url: &str) -> Option<String> {
    (!(url.starts_with("http://") || url.starts_with("https://")))
        .then(|| format!("PUBLIC_URL must start with http:// or https:// (got {url:?})"))
}

/// Production keeps the session cookie away from page scripts.
pub(super) fn cookie_httponly(httponly: bool, prod: bool) -> Option<String> {
    (!httponly && prod)
        .then(|| "SESSION_COOKIE_HTTPONLY=false is not allowed in production".to_string())
}

/// A cookie name browsers keep: `__Host-` needs Secure, and only token characters.
pub(super) fn cookie_name(name: &str, secure: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if name.starts_with("__Host-") && !secure {
        problems.push(
            "SESSION_COOKIE_NAME starts with __Host- but SESSION_COOKIE_SECURE is false: browsers would drop it"
                .to_string(),
        );
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        problems.push("SESSION_COOKIE_NAME may only contain letters, digits, - _ .".to_string());
    }
    problems
}

/// Both session lifetimes, in seconds, are at least 1.
pub(super) fn lifetimes(idle: u64, absolute: u64) -> Option<String> {
    (idle == 0 || absolute == 0).then(|| "session lifetimes must be at least 1 second".to_string())
}

/// Sudo mode lasts between 1 minute and 1 hour.
pub(super) fn admin_reauth_window(secs: u64) -> Option<String> {
    (!(60..=3600).contains(&secs))
        .then(|| format!("ADMIN_REAUTH_WINDOW must be between 60 and 3600 seconds (got {secs})"))
}

/// Production accepts no password shorter than 8 characters.
pub(super) fn min_password_length(length: usize, prod: bool) -> Option<String> {
    (length < 8 && prod)
        .then(|| "MIN_PASSWORD_LENGTH below 8 is not allowed in production".to_string())
}

/// At least one login or registration a minute.
pub(super) fn auth_rate_limit(rate: u32) -> Option<String> {
    (rate == 0).then(|| "AUTH_RATE_LIMIT must be at least 1".to_string())
}

impl Config {
    /// Warnings worth a log line at start (not fatal).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.secret_key.is_none() {
            w.push("SECRET_KEY is not set: using a random key for this run (sessions and CSRF tokens end at restart)".to_string());
        }
        if self.is_production() && !self.cookie_secure {
            w.push("SESSION_COOKIE_SECURE=false in production: session cookies will travel over plain HTTP".to_string());
        }
        if self.is_production() && std::env::var("PUBLIC_URL").is_err() {
            w.push("PUBLIC_URL is not set: set it to the public https:// origin".to_string());
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn secret_keys_are_judged_only_in_production() {
        assert_eq!(secret_key(None, false), None);
        assert_eq!(secret_key(Some("short"), false), None);
        assert_eq!(secret_key(Some(GOOD_KEY), true), None);
        let problem = |k| secret_key(k, true).unwrap_or_default();
        assert!(problem(None).starts_with("SECRET_KEY is not set"));
        assert!(problem(Some(SEED_EXAMPLE_KEY)).contains("the example value"));
        assert!(problem(Some("short")).contains("too short (5 bytes"));
        assert!(problem(Some(&"ab".repeat(20))).contains("too few distinct characters"));
    }

    #[test]
    fn database_urls_name_an_engine() {
        assert_eq!(database_url(None, false), None);
        assert!(database_url(None, true).is_some_and(|p| p.contains("is not set")));
        for ok in [
            "sqlite://x.db",
            "sqlite::memory:",
            "postgres://h/d",
            "postgresql://h/d",
        ] {
            assert_eq!(database_url(Some(ok), true), None, "{ok}");
        }
        assert_eq!(
            database_url(Some("mysql://h/d"), false).as_deref(),
            Some("DATABASE_URL must start with sqlite:// or postgres://")
        );
    }

    #[test]
    fn cookie_names_collect_both_problems() {
        assert!(cookie_name("__Host-session", true).is_empty());
        assert!(cookie_name("session", false).is_empty());
        assert_eq!(cookie_name("__Host-a b", false).len(), 2);
        assert_eq!(cookie_name("a;b", true).len(), 1);
    }

    #[test]
    fn limits_and_flags() {
        assert!(public_url("https://x").is_none() && public_url("ftp://x").is_some());
        assert!(cookie_httponly(false, true).is_some());
        assert!(cookie_httponly(false, false).is_none());
        assert!(lifetimes(1, 0).is_some() && lifetimes(1, 1).is_none());
        assert!(min_password_length(7, true).is_some());
        assert!(min_password_length(7, false).is_none());
        assert!(auth_rate_limit(0).is_some() && auth_rate_limit(1).is_none());
        assert_eq!(distinct_chars("aabbc"), 3);
    }
}
