//! The checklist's §11: the session travels only over HTTPS. Test 2 (a login POST over plain
//! HTTP is redirected to https and sets no cookie), Test 1 (the session cookie's attributes,
//! docs/design.md "Sessions"), and HSTS on `GET /` (docs/design.md "Transport and headers").

use reqwest::Method;
use serde_json::json;

use super::{
    Verifier,
    client::Resp,
    cookies::{SetCookie, session_cookie},
    random_hex,
};

/// One year, the shortest HSTS max-age accepted.
const ONE_YEAR: u64 = 31_536_000;

impl Verifier {
    /// `Strict-Transport-Security` with a max-age of at least a year.
    pub fn hsts(&mut self, res: &Resp) {
        let Some(value) = res.header("strict-transport-security") else {
            let why = if self.target.https {
                "no Strict-Transport-Security header on GET / over https: browsers will keep trying plain HTTP first"
            } else {
                "no Strict-Transport-Security header (and the URL is plain http://, where it cannot apply)"
            };
            self.report.fail("https.hsts", why);
            return;
        };
        let max_age = value.split(';').find_map(|d| {
            let (k, v) = d.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| v.trim().trim_matches('"').parse::<u64>().ok())?
        });
        match max_age {
            Some(a) if a >= ONE_YEAR => self.report.pass("https.hsts", value.to_string()),
            Some(a) => self.report.fail(
                "https.hsts",
                format!("{value} — max-age {a} is under one year ({ONE_YEAR})"),
            ),
            None => self
                .report
                .fail("https.hsts", format!("{value} — no valid max-age")),
        }
    }

    /// §11 Test 2: the checklist's login POST over plain HTTP must get a redirect to https.
    pub async fn http_redirect(&mut self) {
        // Never send a real account's password without TLS: probe with an unknown user.
        let (user, pw) = if self.throwaway {
            (self.username.clone(), self.password.clone())
        } else {
            (format!("verify_probe_{}", random_hex(6)), random_hex(18))
        };
        let url = format!("{}/api/login", self.target.http_base);
        let http = self.http().clone();
        let res = http
            .url_req(Method::POST, &url, "/api/login")
            .uncounted()
            .json(&json!({"username": user, "password": pw}))
            .send()
            .await;
        let res = match res {
            Ok(res) => res,
            Err(e) if self.target.http_explicit => {
                return self
                    .report
                    .fail("https.redirect", format!("cannot reach {url}: {e}"));
            }
            Err(e) => {
                return self.report.warn(
                    "https.redirect",
                    format!(
                        "nothing answers on {} ({e}): nobody can log in over plain HTTP, but visitors typing http:// get an error instead of a redirect (or pass --http-url)",
                        self.target.http_base
                    ),
                );
            }
        };
        if res.status.is_redirection() {
            return self.redirect_check(&res);
        }
        // Not a redirect: the request reached something that answers logins.
        http.auth_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.served_without_tls(&res);
    }

    /// A redirect passes when it goes to https and sets no cookie on the way.
    fn redirect_check(&mut self, res: &Resp) {
        let id = "https.redirect";
        let location = res.header("location").unwrap_or("").to_string();
        if !location.starts_with("https://") {
            let to = if location.is_empty() {
                "no Location".to_string()
            } else {
                location
            };
            return self
                .report
                .fail(id, format!("{} to {to}, not to https", res.status));
        }
        match session_cookie(res) {
            Some(c) => self.report.fail(
                id,
                format!(
                    "{} to {location}, but it set a cookie over plain HTTP: {}",
                    res.status,
                    c.redacted()
                ),
            ),
            None => self
                .report
                .pass(id, format!("{} to {location}, no cookie", res.status)),
        }
    }

    /// The app answered over plain HTTP: a FAIL, worse when it logged the probe in.
    fn served_without_tls(&mut self, res: &Resp) {
        let id = "https.redirect";
        match session_cookie(res) {
            Some(c) if res.status.is_success() => self.report.fail(
                id,
                format!(
                    "logged in over plain HTTP: {} with Set-Cookie {} — {} serves the app instead of redirecting to https",
                    res.summary(),
                    c.redacted(),
                    self.target.http_base
                ),
            ),
            _ => self.report.fail(
                id,
                format!(
                    "answered {} over plain HTTP instead of a redirect to https — {} serves the app without TLS",
                    res.summary(),
                    self.target.http_base
                ),
            ),
        }
    }

    /// §11 Test 1: the session cookie's attributes.
    pub fn cookie_checks(&mut self, c: &SetCookie) {
        let shown = c.redacted();
        let r = &mut self.report;
        if c.has("secure") {
            r.pass("cookie.secure", shown.clone());
        } else {
            r.fail(
                "cookie.secure",
                format!("no Secure flag in {shown} — browsers will send the session over plain HTTP (SESSION_COOKIE_SECURE is off?)"),
            );
        }
        if c.has("httponly") {
            r.pass("cookie.httponly", shown.clone());
        } else {
            r.fail(
                "cookie.httponly",
                format!("no HttpOnly flag in {shown} — page scripts can read the session"),
            );
        }
        match c.attr("samesite").map(str::to_ascii_lowercase).as_deref() {
            Some("lax" | "strict") => r.pass("cookie.samesite", shown.clone()),
            Some(other) => r.fail(
                "cookie.samesite",
                format!("SameSite={other} in {shown} — sent with cross-site requests"),
            ),
            None => r.fail(
                "cookie.samesite",
                format!("no SameSite attribute in {shown}"),
            ),
        }
        self.scope_checks(c, &shown);
    }

    /// Where the session cookie goes: Path=/, no Domain, and the `__Host-` prefix.
    fn scope_checks(&mut self, c: &SetCookie, shown: &str) {
        let r = &mut self.report;
        match c.attr("path") {
            Some("/") => r.pass("cookie.path", shown),
            Some(p) => r.fail("cookie.path", format!("Path={p} in {shown}")),
            None => r.fail(
                "cookie.path",
                format!("no Path attribute in {shown} — it defaults to the login URL's directory"),
            ),
        }
        match c.attr("domain") {
            None => r.pass("cookie.domain", format!("host-only: {shown}")),
            Some(d) => r.fail(
                "cookie.domain",
                format!("Domain={d} in {shown} — the cookie is sent to every subdomain"),
            ),
        }
        if c.name.starts_with("__Host-") {
            r.pass("cookie.prefix", c.name.clone());
        } else {
            r.warn(
                "cookie.prefix",
                format!(
                    "named {} — with __Host- browsers enforce Secure, Path=/ and no Domain",
                    c.name
                ),
            );
        }
    }
}
