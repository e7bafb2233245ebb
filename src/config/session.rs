//! The session cookie and lifetimes: SESSION_COOKIE_SECURE, SESSION_COOKIE_HTTPONLY,
//! SESSION_COOKIE_SAMESITE, SESSION_COOKIE_NAME, PERMANENT_SESSION_LIFETIME and
//! SESSION_ABSOLUTE_LIFETIME (docs/design.md "Sessions"), and ADMIN_REAUTH_WINDOW, how long an
//! admin's re-entered password allows account changes (docs/design.md "Admin panel").

use std::time::Duration;

use super::{SameSite, env::Vars, validate};

/// The session part of [`super::Config`] (the fields of the same names).
pub(super) struct Session {
    pub(super) cookie_secure: bool,
    pub(super) cookie_httponly: bool,
    pub(super) cookie_samesite: SameSite,
    pub(super) cookie_name: String,
    pub(super) idle_lifetime: Duration,
    pub(super) absolute_lifetime: Duration,
    pub(super) admin_reauth_window: Duration,
}

impl Session {
    /// Production defaults: a Secure `__Host-` cookie, 1 hour idle, 12 hours at most.
    pub(super) fn from_env(vars: &mut Vars, prod: bool) -> Session {
        let cookie_secure = vars.flag("SESSION_COOKIE_SECURE", prod);
        let cookie_httponly = vars.flag("SESSION_COOKIE_HTTPONLY", true);
        vars.report(validate::cookie_httponly(cookie_httponly, prod));
        let cookie_samesite = same_site(vars);
        let cookie_name = vars.text(
            "SESSION_COOKIE_NAME",
            if cookie_secure {
                "__Host-session"
            } else {
                "session"
            },
        );
        vars.report(validate::cookie_name(&cookie_name, cookie_secure));
        let idle = vars.number(
            "PERMANENT_SESSION_LIFETIME",
            if prod { 3600 } else { 86400 },
        );
        let absolute = vars.number(
            "SESSION_ABSOLUTE_LIFETIME",
            if prod { 43200 } else { 604800 },
        );
        vars.report(validate::lifetimes(idle, absolute));
        let reauth = vars.number("ADMIN_REAUTH_WINDOW", 600u64);
        vars.report(validate::admin_reauth_window(reauth));
        Session {
            cookie_secure,
            cookie_httponly,
            cookie_samesite,
            cookie_name,
            idle_lifetime: Duration::from_secs(idle),
            absolute_lifetime: Duration::from_secs(absolute),
            admin_reauth_window: Duration::from_secs(reauth),
        }
    }
}

/// `Lax` or `Strict`, in any case; `None` is refused (the cookie would go cross-site).
fn same_site(vars: &mut Vars) -> SameSite {
    match vars
        .get("SESSION_COOKIE_SAMESITE")
        .as_deref()
        .map(str::trim)
    {
        None => SameSite::Lax,
        Some(v) if v.eq_ignore_ascii_case("lax") => SameSite::Lax,
        Some(v) if v.eq_ignore_ascii_case("strict") => SameSite::Strict,
        Some(v) => {
            vars.problem(format!(
                "SESSION_COOKIE_SAMESITE must be Lax or Strict (got {v:?}); None is not supported"
            ));
            SameSite::Lax
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_defaults_are_strict() {
        let mut vars = Vars::from_pairs(&[]);
        let s = Session::from_env(&mut vars, true);
        assert!(vars.problems.is_empty(), "{:?}", vars.problems);
        assert!(s.cookie_secure && s.cookie_httponly);
        assert_eq!(s.cookie_name, "__Host-session");
        assert_eq!(s.idle_lifetime, Duration::from_secs(3600));
        assert_eq!(s.absolute_lifetime, Duration::from_secs(43200));
        let s = Session::from_env(&mut vars, false);
        assert!(!s.cookie_secure);
        assert_eq!(s.cookie_name, "session");
        assert_eq!(s.idle_lifetime, Duration::from_secs(86400));
        assert_eq!(s.absolute_lifetime, Duration::from_secs(604800));
    }

    #[test]
    fn unsafe_values_are_reported_in_reading_order() {
        let mut vars = Vars::from_pairs(&[
            ("SESSION_COOKIE_HTTPONLY", "off"),
            ("SESSION_COOKIE_SAMESITE", " None "),
            ("PERMANENT_SESSION_LIFETIME", "0"),
        ]);
        let s = Session::from_env(&mut vars, true);
        assert_eq!(s.cookie_samesite, SameSite::Lax);
        assert_eq!(
            vars.problems,
            [
                "SESSION_COOKIE_HTTPONLY=false is not allowed in production",
                "SESSION_COOKIE_SAMESITE must be Lax or Strict (got \"None\"); None is not supported",
                "session lifetimes must be at least 1 second",
            ]
        );
    }

    #[test]
    fn same_site_ignores_case() {
        let mut vars = Vars::from_pairs(&[("SESSION_COOKIE_SAMESITE", "STRICT")]);
        assert_eq!(same_site(&mut vars), SameSite::Strict);
    }
}
