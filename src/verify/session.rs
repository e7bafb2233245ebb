//! The session once logged in: it is live (the checklist's §14.3), logout ends it on the
//! server and not just in the jar (§14.4–5 and the replayed cookie), and an idle session
//! expires (§12, with `--session-timeout`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    Verifier,
    client::{Http, Resp, short},
    cookies::Jar,
};

fn authenticated(res: &Resp) -> bool {
    res.status.is_success()
        && res
            .json()
            .is_some_and(|j| j.get("is_authenticated") == Some(&Value::Bool(true)))
}

impl Verifier {
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
        if logged_out {
            self.replay_check(&http, &captured).await;
        } else {
            self.report
                .skip("logout.replay", "not run: logout itself failed");
        }
        self.jar = Jar::default();
    }

    /// The cookie captured before logout must no longer authenticate anywhere.
    async fn replay_check(&mut self, http: &Http, captured: &Jar) {
        let check = http
            .get("/api/check_session")
            .cookies(captured)
            .send()
            .await;
        let profile = http.get("/api/profile").cookies(captured).send().await;
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
        self.idle(wait).await;
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

    /// Waits `wait` without a request, showing the seconds left.
    async fn idle(&self, wait: Duration) {
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
    }
}
