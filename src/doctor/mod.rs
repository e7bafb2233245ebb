//! `gleh doctor`: the pre-deployment checks of the seed's §1–§6 that a program can make, in
//! the spirit of Django's `manage.py check --deploy` (reference/security-anchors.md §2).
//!
//! Each check prints one line `PASS|WARN|FAIL <id> <what> — <reason>`, then a summary line;
//! the exit status is 1 when any check FAILs. `--json` prints
//! `{"checks": [{"id", "status", "message"}], "summary": {"pass", "warn", "fail"}}` instead
//! (`status` is `pass`, `warn` or `fail`; `message` is the text after the id).
//!
//! Doctor only looks: it never creates the database (a missing SQLite file is a FAIL) or the
//! log directory, and writes nothing but a probe file in `LOG_DIR` (or, when that does not
//! exist yet, in its parent) that it deletes at once — and sqlx's migration table, if a
//! reachable database lacks it, as `gleh migrate --check` does. It never prints the secret key.
//!
//! Choices the checklist leaves open:
//! - certificate lifetime: FAIL when any certificate in `TLS_CERT` expires within 30 days (the
//!   seed's "> 30 days"); no WARN tier above that, because a 90-day ACME certificate would
//!   otherwise warn for a third of its life;
//! - chain: every certificate must be issued (name and signature) by the next one in the file;
//!   a chain ending at a Mozilla root (webpki-roots) passes, one ending at a self-signed
//!   certificate that is not a Mozilla root (a private CA, or a self-signed leaf) is complete but
//!   WARNs "not publicly trusted", and a last certificate whose issuer is neither in the file nor
//!   a known root FAILs ("intermediate missing");
//! - the secret is looked for in the working-tree content of every git-tracked file and in
//!   every object reachable from any ref (history), since a key once committed is leaked.

mod database;
mod logs;
mod secret;
mod settings;
mod tls;
mod tls_chain;
mod tls_names;

use std::{
    io::{IsTerminal as _, Write as _},
    time::{Duration, UNIX_EPOCH},
};

use serde_json::json;

use crate::config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
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

struct Check {
    id: &'static str,
    status: Status,
    message: String,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, id: &'static str, status: Status, what: &str, reason: impl AsRef<str>) {
        self.checks.push(Check {
            id,
            status,
            message: format!("{what} — {}", reason.as_ref()),
        });
    }
    fn pass(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Pass, what, reason);
    }
    fn warn(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Warn, what, reason);
    }
    fn fail(&mut self, id: &'static str, what: &str, reason: impl AsRef<str>) {
        self.add(id, Status::Fail, what, reason);
    }
    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    fn print(&self, json: bool) {
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

/// Runs every check, prints them, and returns the exit code (1 on any FAIL).
pub async fn run(config: &Config, json: bool) -> anyhow::Result<i32> {
    let mut r = Report::default();
    secret::check_env(config, &mut r);
    secret::check_secret(config, &mut r);
    secret::check_secret_git(config, &mut r);
    secret::check_env_file(&mut r);
    database::check_database(config, &mut r).await;
    tls::check_tls(&mut r);
    settings::check_public_url(&mut r);
    logs::check_logs(config, &mut r);
    settings::check_session(config, &mut r);
    settings::check_passwords(config, &mut r);
    settings::check_proxies(config, &mut r);
    r.print(json);
    Ok(if r.count(Status::Fail) > 0 { 1 } else { 0 })
}

/// A non-blank environment variable (the way `Config` reads them).
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn now_unix() -> i64 {
    crate::db::now()
}

fn iso_date(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// "a, b, c and 2 more".
fn short_list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}
