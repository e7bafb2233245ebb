//! The deployment checklist's §10, connectivity and health: `HEAD /`, `GET /api/content` and
//! `GET /health`; and the pages fetched once for the later header and leak checks.

use reqwest::Method;

use super::{Verifier, client::Http, random_hex};

impl Verifier {
    /// §10: `HEAD /`, `GET /api/content`, `GET /health`. False when nothing answered.
    pub async fn health(&mut self) -> bool {
        let http = self.http().clone();
        let head = self.health_head(&http).await;
        let content = self.health_content(&http).await;
        let status = self.health_status(&http).await;
        head || content || status
    }

    /// `HEAD /` answers 200; true when anything answered.
    async fn health_head(&mut self, http: &Http) -> bool {
        match http.req(Method::HEAD, "/").send().await {
            Ok(res) => {
                if res.status.as_u16() == 200 {
                    self.report.pass("health.head", res.status.to_string());
                } else {
                    self.report.fail("health.head", res.summary());
                }
                true
            }
            Err(e) => {
                self.report.fail("health.head", format!("no answer: {e}"));
                false
            }
        }
    }

    /// `GET /api/content` answers 200 with GLEH's JSON list; true when anything answered.
    async fn health_content(&mut self, http: &Http) -> bool {
        let res = match http.get("/api/content").send().await {
            Ok(res) => res,
            Err(e) => {
                self.report
                    .fail("health.content", format!("no answer: {e}"));
                return false;
            }
        };
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
        true
    }

    /// `GET /health` answers 200 with a healthy `status`; true when anything answered.
    async fn health_status(&mut self, http: &Http) -> bool {
        let res = match http.get("/health").send().await {
            Ok(res) => res,
            Err(e) => {
                self.report.fail("health.status", format!("no answer: {e}"));
                return false;
            }
        };
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
        true
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
}
