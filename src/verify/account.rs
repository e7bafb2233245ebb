//! The throwaway account: registration (the checklist's §14.1), the login whose cookie the
//! other checks use (§14.2, and §11 Test 1 on its cookie), fresh logins for later checks, and
//! the cleanup that deletes the account again.

use reqwest::Method;
use serde_json::json;

use super::{
    Verifier,
    client::Resp,
    cookies::{Jar, session_cookie},
};

/// The report text for a 429 from the auth endpoints.
pub(super) fn rate_limited(res: &Resp) -> String {
    let retry = res
        .header("retry-after")
        .map(|s| format!(" (Retry-After: {s} s)"))
        .unwrap_or_default();
    format!(
        "429 Too Many Requests{retry}: the server's login/registration limit (AUTH_RATE_LIMIT, 5 a minute per IP by default) is used up — wait a minute and run verify again"
    )
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

    /// A login as docs/checklist.md §14 sends it (JSON, no CSRF token); the response, or the report text.
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

    /// A fresh login's cookie jar, or the report text.
    pub(super) async fn fresh_session(&mut self) -> Result<Jar, String> {
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
        self.delete_account(&user, &by_hand).await;
        self.jar = saved;
    }

    /// `DELETE /api/account` with `self.jar`'s session, its CSRF token and the password.
    async fn delete_account(&mut self, user: &str, by_hand: &str) {
        let id = "cleanup.account";
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
    }
}
