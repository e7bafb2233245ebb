//! The request body limit: a 6 MiB profile update must be refused with 413 before it is read
//! (docs/design.md "HTTP contract"). It needs a session and an accepted CSRF token, so it runs
//! after the CSRF checks; a malformed body is also sent, for the leak check.

use super::Verifier;

const MIB: usize = 1 << 20;

impl Verifier {
    /// A 6 MiB body must get 413; a malformed one is collected for the leak check.
    pub async fn body_limit(&mut self) {
        let Some(token) = self.token.clone() else {
            return self.report.skip(
                "body.limit",
                "not run: needs a session and an accepted CSRF token",
            );
        };
        let http = self.http().clone();
        let post = || {
            http.post("/api/profile")
                .cookies(&self.jar)
                .header("X-CSRFToken", &token)
        };
        if let Ok(res) = post()
            .body("application/json", br#"{"about_me": "#.to_vec())
            .send()
            .await
        {
            self.errors
                .push(("POST /api/profile with malformed JSON".into(), res));
        }
        let mut body = Vec::with_capacity(6 * MIB + 32);
        body.extend_from_slice(br#"{"verify_padding": ""#);
        body.resize(body.len() + 6 * MIB, b'a');
        body.extend_from_slice(br#""}"#);
        match post().body("application/json", body).send().await {
            Ok(res) if res.status.as_u16() == 413 => {
                self.report.pass("body.limit", res.summary());
                self.errors.push(("a 6 MiB POST".into(), res));
            }
            Ok(res) => self.report.fail(
                "body.limit",
                format!("{} — the 6 MiB body was read (GLEH's MAX_REQUEST_BODY_SIZE is 5 MiB; behind nginx, set client_max_body_size)", res.summary()),
            ),
            Err(e) => self.report.warn(
                "body.limit",
                format!("the connection ended before an answer ({e}): refused, but without a 413"),
            ),
        }
    }
}
