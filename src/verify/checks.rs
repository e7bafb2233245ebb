//! The checks that need no account: TLS, §10 health, the plain-HTTP probe, the cookie's
//! flags (given the login's `Set-Cookie`) and HSTS. Headers and leaks are in `hygiene.rs`.

use std::time::{Duration, UNIX_EPOCH};

use reqwest::Method;
use serde_json::json;

use super::{
    TIMEOUT, Verifier,
    client::{Http, Resp, SetCookie, session_cookie, short},
    random_hex,
    tls_probe::{self, Legacy},
};

const ONE_YEAR: u64 = 31_536_000;

fn date(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .take(10)
        .collect()
}

impl Verifier {
    /// TLS: protocol, legacy versions, chain, expiry; then builds the HTTP client.
    pub async fn tls(&mut self) -> Result<(), String> {
        let insecure = self.args.insecure;
        let r = &mut self.report;
        if !self.target.https {
            r.fail(
                "tls.protocol",
                format!("{} is plain http://: no TLS at all", self.target.base),
            );
            r.skip_all("tls.", "not run: the URL is not https://");
            self.http = Some(build(&self.target.base, false)?);
            return Ok(());
        }
        let Some(name) = self.target.server_name.clone() else {
            return Err(format!(
                "{} is not a valid TLS server name",
                self.target.host
            ));
        };
        let addrs = self.target.addrs.clone();
        let hs = tokio::task::spawn_blocking(move || tls_probe::handshake(&addrs, name, TIMEOUT))
            .await
            .map_err(|e| e.to_string())?;
        match &hs {
            Ok(h) => {
                let alpn = h.alpn.as_deref().unwrap_or("none");
                let seen = format!("{}, {}, ALPN {alpn}", h.version, h.suite);
                if h.modern {
                    r.pass("tls.protocol", seen);
                } else {
                    r.fail("tls.protocol", seen);
                }
                let info = h.chain.first().and_then(|c| tls_probe::cert_info(c));
                let issuer = info
                    .as_ref()
                    .map(|i| format!("subject {}, issuer {}", i.subject, i.issuer))
                    .unwrap_or_default();
                match (&h.verdict, insecure) {
                    (Ok(()), _) => r.pass(
                        "tls.chain",
                        format!("valid for {} against the Mozilla roots, {issuer}", self.target.host),
                    ),
                    (Err(why), false) => r.fail(
                        "tls.chain",
                        format!("{why}; {issuer} — the other checks go on accepting it (or pass --insecure for a staging certificate)"),
                    ),
                    (Err(why), true) => r.skip(
                        "tls.chain",
                        format!("not required with --insecure; it does not validate: {why}; {issuer}"),
                    ),
                }
                match info {
                    Some(i) => {
                        let days = (i.not_after - crate::db::now()).div_euclid(86_400);
                        let names = if i.names.is_empty() {
                            String::new()
                        } else {
                            format!(", names {}", short(&i.names.join(" "), 80))
                        };
                        let seen = if days < 0 {
                            format!(
                                "expired {} days ago, on {}{names}",
                                -days,
                                date(i.not_after)
                            )
                        } else {
                            format!("{days} days left, until {}{names}", date(i.not_after))
                        };
                        if days < 7 {
                            r.fail("tls.expiry", seen);
                        } else if days < 30 {
                            r.warn("tls.expiry", format!("{seen} — renew it soon"));
                        } else {
                            r.pass("tls.expiry", seen);
                        }
                    }
                    None => r.fail("tls.expiry", "the server sent no readable certificate"),
                }
            }
            Err(e) => {
                r.fail("tls.protocol", e.clone());
                r.skip("tls.chain", "not run: no TLS handshake");
                r.skip("tls.expiry", "not run: no TLS handshake");
            }
        }
        let sni = match &self.target.server_name {
            Some(rustls::pki_types::ServerName::DnsName(d)) => Some(d.as_ref().to_string()),
            _ => None,
        };
        for (id, version) in [
            ("tls.legacy-1.0", tls_probe::TLS1_0),
            ("tls.legacy-1.1", tls_probe::TLS1_1),
        ] {
            let (addrs, sni) = (self.target.addrs.clone(), sni.clone());
            let answer = tokio::task::spawn_blocking(move || {
                tls_probe::legacy_probe(&addrs, sni.as_deref(), version, TIMEOUT)
            })
            .await
            .map_err(|e| e.to_string())?;
            match answer {
                Ok(Legacy::Refused(why)) => r.pass(id, format!("refused: {why}")),
                Ok(Legacy::Accepted(what)) => r.fail(id, format!("accepted: {what}")),
                Err(e) => r.skip(id, format!("could not connect to test it: {e}")),
            }
        }
        self.tls_verify = matches!(&hs, Ok(h) if h.verdict.is_ok());
        self.http = Some(build(&self.target.base, self.tls_verify)?);
        Ok(())
    }

    /// §10: `HEAD /`, `GET /api/content`, `GET /health`. False when nothing answered.
    pub async fn health(&mut self) -> bool {
        let http = self.http().clone();
        let mut answered = false;
        match http.req(Method::HEAD, "/").send().await {
            Ok(res) => {
                answered = true;
                if res.status.as_u16() == 200 {
                    self.report.pass("health.head", res.status.to_string());
                } else {
                    self.report.fail("health.head", res.summary());
                }
            }
            Err(e) => self.report.fail("health.head", format!("no answer: {e}")),
        }
        match http.get("/api/content").send().await {
            Ok(res) => {
                answered = true;
                let ct = res
                    .header("content-type")
                    .unwrap_or("no Content-Type")
                    .to_string();
                match (res.status.as_u16(), res.json()) {
                    (200, Some(j)) => match j.get("content").and_then(|c| c.as_array()) {
                        Some(list) => self.report.pass(
                            "health.content",
                            format!("200, {ct}, {} courses", list.len()),
                        ),
                        None => self.report.warn(
                            "health.content",
                            format!("200, {ct}, but no \"content\" list (not GLEH's shape)"),
                        ),
                    },
                    (200, None) => self
                        .report
                        .fail("health.content", format!("200 but not JSON ({ct})")),
                    _ => self.report.fail("health.content", res.summary()),
                }
                self.pages.push(("/api/content".into(), res));
            }
            Err(e) => self
                .report
                .fail("health.content", format!("no answer: {e}")),
        }
        match http.get("/health").send().await {
            Ok(res) => {
                answered = true;
                let status = res
                    .json()
                    .and_then(|j| j.get("status").and_then(|s| s.as_str()).map(String::from));
                match (res.status.as_u16(), status) {
                    (200, Some(s)) if ["ok", "healthy", "pass", "up"].contains(&s.as_str()) => self
                        .report
                        .pass("health.status", format!("200, status {s:?}")),
                    (200, Some(s)) => self
                        .report
                        .warn("health.status", format!("200, but status {s:?}")),
                    (200, None) => self
                        .report
                        .fail("health.status", "200 but no JSON \"status\" field"),
                    _ => self.report.fail("health.status", res.summary()),
                }
            }
            Err(e) => self.report.fail("health.status", format!("no answer: {e}")),
        }
        answered
    }

    /// `GET /` (HSTS, headers) and a missing page (headers, leaks).
    pub async fn front_page(&mut self) {
        let http = self.http().clone();
        match http.get("/").send().await {
            Ok(res) => {
                self.hsts(&res);
                self.pages.push(("/".into(), res));
            }
            Err(e) => self.report.fail("https.hsts", format!("GET / failed: {e}")),
        }
        let missing = format!("/verify-missing-{}", random_hex(4));
        if let Ok(res) = http.get(&missing).send().await {
            self.pages.push((missing.clone(), res.clone()));
            self.errors.push((format!("GET {missing}"), res));
        }
        if let Ok(res) = http.req(Method::PUT, "/health").send().await {
            self.errors.push(("PUT /health".into(), res));
        }
    }

    fn hsts(&mut self, res: &Resp) {
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

    /// §11 Test 2: the seed's login POST over plain HTTP must get a redirect to https.
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
        let id = "https.redirect";
        let res = match res {
            Ok(res) => res,
            Err(e) if self.target.http_explicit => {
                return self.report.fail(id, format!("cannot reach {url}: {e}"));
            }
            Err(e) => {
                return self.report.warn(
                    id,
                    format!(
                        "nothing answers on {} ({e}): nobody can log in over plain HTTP, but visitors typing http:// get an error instead of a redirect (or pass --http-url)",
                        self.target.http_base
                    ),
                );
            }
        };
        let cookie = session_cookie(&res);
        if res.status.is_redirection() {
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
            match cookie {
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
            return;
        }
        // Not a redirect: the request reached something that answers logins.
        http.auth_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match cookie {
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

    /// §11 Test 1 (and DESIGN.md "Sessions"): the session cookie's attributes.
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
        match c.attr("path") {
            Some("/") => r.pass("cookie.path", shown.clone()),
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

/// A client for the deployment: verifying the chain against the Mozilla roots, or not.
pub fn build(base: &str, verify: bool) -> Result<Http, String> {
    let tls = tls_probe::client_config(verify).map_err(|e| e.to_string())?;
    Http::new(base, tls, false).map_err(|e| e.to_string())
}

/// The same for the load test: a new connection per request.
pub fn build_fresh(base: &str, verify: bool) -> Result<Http, String> {
    let tls = tls_probe::client_config(verify).map_err(|e| e.to_string())?;
    Http::new(base, tls, true).map_err(|e| e.to_string())
}
