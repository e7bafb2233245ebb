//! Every check `verify` reports, in the deployment checklist's section order (the order they
//! are printed in, whatever order they run in).

/// Every check: (section, id, what it asserts), in the order they are printed.
pub const CHECKS: &[(&str, &str, &str)] = &[
    ("§10", "health.head", "HEAD / answers 200"),
    (
        "§10",
        "health.content",
        "GET /api/content answers 200 with JSON",
    ),
    (
        "§10",
        "health.status",
        "GET /health answers 200 with a status",
    ),
    ("TLS", "tls.protocol", "TLS 1.2 or 1.3 is negotiated"),
    ("TLS", "tls.legacy-1.0", "TLS 1.0 is refused"),
    ("TLS", "tls.legacy-1.1", "TLS 1.1 is refused"),
    (
        "TLS",
        "tls.chain",
        "the certificate chain is valid for the host",
    ),
    (
        "TLS",
        "tls.expiry",
        "the certificate has at least 30 days left",
    ),
    (
        "§11",
        "https.redirect",
        "a login POST over plain HTTP is redirected to https",
    ),
    ("§11", "cookie.secure", "the session cookie is Secure"),
    ("§11", "cookie.httponly", "the session cookie is HttpOnly"),
    (
        "§11",
        "cookie.samesite",
        "the session cookie is SameSite=Lax or Strict",
    ),
    ("§11", "cookie.path", "the session cookie has Path=/"),
    ("§11", "cookie.domain", "the session cookie has no Domain"),
    (
        "§11",
        "cookie.prefix",
        "the session cookie's name has the __Host- prefix",
    ),
    (
        "§11",
        "https.hsts",
        "Strict-Transport-Security max-age is at least 31536000",
    ),
    ("§14", "auth.register", "a throwaway user registers (201)"),
    (
        "§14",
        "auth.login",
        "login answers 200 with a session cookie",
    ),
    ("§14", "auth.session", "check_session says authenticated"),
    (
        "§14",
        "auth.profile",
        "GET /profile answers 200 when logged in",
    ),
    ("§13", "csrf.token", "GET /csrf-token gives a token"),
    (
        "§13",
        "csrf.valid",
        "a profile update with the token succeeds",
    ),
    (
        "§13",
        "csrf.invalid",
        "a profile update with an invalid token is refused",
    ),
    (
        "§13",
        "csrf.missing",
        "a profile update without a token is refused",
    ),
    (
        "§13",
        "csrf.cross-site",
        "a profile update with Sec-Fetch-Site: cross-site is refused",
    ),
    ("logout", "logout.status", "logout answers 200"),
    (
        "logout",
        "logout.profile",
        "GET /profile after logout is 401 or a redirect",
    ),
    (
        "logout",
        "logout.replay",
        "the cookie captured before logout no longer authenticates",
    ),
    (
        "§12",
        "session.timeout",
        "an idle session is rejected after --session-timeout",
    ),
    ("§15", "load.content", "load test on GET /api/content"),
    (
        "hygiene",
        "headers.csp",
        "Content-Security-Policy sets default-src, frame-ancestors, object-src and base-uri",
    ),
    (
        "hygiene",
        "headers.nosniff",
        "X-Content-Type-Options is nosniff",
    ),
    ("hygiene", "headers.referrer", "Referrer-Policy is set"),
    (
        "hygiene",
        "headers.coop",
        "Cross-Origin-Opener-Policy is set",
    ),
    (
        "hygiene",
        "leak.errors",
        "error responses show no stack trace or version banner",
    ),
    (
        "hygiene",
        "leak.server",
        "no Server or X-Powered-By header names a version",
    ),
    (
        "hygiene",
        "body.limit",
        "a 6 MiB request body is refused with 413",
    ),
    (
        "cleanup",
        "cleanup.account",
        "the throwaway account is deleted",
    ),
];
