//! The headers every answer carries (docs/design.md "Transport and headers"). A route
//! may set a stricter `Content-Security-Policy`, its own cross-origin policies or a
//! `Cache-Control` of its own (course packages and static assets do); everything else is
//! fixed here.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
/// The admin's Courses page (`/admin/courses`) alone runs a script: the same policy with
/// `script-src 'self'` (its upload progress script, `/static/admin-upload.js`; no inline
/// script) and `connect-src 'self'` (the upload it sends).
pub const ADMIN_COURSES_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
object-src 'none'";
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

// Built once, at compile time: `from_static` checks every byte, and this runs on every
// answer (cloning a static value copies no bytes).
static CSP_VALUE: HeaderValue = HeaderValue::from_static(CSP);
static HSTS_VALUE: HeaderValue = HeaderValue::from_static(HSTS);
static NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
static DENY: HeaderValue = HeaderValue::from_static("DENY");
static REFERRER: HeaderValue = HeaderValue::from_static("strict-origin-when-cross-origin");
static SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
static PERMISSIONS: HeaderValue =
    HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()");
static NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
static COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
static CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");
static PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");

/// Sets the security headers on a response's `headers`; `https` adds HSTS.
pub fn apply(h: &mut HeaderMap, https: bool) {
    // Room for all of them at once: growing the map a step at a time rehashes it each time.
    h.reserve(12);
    // A route may set a stricter policy of its own (course packages use `sandbox`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, CSP_VALUE.clone());
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF.clone());
    h.insert(header::X_FRAME_OPTIONS, DENY.clone());
    h.insert(header::REFERRER_POLICY, REFERRER.clone());
    // Course package files set their own (see routes/courses/files.rs); everything else is
    // same-origin.
    for name in [&COOP, &CORP] {
        h.entry(name.clone()).or_insert(SAME_ORIGIN.clone());
    }
    h.insert(PERMISSIONS_POLICY.clone(), PERMISSIONS.clone());
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS_VALUE.clone());
    }
    // Dynamic answers, and any answer that sets or clears a cookie, are never cached.
    if !h.contains_key(header::CACHE_CONTROL) || h.contains_key(header::SET_COOKIE) {
        h.insert(header::CACHE_CONTROL, NO_STORE.clone());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The complete header set of a plain answer, sorted by name.
    pub(crate) fn expected(https: bool) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            ("cache-control", "no-store"),
            (
                "content-security-policy",
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-resource-policy", "same-origin"),
            (
                "permissions-policy",
                "camera=(), microphone=(), geolocation=(), payment=()",
            ),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
        ];
        if https {
            v.push((
                "strict-transport-security",
                "max-age=31536000; includeSubDomains",
            ));
            v.sort();
        }
        v
    }

    /// Every (name, value) pair of `h`, sorted.
    pub(crate) fn pairs(h: &HeaderMap) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = h
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        v.sort();
        v
    }

    fn owned(v: Vec<(&str, &str)>) -> Vec<(String, String)> {
        v.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn full_set_over_http() {
        let mut h = HeaderMap::new();
        apply(&mut h, false);
        assert_eq!(pairs(&h), owned(expected(false)));
    }

    #[test]
    fn full_set_over_https() {
        let mut h = HeaderMap::new();
        apply(&mut h, true);
        assert_eq!(pairs(&h), owned(expected(true)));
    }

    /// The one page that may run a script: the site policy plus exactly `script-src 'self'`
    /// and `connect-src 'self'` — nothing inline, nothing from elsewhere.
    #[test]
    fn the_admin_courses_policy_adds_only_same_origin_script() {
        let directives = |p: &str| -> Vec<String> {
            let mut v: Vec<String> = p.split(';').map(|d| d.trim().to_string()).collect();
            v.sort();
            v
        };
        let mut want = directives(CSP);
        want.extend([
            "connect-src 'self'".to_string(),
            "script-src 'self'".to_string(),
        ]);
        want.sort();
        assert_eq!(directives(ADMIN_COURSES_CSP), want);
        assert!(
            !CSP.contains("script-src"),
            "the site itself runs no script"
        );
        assert!(!ADMIN_COURSES_CSP.contains("unsafe"), "{ADMIN_COURSES_CSP}");
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(ADMIN_COURSES_CSP),
        );
        apply(&mut h, false);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], ADMIN_COURSES_CSP);
    }

    #[test]
    fn route_policies_are_kept_but_cookies_are_never_cached() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_SECURITY_POLICY, "sandbox".parse().unwrap());
        h.insert(
            "cross-origin-resource-policy",
            "cross-origin".parse().unwrap(),
        );
        h.insert(
            header::CACHE_CONTROL,
            "public, max-age=3600".parse().unwrap(),
        );
        h.insert(header::SET_COOKIE, "a=b".parse().unwrap());
        apply(&mut h, false);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "sandbox");
        assert_eq!(h["cross-origin-resource-policy"], "cross-origin");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
    }
}
