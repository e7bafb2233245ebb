//! URL pieces for course packages: which paths and links are safe to put in a page.

/// `http://host…` or `https://host…`, with a host and no whitespace or control characters.
pub fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
        }
        None => false,
    }
}

/// A relative path made only of ordinary segments: no empty, `.` or `..` segment, no
/// backslash, no scheme (`x:`), no control characters.
pub fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
        && p.split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.') && !seg.contains(':'))
}

/// Percent-encodes each segment of a `/`-separated path for use in a URL.
pub fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
