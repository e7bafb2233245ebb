//! The doctor's report: one `Check` per line, `PASS|WARN|FAIL <id> <what> — <reason>`, then
//! a summary line; or one JSON document with `--json`.

use std::io::{IsTerminal as _, Write as _};

use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
    pub(super) fn slug(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
    fn colour(self) -> &'static str {
        match self {
            Status::Pass => "\x1b[32m",
            Status::Warn => "\x1b[33m",
            Status::Fail => "\x1b[1;31m",
        }
    }
}

pub(super) struct Check {
    pub(super) id: &'static str,
    pub(super) status: Status,
    pub(super) message: String,
    /// The message without the text of the error that caused it (an OS or parser error),
    /// for the admin panel, which never shows an error's text; `None` when `message`
    /// holds none.
    pub(super) plain: Option<String>,
}

#[derive(Default)]
pub(super) struct Report {
    pub(super) checks: Vec<Check>,
    /// The soonest end of validity among TLS_CERT's certificates (unix seconds), when read.
    pub(super) cert_not_after: Option<i64>,
    /// Free bytes on the file system of LOG_DIR, when read.
    pub(super) log_free_bytes: Option<u64>,
}

impl Report {
    fn add(&mut self, id: &'static str, status: Status, what: &str, reason: impl AsRef<str>) {
        self.checks.push(Check {
            id,
            status,
            message: format!("{what} — {}", reason.as_ref()),
            plain: None,
        });
    }
    /// A check whose `reason` quotes an error's text; `plain` is the same without it.
    fn add_plain(
        &mut self,
        id: &'static str,
        status: Status,
        what: &str,
        reason: &str,
        plain: &str,
    ) {
        self.add(id, status, what, reason);
        if let Some(c) = self.checks.last_mut() {
            c.plain = Some(format!("{what} — {plain}"));
        }
    }
    pub(super) fn fail_plain(&mut self, id: &'static str, what: &str, reason: &str, plain: &str) {
        self.add_plain(id, Status::Fail, what, reason, plain);
    }
    pub(super) fn warn_plain(&mut self, id: &'static str, what: &str, reason: &str, plain: &str) {
        self.add_plain(id, Status::Warn, what, reason, plain);
    }
    pub(super) fn pass(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Pass, what, reason);
    }
    pub(super) fn warn(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Warn, what, reason);
    }
    pub(super) fn fail(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Fail, what, reason);
    }
    pub(super) fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    pub(super) fn print(&self, json: bool) {
        let (pass, warn, fail) = (
            self.count(Status::Pass),
            self.count(Status::Warn),
            self.count(Status::Fail),
        );
        let mut out = std::io::stdout().lock();
        // Write errors (a closed pipe) are ignored: the exit status still tells the story.
        if json {
            let checks: Vec<_> = self
                .checks
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "status": c.status.slug(),
                        "message": c.message,
                    })
                })
                .collect();
            let doc = json!({
                "checks": checks,
                "summary": {"pass": pass, "warn": warn, "fail": fail},
            });
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
            return;
        }
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for c in &self.checks {
            let word = if colour {
                format!("{}{}\x1b[0m", c.status.colour(), c.status.word())
            } else {
                c.status.word().to_string()
            };
            let _ = writeln!(out, "{word} {} {}", c.id, c.message);
        }
        let _ = writeln!(out, "{pass} passed, {warn} warnings, {fail} failed");
    }
}
