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
}

#[derive(Default)]
pub(super) struct Report {
    pub(super) checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, id: &'static str, status: Status, what: &str, reason: impl AsRef<str>) {
        self.checks.push(Check {
            id,
            status,
            message: format!("{what} — {}", reason.as_ref()),
        });
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
                        "status": c.status.word().to_ascii_lowercase(),
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
