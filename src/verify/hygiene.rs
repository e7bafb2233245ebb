//! Hygiene: the security headers of docs/design.md "Transport and headers" on the pages
//! fetched; then the leak checks of `leaks.rs`.

use super::{
    Verifier,
    client::{Resp, short},
    report::Report,
};

/// Reports a check that passes when nothing is `bad`.
fn verdict(report: &mut Report, id: &str, bad: Vec<String>, good: String) {
    if bad.is_empty() {
        report.pass(id, good);
    } else {
        report.fail(id, bad.join("; "));
    }
}

fn header(res: &Resp, name: &str) -> Option<String> {
    res.header(name).map(str::to_string)
}

/// The headers whose last value must be one of a few: (check id, header, accepted values).
const HEADER_VALUES: &[(&str, &str, &[&str])] = &[
    ("headers.nosniff", "x-content-type-options", &["nosniff"]),
    (
        "headers.referrer",
        "referrer-policy",
        &[
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin",
            "origin",
        ],
    ),
    (
        "headers.coop",
        "cross-origin-opener-policy",
        &[
            "same-origin",
            "same-origin-allow-popups",
            "noopener-allow-popups",
        ],
    ),
];

impl Verifier {
    /// Security headers on the pages fetched, and leaks in error answers and banners.
    pub fn hygiene(&mut self) {
        let pages = std::mem::take(&mut self.pages);
        if pages.is_empty() {
            self.report
                .skip_all("headers.", "not run: no page was fetched");
        }
        let paths = pages
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        self.csp_check(&pages, &paths);
        for (id, name, ok) in HEADER_VALUES {
            self.header_check(&pages, &paths, id, name, ok);
        }
        self.leak_errors();
        self.leak_server();
    }

    /// Every page has a Content-Security-Policy naming the four directives that matter.
    fn csp_check(&mut self, pages: &[(String, Resp)], paths: &str) {
        let mut bad = Vec::new();
        for (path, res) in pages {
            match header(res, "content-security-policy") {
                None => bad.push(format!("no Content-Security-Policy on {path}")),
                Some(csp) => {
                    let names: Vec<String> = csp
                        .split(';')
                        .filter_map(|d| d.split_whitespace().next())
                        .map(str::to_ascii_lowercase)
                        .collect();
                    let lacking: Vec<&str> =
                        ["default-src", "frame-ancestors", "object-src", "base-uri"]
                            .into_iter()
                            .filter(|d| !names.iter().any(|n| n == d))
                            .collect();
                    if !lacking.is_empty() {
                        bad.push(format!("{path}: the policy lacks {}", lacking.join(", ")));
                    }
                }
            }
        }
        let first = pages
            .first()
            .and_then(|(_, r)| header(r, "content-security-policy"));
        verdict(
            &mut self.report,
            "headers.csp",
            bad,
            format!("{}; on {paths}", short(&first.unwrap_or_default(), 110)),
        );
    }

    /// Every page has header `name` whose last value is one of `ok`.
    fn header_check(
        &mut self,
        pages: &[(String, Resp)],
        paths: &str,
        id: &str,
        name: &str,
        ok: &[&str],
    ) {
        let mut bad = Vec::new();
        let mut seen = String::new();
        for (path, res) in pages {
            match header(res, name) {
                None => bad.push(format!("no {name} on {path}")),
                Some(v) => {
                    let last = v
                        .rsplit(',')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    if !ok.contains(&last.as_str()) {
                        bad.push(format!("{name}: {v} on {path}"));
                    }
                    seen = v;
                }
            }
        }
        verdict(
            &mut self.report,
            id,
            bad,
            format!("{name}: {seen}; on {paths}"),
        );
    }
}
