//! The results of a run, and how they are printed: one line
//! `PASS|FAIL|WARN|SKIP <id> <what> (<what was seen>)` per check of `checklist.rs`, then a
//! summary line; or one JSON document with `--json`.

use std::io::Write as _;

use serde_json::{Value, json};

use super::checklist::CHECKS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
    fn colour(self) -> &'static str {
        match self {
            Status::Pass => "\x1b[32m",
            Status::Warn => "\x1b[33m",
            Status::Fail => "\x1b[1;31m",
            Status::Skip => "\x1b[2m",
        }
    }
}

pub struct Check {
    pub section: &'static str,
    pub id: &'static str,
    pub what: &'static str,
    pub status: Status,
    pub seen: String,
}

/// Results by id; ids never reported come out as SKIP with the reason given to `finish`.
pub struct Report {
    results: Vec<Option<(Status, String)>>,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            results: vec![None; CHECKS.len()],
        }
    }
}

impl Report {
    fn index(id: &str) -> usize {
        CHECKS
            .iter()
            .position(|(_, i, _)| *i == id)
            .unwrap_or_else(|| panic!("unknown verify check id {id}"))
    }

    /// Records a result; the first one for an id wins.
    pub fn set(&mut self, id: &str, status: Status, seen: impl Into<String>) {
        let slot = &mut self.results[Self::index(id)];
        if slot.is_none() {
            *slot = Some((status, seen.into()));
        }
    }
    pub fn pass(&mut self, id: &str, seen: impl Into<String>) {
        self.set(id, Status::Pass, seen);
    }
    pub fn warn(&mut self, id: &str, seen: impl Into<String>) {
        self.set(id, Status::Warn, seen);
    }
    pub fn fail(&mut self, id: &str, seen: impl Into<String>) {
        self.set(id, Status::Fail, seen);
    }
    pub fn skip(&mut self, id: &str, seen: impl Into<String>) {
        self.set(id, Status::Skip, seen);
    }
    /// Marks every id starting with `prefix` that has no result yet as skipped.
    pub fn skip_all(&mut self, prefix: &str, seen: &str) {
        for (_, id, _) in CHECKS.iter().filter(|(_, id, _)| id.starts_with(prefix)) {
            self.skip(id, seen);
        }
    }

    pub fn checks(&self) -> Vec<Check> {
        CHECKS
            .iter()
            .zip(&self.results)
            .map(|(&(section, id, what), r)| {
                let (status, seen) = r
                    .clone()
                    .unwrap_or((Status::Skip, "not reached".to_string()));
                Check {
                    section,
                    id,
                    what,
                    status,
                    seen,
                }
            })
            .collect()
    }
}

fn ids(checks: &[Check], status: Status) -> Vec<&'static str> {
    checks
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.id)
        .collect()
}

/// The exit status: 1 when any check failed, else 0.
pub fn exit_code(checks: &[Check]) -> i32 {
    if checks.iter().any(|c| c.status == Status::Fail) {
        1
    } else {
        0
    }
}

/// Prints the lines and the summary (text), or one JSON document carrying `extra` too.
pub fn print(url: &str, checks: &[Check], json_out: bool, colour: bool, extra: Value) {
    // Write errors (a closed pipe) are ignored: the exit status still tells the story.
    if json_out {
        print_json(url, checks, extra);
    } else {
        print_text(url, checks, colour);
    }
}

fn print_json(url: &str, checks: &[Check], extra: Value) {
    let (fail, warn) = (ids(checks, Status::Fail), ids(checks, Status::Warn));
    let pass = ids(checks, Status::Pass).len();
    let skip = ids(checks, Status::Skip).len();
    let code = exit_code(checks);
    let list: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({"section": c.section, "id": c.id, "status": c.status.word().to_ascii_lowercase(),
                   "what": c.what, "seen": c.seen})
        })
        .collect();
    let mut doc = json!({
        "url": url,
        "result": if code == 0 { "pass" } else { "fail" },
        "exit_code": code,
        "checks": list,
        "summary": {"pass": pass, "warn": warn.len(), "fail": fail.len(), "skip": skip},
    });
    if let (Some(d), Value::Object(e)) = (doc.as_object_mut(), extra) {
        d.extend(e);
    }
    let _ = writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    );
}

fn print_text(url: &str, checks: &[Check], colour: bool) {
    let (fail, warn) = (ids(checks, Status::Fail), ids(checks, Status::Warn));
    let pass = ids(checks, Status::Pass).len();
    let skip = ids(checks, Status::Skip).len();
    let code = exit_code(checks);
    let mut out = std::io::stdout().lock();
    let paint = |s: Status, text: &str| {
        if colour {
            format!("{}{text}\x1b[0m", s.colour())
        } else {
            text.to_string()
        }
    };
    for c in checks {
        let _ = writeln!(
            out,
            "{} {} {} ({})",
            paint(c.status, c.status.word()),
            c.id,
            c.what,
            c.seen
        );
    }
    let list = |v: &[&str]| {
        if v.is_empty() {
            String::new()
        } else {
            format!(" ({})", v.join(", "))
        }
    };
    let verdict = if code == 0 {
        paint(Status::Pass, "RESULT PASS")
    } else {
        paint(Status::Fail, "RESULT FAIL")
    };
    let _ = writeln!(
        out,
        "{verdict}: {} failed{}, {} warning{}{}, {pass} passed, {skip} skipped — {url}",
        fail.len(),
        list(&fail),
        warn.len(),
        if warn.len() == 1 { "" } else { "s" },
        list(&warn),
    );
}
