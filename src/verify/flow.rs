//! The account's path through the checks, in the order they run: register (§14), log in
//! (§14, and §11's cookie), the session (§14), the load test (§15), logout and the
//! replayed cookie, the session timeout (§12), and the cleanup. CSRF is in `csrf.rs`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Verifier,
    checks::build_fresh,
    client::{Jar, Resp, session_cookie, short},
    load,
};

/// The report text for a 429 from the auth endpoints.
fn rate_limited(res: &Resp) -> String {
    let retry = res
        .header("retry-after")
        .map(|s| format!(" (Retry-After: {s} s)"))
        .unwrap_or_default();
    format!(
        "429 Too Many Requests{retry}: the server's login/registration limit (AUTH_RATE_LIMIT, 5 a minute per IP by default) is used up — wait a minute and run verify again"
    )
}

fn authenticated(res: &Resp) -> bool {
    res.status.is_success()
        && res
            .json()
            .is_some_and(|j| j.get("is_authenticated") == Some(&Value::Bool(true)))
}

impl Verifier {
    /// §14.1: a throwaway user with a random name and a strong random password.
    pub async fn register(&mut self) {
        if !self.throwaway {
            let seen = format!(
                "not run: using the existing account {} (--username)",
                self.username
            );
            return self.report.skip("auth.register", seen);
        }
        let res = self
            .http()
            .post("/api/register")
            .json(&json!({"username": self.username, "password": self.password}))
            .send()
            .await;
        match res {
            Ok(res) if res.status.as_u16() == 201 => {
                self.registered = true;
                let seen = format!("{}, user {}", res.summary(), self.username);
                self.report.pass("auth.register", seen);
            }
            Ok(res) if res.status.is_success() => {
                self.registered = true;
                let seen = format!(
                    "{} instead of 201 Created, user {}",
                    res.summary(),
                    self.username
                );
                self.report.warn("auth.register", seen);
            }
            Ok(res) if res.status.as_u16() == 429 => {
                self.report.fail("auth.register", rate_limited(&res))
            }
            Ok(res) => self.report.fail(
                "auth.register",
                format!(
                    "{} — if registration is closed here, use --username/--password",
                    res.summary()
                ),
            ),
            Err(e) => self.report.fail("auth.register", format!("no answer: {e}")),
        }
    }

    /// A login as the seed sends it (JSON, no CSRF token); the response, or the report text.
    pub async fn login_request(&self) -> Result<Resp, String> {
        self.http()
            .post("/api/login")
            .json(&json!({"username": self.username, "password": self.password}))
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))
    }

    /// §14.2 and §11 Test 1: the session cookie of a fresh login. True when logged in.
    pub async fn login(&mut self) -> bool {
        if self.throwaway && !self.registered {
            self.report
                .skip("auth.login", "not run: no account (registration failed)");
            return false;
        }
        let res = match self.login_request().await {
            Ok(r) => r,
            Err(e) => {
                self.report.fail("auth.login", e);
                return false;
            }
        };
        if res.status.as_u16() == 429 {
            self.report.fail("auth.login", rate_limited(&res));
            return false;
        }
        if res.status.as_u16() != 200 {
            self.report.fail("auth.login", res.summary());
            return false;
        }
        let Some(cookie) = session_cookie(&res) else {
            self.report.fail(
                "auth.login",
                format!("{} but no session cookie was set", res.summary()),
            );
            return false;
        };
        self.jar.update(&res);
        let seen = format!("{}, cookie {}", res.summary(), cookie.name);
        self.report.pass("auth.login", seen);
        self.cookie_checks(&cookie);
        true
    }

    /// §14.3: the session is live.
    pub async fn session_checks(&mut self) {
        let http = self.http().clone();
        match http
            .get("/api/check_session")
            .cookies(&self.jar)
            .send()
            .await
        {
            Ok(res) if authenticated(&res) => {
                let user = res
                    .json()
                    .and_then(|j| j["user"]["username"].as_str().map(String::from))
                    .unwrap_or_default();
                self.report.pass(
                    "auth.session",
                    format!(
                        "{}, is_authenticated true, user {user}",
                        res.status.as_u16()
                    ),
                );
            }
            Ok(res) => self.report.fail(
                "auth.session",
                format!("{}: {}", res.status, short(&res.body, 100)),
            ),
            Err(e) => self.report.fail("auth.session", format!("no answer: {e}")),
        }
        match http.get("/profile").cookies(&self.jar).send().await {
            Ok(res) if res.status.as_u16() == 200 => {
                let ct = res.header("content-type").unwrap_or("no Content-Type");
                self.report.pass("auth.profile", format!("200, {ct}"));
            }
            Ok(res) => {
                let to = res
                    .header("location")
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default();
                self.report
                    .fail("auth.profile", format!("{}{to}", res.summary()));
            }
            Err(e) => self.report.fail("auth.profile", format!("no answer: {e}")),
        }
    }

    /// §15: requests/s, mean, p50, p99 and failures on `GET /api/content`.
    pub async fn load_test(&mut self) {
        let http = match build_fresh(&self.target.base, self.tls_verify) {
            Ok(h) => h,
            Err(e) => return self.report.fail("load.content", e),
        };
        let (n, c) = (self.args.requests as usize, self.args.concurrency as usize);
        let r = load::run(&http, "/api/content", n, c, self.progress).await;
        let seen = format!(
            "{n} requests, {} concurrent, new connection each: {:.1} req/s, mean {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, {} failed",
            r.concurrency,
            r.per_second(),
            r.mean_ms(),
            r.percentile_ms(50.0),
            r.percentile_ms(99.0),
            r.failures
        );
        self.load = Some(json!({
            "path": "/api/content", "requests": n, "concurrency": r.concurrency,
            "seconds": r.elapsed.as_secs_f64(), "requests_per_second": r.per_second(),
            "mean_ms": r.mean_ms(), "p50_ms": r.percentile_ms(50.0), "p99_ms": r.percentile_ms(99.0),
            "failures": r.failures,
        }));
        if r.failures > 0 {
            let first = r.first_failure.unwrap_or_default();
            self.report
                .fail("load.content", format!("{seen}; first failure: {first}"));
        } else if r.per_second() < 10.0 || r.mean_ms() > 500.0 {
            self.report.warn(
                "load.content",
                format!("{seen} — the seed expects > 10 req/s and < 500 ms"),
            );
        } else {
            self.report.pass("load.content", seen);
        }
    }

    /// §14.4–5 and the replay: logout ends the session on the server, not just in the jar.
    pub async fn logout_checks(&mut self) {
        let http = self.http().clone();
        let captured = self.jar.clone();
        let logged_out = match http.post("/api/logout").cookies(&self.jar).send().await {
            Ok(res) if res.status.as_u16() == 200 => {
                self.report.pass("logout.status", res.summary());
                self.jar.update(&res);
                true
            }
            Ok(res) => {
                self.report.fail("logout.status", res.summary());
                false
            }
            Err(e) => {
                self.report.fail("logout.status", format!("no answer: {e}"));
                false
            }
        };
        match http.get("/profile").cookies(&self.jar).send().await {
            Ok(res) if res.status.as_u16() == 401 || res.status.is_redirection() => {
                let to = res
                    .header("location")
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default();
                self.report
                    .pass("logout.profile", format!("{}{to}", res.status));
            }
            Ok(res) => self.report.fail(
                "logout.profile",
                format!("{} — still served after logout", res.summary()),
            ),
            Err(e) => self
                .report
                .fail("logout.profile", format!("no answer: {e}")),
        }
        if !logged_out {
            self.report
                .skip("logout.replay", "not run: logout itself failed");
        } else {
            let check = http
                .get("/api/check_session")
                .cookies(&captured)
                .send()
                .await;
            let profile = http.get("/api/profile").cookies(&captured).send().await;
            match (check, profile) {
                (Ok(c), Ok(p)) => {
                    let seen = format!(
                        "check_session {}, /api/profile {}",
                        c.status.as_u16(),
                        p.status.as_u16()
                    );
                    if authenticated(&c) || p.status.is_success() {
                        self.report.fail(
                            "logout.replay",
                            format!("logout does not revoke the session server-side: the cookie captured before logout still authenticates ({seen}) — anyone who copied it stays logged in"),
                        );
                    } else {
                        self.report.pass("logout.replay", seen);
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    self.report.fail("logout.replay", format!("no answer: {e}"))
                }
            }
        }
        self.jar = Jar::default();
    }

    /// A fresh login's cookie jar, or the report text.
    async fn fresh_session(&mut self) -> Result<Jar, String> {
        let res = self.login_request().await?;
        match res.status.as_u16() {
            200 => {
                let mut jar = Jar::default();
                jar.update(&res);
                Ok(jar)
            }
            429 => Err(rate_limited(&res)),
            _ => Err(format!("login: {}", res.summary())),
        }
    }

    /// §12: an idle session is rejected after `--session-timeout` seconds.
    pub async fn session_timeout(&mut self) {
        let Some(secs) = self.args.session_timeout else {
            return self.report.skip(
                "session.timeout",
                "not run: pass --session-timeout SECONDS for a deployment with a short PERMANENT_SESSION_LIFETIME",
            );
        };
        let jar = match self.fresh_session().await {
            Ok(j) => j,
            Err(e) => return self.report.fail("session.timeout", e),
        };
        let http = self.http().clone();
        match http.get("/api/check_session").cookies(&jar).send().await {
            Ok(res) if authenticated(&res) => {}
            Ok(res) => {
                return self.report.fail(
                    "session.timeout",
                    format!("a fresh session is rejected at once ({})", res.summary()),
                );
            }
            Err(e) => {
                return self
                    .report
                    .fail("session.timeout", format!("no answer: {e}"));
            }
        }
        let wait = Duration::from_secs(secs + 2);
        let until = Instant::now() + wait;
        while Instant::now() < until {
            let left = until.saturating_duration_since(Instant::now()).as_secs();
            self.progress.show(&format!(
                "§12: waiting for the session to expire: {left} s left"
            ));
            tokio::time::sleep(
                Duration::from_millis(250).min(until.saturating_duration_since(Instant::now())),
            )
            .await;
        }
        self.progress.clear();
        match http.get("/api/check_session").cookies(&jar).send().await {
            Ok(res) if !authenticated(&res) => self.report.pass(
                "session.timeout",
                format!(
                    "authenticated at first, rejected after {} s idle ({})",
                    wait.as_secs(),
                    res.status
                ),
            ),
            Ok(res) => {
                self.report.fail(
                    "session.timeout",
                    format!("still authenticated after {} s idle ({}) — the session lifetime is longer than {secs} s", wait.as_secs(), res.status),
                );
                self.spare = Some(jar);
            }
            Err(e) => self
                .report
                .fail("session.timeout", format!("no answer: {e}")),
        }
    }

    /// Deletes the throwaway account (`DELETE /api/account`, session + token + password).
    pub async fn cleanup(&mut self) {
        let id = "cleanup.account";
        if !self.throwaway {
            let seen = format!("not run: the existing account {} is kept", self.username);
            return self.report.skip(id, seen);
        }
        if !self.registered {
            return self.report.skip(id, "not run: no account was registered");
        }
        let user = self.username.clone();
        let by_hand = format!("delete {user} by hand (gleh user delete {user})");
        let jar = match self.spare.take() {
            Some(j) => j,
            None => match self.fresh_session().await {
                Ok(j) => j,
                Err(e) => return self.report.fail(id, format!("{e} — {by_hand}")),
            },
        };
        let saved = std::mem::replace(&mut self.jar, jar);
        let token = self.fetch_token(true).await;
        let http = self.http().clone();
        let result = match token {
            Err(e) => Err(format!("no CSRF token: {e} — {by_hand}")),
            Ok(token) => http
                .req(Method::DELETE, "/api/account")
                .cookies(&self.jar)
                .header("X-CSRFToken", &token)
                .json(&json!({"password": self.password}))
                .send()
                .await
                .map_err(|e| format!("no answer: {e} — {by_hand}")),
        };
        match result {
            Ok(res) if res.status.is_success() => {
                let after = match http
                    .get("/api/check_session")
                    .cookies(&self.jar)
                    .send()
                    .await
                {
                    Ok(r) => format!("; its session now gets {}", r.status.as_u16()),
                    Err(_) => String::new(),
                };
                self.report
                    .pass(id, format!("{user} deleted: {}{after}", res.summary()));
            }
            Ok(res) if matches!(res.status.as_u16(), 404 | 405) => self.report.fail(
                id,
                format!(
                    "the server has no DELETE /api/account ({}) — {by_hand}",
                    res.summary()
                ),
            ),
            Ok(res) => self
                .report
                .fail(id, format!("{} — {by_hand}", res.summary())),
            Err(e) => self.report.fail(id, e),
        }
        self.jar = saved;
    }
}
