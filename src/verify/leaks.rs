//! Leaks: no stack trace or version banner in the error answers collected during the run,
//! and no `Server` or `X-Powered-By` header naming a version.

use super::Verifier;

/// Text that betrays a stack trace, a debugger or the software's version, if any.
pub fn leak_in(body: &str) -> Option<String> {
    const TRACES: &[&str] = &[
        "Traceback (most recent call last)",
        "panicked at",
        "stack backtrace",
        "RUST_BACKTRACE",
        "Exception in thread",
        "java.lang.",
        "at System.",
        "Werkzeug Debugger",
        "Stack trace:",
        "Call Stack",
        "Fatal error:",
        "node_modules/",
        "/.cargo/registry/",
        ".py\", line ",
    ];
    if let Some(t) = TRACES.iter().find(|t| body.contains(**t)) {
        return Some(format!("a stack trace ({t:?})"));
    }
    // product/1.2 — a version banner (nginx/1.24.0, Apache/2.4.58, Python/3.12 …).
    let b = body.as_bytes();
    for (i, _) in body.match_indices('/') {
        let digits = b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2) == Some(&b'.')
            && b.get(i + 3).is_some_and(u8::is_ascii_digit);
        if !digits {
            continue;
        }
        let start = body[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map(|p| p + 1)
            .unwrap_or(0);
        let word = &body[start..i];
        if word.len() >= 2
            && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && !matches!(word.to_ascii_uppercase().as_str(), "HTTP" | "TLS" | "SSL")
        {
            let end = body[i + 1..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map(|p| i + 1 + p)
                .unwrap_or(body.len());
            return Some(format!("a version banner ({:?})", &body[start..end]));
        }
    }
    None
}

/// Does a `Server`/`X-Powered-By` value name a version (`nginx/1.24.0`, `PHP/8.2`)?
fn names_version(value: &str) -> bool {
    value
        .split(['/', ' '])
        .skip(1)
        .any(|part| part.starts_with(|c: char| c.is_ascii_digit()))
}

impl Verifier {
    /// No error answer collected during the run shows a stack trace or a version.
    pub(super) fn leak_errors(&mut self) {
        let errors = std::mem::take(&mut self.errors);
        let leaks: Vec<String> = errors
            .iter()
            .filter_map(|(what, res)| {
                leak_in(&res.body).map(|l| format!("{what} → {} shows {l}", res.status.as_u16()))
            })
            .collect();
        if errors.is_empty() {
            self.report
                .skip("leak.errors", "not run: no error response was collected");
        } else if leaks.is_empty() {
            let asked: Vec<String> = errors
                .iter()
                .map(|(w, r)| format!("{w} → {}", r.status.as_u16()))
                .collect();
            self.report
                .pass("leak.errors", format!("checked {}", asked.join(", ")));
        } else {
            self.report.fail("leak.errors", leaks.join("; "));
        }
    }

    /// No `Server` header names a version, and there is no `X-Powered-By` at all.
    pub(super) fn leak_server(&mut self) {
        let banners: Vec<String> = self
            .http
            .as_ref()
            .and_then(|h| h.banners.lock().ok().map(|b| b.iter().cloned().collect()))
            .unwrap_or_default();
        let bad: Vec<&String> = banners
            .iter()
            .filter(|b| !b.starts_with("server: ") || names_version(&b["server: ".len()..]))
            .collect();
        if !bad.is_empty() {
            let list: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
            self.report.fail(
                "leak.server",
                format!(
                    "{} — tells attackers which version to look up",
                    list.join("; ")
                ),
            );
        } else if banners.is_empty() {
            self.report
                .pass("leak.server", "no Server or X-Powered-By header");
        } else {
            self.report.pass("leak.server", banners.join("; "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_are_found() {
        assert!(leak_in(r#"{"error": "Not found."}"#).is_none());
        assert!(leak_in("<hr><center>nginx</center>").is_none());
        assert!(leak_in("HTTP/1.1 and TLS/1.3 are fine").is_none());
        assert_eq!(
            leak_in("<hr><center>nginx/1.24.0</center>").as_deref(),
            Some("a version banner (\"nginx/1.24.0\")")
        );
        assert!(leak_in("Traceback (most recent call last):\n  File \"app.py\", line 3").is_some());
        assert!(leak_in("thread 'main' panicked at src/main.rs:3:5").is_some());
        assert!(names_version("nginx/1.24.0"));
        assert!(names_version("Apache/2.4.58 (Ubuntu)"));
        assert!(!names_version("nginx"));
        assert!(!names_version("cloudflare"));
    }
}
