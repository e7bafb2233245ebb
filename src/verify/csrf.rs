//! The checklist's §13: a token from `/csrf-token`, a profile update with it, and three
//! that must be refused (invalid token, no token, `Sec-Fetch-Site: cross-site`)
//! (docs/design.md "CSRF"). The token accepted here is reused by `body_limit.rs`.

use serde_json::{Value, json};

use super::{Verifier, client::Resp};

impl Verifier {
    /// A token from `/csrf-token`, fetched with or without the session cookie.
    pub async fn fetch_token(&self, with_cookie: bool) -> Result<String, String> {
        let mut req = self.http().get("/csrf-token");
        if with_cookie {
            req = req.cookies(&self.jar);
        }
        let res = req.send().await.map_err(|e| format!("no answer: {e}"))?;
        res.json()
            .and_then(|j| {
                j.get("csrf_token")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .filter(|t| res.status.is_success() && !t.is_empty())
            .ok_or_else(|| format!("{}: no csrf_token in the answer", res.summary()))
    }

    async fn update_profile(
        &self,
        token: Option<&str>,
        extra: &[(&str, &str)],
        about_me: &str,
    ) -> Result<Resp, String> {
        let mut req = self.http().post("/api/profile").cookies(&self.jar);
        if let Some(t) = token {
            req = req.header("X-CSRFToken", t);
        }
        for (k, v) in extra {
            req = req.header(k, v);
        }
        req.json(&json!({"about_me": about_me}))
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))
    }

    /// A request that must be refused: any 4xx passes; a success is `cause`.
    fn expect_refusal(&mut self, id: &str, what: &str, res: Result<Resp, String>, cause: &str) {
        match res {
            Ok(res) if res.status.is_client_error() => {
                self.report.pass(id, res.summary());
                self.errors.push((what.to_string(), res));
            }
            Ok(res) if res.status.is_success() => self
                .report
                .fail(id, format!("accepted ({}) — {cause}", res.summary())),
            Ok(res) => self
                .report
                .fail(id, format!("{}: expected a 4xx refusal", res.summary())),
            Err(e) => self.report.fail(id, e),
        }
    }

    /// §13: a token from `/csrf-token` (fetched without the session cookie, as the
    /// checklist does), a profile update with it, and three that must be refused.
    pub async fn csrf_checks(&mut self) {
        let Some((good, bad)) = self.bios().await else {
            return;
        };
        let Some(token) = self.accepted_token(&good).await else {
            let why = "not run: no update was accepted, so a refusal would prove nothing";
            for id in ["csrf.invalid", "csrf.missing", "csrf.cross-site"] {
                self.report.skip(id, why);
            }
            return;
        };
        self.refusals(&token, &bad).await;
        self.token = Some(token);
    }

    /// What to write: the checklist's bio for a throwaway user; an existing user's own (read
    /// first, so the account is left unchanged). `None`, with `csrf.*` skipped, when it
    /// cannot be read.
    async fn bios(&mut self) -> Option<(String, String)> {
        if self.throwaway {
            return Some((
                "Test bio".to_string(),
                "gleh verify: this update must be refused".to_string(),
            ));
        }
        let current = match self
            .http()
            .get("/api/profile")
            .cookies(&self.jar)
            .send()
            .await
        {
            Ok(res) if res.status.is_success() => {
                res.json().and_then(|j| match &j["user"]["about_me"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => Some(String::new()),
                    _ => None,
                })
            }
            _ => None,
        };
        let Some(current) = current else {
            let why = format!(
                "not run: could not read the profile of {} to leave it unchanged",
                self.username
            );
            self.report.skip_all("csrf.", &why);
            return None;
        };
        Some((current.clone(), current))
    }

    /// `csrf.token` and `csrf.valid`: the token the server accepted for an update, trying the
    /// anonymous one first (the checklist's curl), then one fetched with the session cookie.
    async fn accepted_token(&mut self, good: &str) -> Option<String> {
        match self.fetch_token(false).await {
            Ok(anon) => {
                match self.update_profile(Some(&anon), &[], good).await {
                    Ok(res) if res.status.is_success() => {
                        self.report.pass(
                        "csrf.token",
                        format!("{} characters, fetched without the session cookie as the seed does", anon.len()),
                    );
                        self.report.pass("csrf.valid", res.summary());
                        Some(anon)
                    }
                    Ok(first) => self.bound_after_refusal(&first, good).await,
                    Err(e) => {
                        self.report.fail("csrf.valid", e);
                        None
                    }
                }
            }
            Err(e) => self.bound_only(&e, good).await,
        }
    }

    /// The anonymous token was refused (`first`): does one bound to the session work?
    async fn bound_after_refusal(&mut self, first: &Resp, good: &str) -> Option<String> {
        let bound = match self.fetch_token(true).await {
            Ok(bound) => bound,
            Err(e) => {
                self.report
                    .fail("csrf.token", format!("with the session cookie: {e}"));
                self.report.fail("csrf.valid", first.summary());
                return None;
            }
        };
        match self.update_profile(Some(&bound), &[], good).await {
            Ok(res) if res.status.is_success() => {
                self.report.warn(
                    "csrf.token",
                    format!("the token fetched without the session cookie (the seed's curl) was refused ({}); one fetched with the cookie works", first.summary()),
                );
                self.report.pass("csrf.valid", res.summary());
                Some(bound)
            }
            Ok(res) => {
                self.report.pass("csrf.token", "a token was issued");
                self.report.fail(
                    "csrf.valid",
                    format!(
                        "{} with the token fetched without the cookie, {} with one fetched with it",
                        first.summary(),
                        res.summary()
                    ),
                );
                None
            }
            Err(e) => {
                self.report.fail("csrf.valid", e);
                None
            }
        }
    }

    /// No anonymous token (`anon_error`): is one issued with the session cookie?
    async fn bound_only(&mut self, anon_error: &str, good: &str) -> Option<String> {
        let bound = match self.fetch_token(true).await {
            Ok(bound) => bound,
            Err(e2) => {
                self.report.fail(
                    "csrf.token",
                    format!("{anon_error}; with the session cookie: {e2}"),
                );
                self.report.skip("csrf.valid", "not run: no token");
                return None;
            }
        };
        self.report.warn(
            "csrf.token",
            format!("without the session cookie (the seed's curl): {anon_error}; with it: a token"),
        );
        match self.update_profile(Some(&bound), &[], good).await {
            Ok(res) if res.status.is_success() => {
                self.report.pass("csrf.valid", res.summary());
                Some(bound)
            }
            Ok(res) => {
                self.report.fail("csrf.valid", res.summary());
                None
            }
            Err(e) => {
                self.report.fail("csrf.valid", e);
                None
            }
        }
    }

    /// An invalid token, no token, and a cross-site request must each be refused.
    async fn refusals(&mut self, token: &str, bad: &str) {
        let res = self.update_profile(Some("invalid-token"), &[], bad).await;
        self.expect_refusal(
            "csrf.invalid",
            "POST /api/profile with an invalid token",
            res,
            "the server does not check the CSRF token",
        );
        let res = self.update_profile(None, &[], bad).await;
        self.expect_refusal(
            "csrf.missing",
            "POST /api/profile without a token",
            res,
            "the server does not require a CSRF token",
        );
        let cross = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://cross-site.invalid"),
        ];
        let res = self.update_profile(Some(token), &cross, bad).await;
        self.expect_refusal(
            "csrf.cross-site",
            "a cross-site POST /api/profile",
            res,
            "the server has no cross-origin check (Sec-Fetch-Site / Origin)",
        );
    }
}
