//! Settings: `url.https` (PUBLIC_URL), `session.settings`, `session.absolute`,
//! `session.cookie-name`, `password.min-length`, `auth.rate-limit` and `proxy.trusted`.

use super::{Report, env_var};
use crate::config::Config;

/// The deployment checklist's §7 idle lifetime, and the production absolute lifetime of
/// docs/design.md "Sessions".
const MAX_IDLE_SECS: u64 = 3600;
const MAX_ABSOLUTE_SECS: u64 = 43_200;
/// NIST SP 800-63B-4 / ASVS 5 6.2.1: 15 characters for single-factor passwords.
const ADVISED_MIN_PASSWORD: usize = 15;
/// Above this many login/registration attempts per minute per IP, the limit barely slows a guesser.
const MAX_AUTH_RATE: u32 = 20;

pub(super) fn check_public_url(r: &mut Report) {
    const WHAT: &str = "PUBLIC_URL";
    match env_var("PUBLIC_URL") {
        None => r.warn(
            "url.https",
            WHAT,
            "not set: set it to the public https:// origin (origin checks, redirects)",
        ),
        Some(u) if u.trim().to_ascii_lowercase().starts_with("https://") => {
            r.pass("url.https", WHAT, u.trim())
        }
        Some(u) => r.fail(
            "url.https",
            WHAT,
            format!(
                "{} is not https: the checklist requires HTTPS for every page (Secure cookies, HSTS)",
                u.trim()
            ),
        ),
    }
}

pub(super) fn check_session(config: &Config, r: &mut Report) {
    const WHAT: &str = "session settings";
    let py = |b: bool| if b { "True" } else { "False" };
    let idle = config.idle_lifetime.as_secs();
    let seen = format!(
        "SESSION_COOKIE_SECURE={}, SESSION_COOKIE_HTTPONLY={}, SESSION_COOKIE_SAMESITE={}, PERMANENT_SESSION_LIFETIME={idle}",
        py(config.cookie_secure),
        py(config.cookie_httponly),
        config.cookie_samesite.as_str()
    );
    let mut bad = Vec::new();
    if !config.cookie_secure {
        bad.push("SESSION_COOKIE_SECURE must be True".to_string());
    }
    if !config.cookie_httponly {
        bad.push("SESSION_COOKIE_HTTPONLY must be True".to_string());
    }
    // SameSite is Lax or Strict by construction (Config refuses None).
    if idle > MAX_IDLE_SECS {
        bad.push(format!(
            "PERMANENT_SESSION_LIFETIME must be at most {MAX_IDLE_SECS}"
        ));
    }
    if bad.is_empty() {
        r.pass(
            "session.settings",
            WHAT,
            format!("{seen} (the checklist's §7 values or stricter)"),
        );
    } else {
        r.fail(
            "session.settings",
            WHAT,
            format!("{}; seen: {seen}", bad.join("; ")),
        );
    }

    const ABS: &str = "absolute session lifetime";
    let absolute = config.absolute_lifetime.as_secs();
    if absolute <= MAX_ABSOLUTE_SECS {
        r.pass(
            "session.absolute",
            ABS,
            format!("SESSION_ABSOLUTE_LIFETIME={absolute}"),
        );
    } else {
        r.warn(
            "session.absolute",
            ABS,
            format!(
                "SESSION_ABSOLUTE_LIFETIME={absolute}: sessions outlive a working day; {MAX_ABSOLUTE_SECS} (12 h) or less is advised"
            ),
        );
    }

    const NAME: &str = "session cookie name";
    if !config.cookie_secure {
        // Without Secure the __Host- prefix is impossible; session.settings already fails.
    } else if config.cookie_name.starts_with("__Host-") {
        r.pass("session.cookie-name", NAME, config.cookie_name.clone());
    } else {
        r.warn(
            "session.cookie-name",
            NAME,
            format!(
                "{}: a __Host- name binds the cookie to this host, path / and Secure (leave SESSION_COOKIE_NAME unset)",
                config.cookie_name
            ),
        );
    }
}

pub(super) fn check_passwords(config: &Config, r: &mut Report) {
    const LEN: &str = "minimum password length";
    let min = config.min_password_length;
    if min >= ADVISED_MIN_PASSWORD {
        r.pass(
            "password.min-length",
            LEN,
            format!("MIN_PASSWORD_LENGTH={min}"),
        );
    } else {
        r.warn(
            "password.min-length",
            LEN,
            format!(
                "MIN_PASSWORD_LENGTH={min}: NIST SP 800-63B and ASVS 6.2.1 recommend {ADVISED_MIN_PASSWORD} for accounts with a password only"
            ),
        );
    }
    const RATE: &str = "login rate limit";
    let rate = config.auth_rate_limit;
    if rate <= MAX_AUTH_RATE {
        r.pass(
            "auth.rate-limit",
            RATE,
            format!("AUTH_RATE_LIMIT={rate} attempts per minute per client"),
        );
    } else {
        r.warn(
            "auth.rate-limit",
            RATE,
            format!(
                "AUTH_RATE_LIMIT={rate} attempts per minute per client: above {MAX_AUTH_RATE} it barely slows password guessing"
            ),
        );
    }
}

pub(super) fn check_proxies(config: &Config, r: &mut Report) {
    const WHAT: &str = "trusted proxies";
    let all: Vec<String> = config
        .trusted_proxies
        .iter()
        .filter(|n| n.prefix_len() == 0)
        .map(|n| n.to_string())
        .collect();
    let listed: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    if !all.is_empty() {
        r.fail(
            "proxy.trusted",
            WHAT,
            format!(
                "TRUSTED_PROXIES contains {}: every client could forge X-Forwarded-For (dodging the login limits, faking log addresses) and X-Forwarded-Proto — list only your proxies' addresses",
                all.join(", ")
            ),
        );
    } else if listed.is_empty() {
        r.pass("proxy.trusted", WHAT, "none: forwarded headers are ignored");
    } else {
        r.pass(
            "proxy.trusted",
            WHAT,
            format!("forwarded headers believed only from {}", listed.join(", ")),
        );
    }
}
