//! Course package files (`/courses/{*path}`).
//!
//! Package files come from `$CONTENT_DIR/courses`. A request path is accepted only when every
//! segment is an ordinary name (no `.`/`..`/hidden segment, no encoded `/` or `\`, no
//! backslash, colon or control character), and the file it names — after every symlink is
//! resolved — is a regular file inside that folder. Directories are never listed. Files get
//! their MIME type, `ETag`, `Last-Modified` (with 304s) and range support from tower-http's
//! `ServeFile`, and `Cache-Control: public, max-age=3600`; a range `ServeFile` would serve
//! of bytes that do not exist (any range of an empty file) is a 416 (`range.rs`).
//!
//! Package HTML (and other document types that can run script: XHTML, SVG, XML) is
//! third-party content, so it is served with `Content-Security-Policy: sandbox` without
//! `allow-same-origin`: its scripts run in an opaque origin, so they cannot read this site's
//! answers (`/csrf-token`, the APIs: no CORS), and their state-changing requests arrive
//! marked cross-site and are refused by the CSRF guard.
//! Because that opaque origin is cross-origin to everything, package files carry
//! `Cross-Origin-Resource-Policy: cross-origin` (so the package's own images, scripts and
//! styles load) and `Cross-Origin-Opener-Policy: unsafe-none` (so its `target=_blank` links
//! open: a sandboxed popup may not navigate to a COOP document). PDFs get a policy of their
//! own that lets the browser's PDF viewer work; other files keep the site-wide policy.

use std::path::{Path as FsPath, PathBuf};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

use super::range;
use crate::{routes::pages::not_found_answer, state::AppState};

/// The policy for package documents. `'self'` still names this server inside the sandbox
/// (CSP matches it against the document's URL, not its opaque origin), so a package's own
/// files load; nothing from elsewhere does. `package_csp` also names `PUBLIC_URL`'s origin
/// next to `'self'`, for browsers that resolve `'self'` against the opaque origin.
pub const PACKAGE_CSP: &str = "sandbox allow-scripts allow-popups allow-forms; \
default-src 'self' 'unsafe-inline' data: blob:; \
script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; \
connect-src 'self'; frame-src 'self'; worker-src 'self' blob:; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// `PACKAGE_CSP` with the public origin (scheme, host and port of `PUBLIC_URL`) beside
/// every `'self'`, when that origin is a plain `http(s)://host[:port]`.
pub fn package_csp(public_url: &str) -> String {
    let origin = public_url
        .split_once("://")
        .map(|(scheme, rest)| (scheme, rest.split('/').next().unwrap_or("")))
        .filter(|(scheme, host)| {
            matches!(*scheme, "http" | "https")
                && !host.is_empty()
                && host.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .map(|(scheme, host)| format!("{scheme}://{host}"));
    match origin {
        Some(o) => PACKAGE_CSP.replace("'self'", &format!("'self' {o}")),
        None => PACKAGE_CSP.to_string(),
    }
}

/// The policy for PDFs: Chrome renders a PDF through an internal `<embed>` that
/// `object-src 'none'` blocks (crbug.com/271452), and a sandboxed PDF is not rendered at
/// all; PDF script runs in the viewer's own sandbox, never with this origin's DOM.
pub const PDF_CSP: &str = "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; \
img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const FILE_CACHE: &str = "public, max-age=3600";

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one path segment; `None` for a bad escape or invalid UTF-8.
fn decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The relative file path a raw (still percent-encoded) request path names, when it is
/// made only of ordinary segments.
pub fn safe_relative(raw: &str) -> Option<PathBuf> {
    let lower = raw.to_ascii_lowercase();
    if raw.is_empty() || lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in raw.split('/') {
        let seg = decode_segment(seg)?;
        if seg.is_empty()
            || seg.starts_with('.')
            || seg.contains(['/', '\\', ':'])
            || seg.chars().any(char::is_control)
        {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

/// The canonical path of the regular file `rel` names inside `root`, if there is one, and
/// its length.
async fn resolve(root: &FsPath, rel: &FsPath) -> Option<(PathBuf, u64)> {
    let root = tokio::fs::canonicalize(root).await.ok()?;
    let file = tokio::fs::canonicalize(root.join(rel)).await.ok()?;
    if !file.starts_with(&root) {
        tracing::warn!(event = "course_file_outside_root", path = %rel.display());
        return None;
    }
    let meta = tokio::fs::metadata(&file).await.ok()?;
    meta.is_file().then_some((file, meta.len()))
}

/// Document types a browser may run script in when navigated to.
fn is_document(path: &FsPath, content_type: Option<&str>) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let by_ext = matches!(
        ext.as_str(),
        "html" | "htm" | "shtml" | "xhtml" | "xht" | "svg" | "svgz" | "xml" | "xsl" | "xslt"
    );
    let by_type = content_type
        .map(|t| {
            let t = t
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            t == "text/html" || t.ends_with("/xml") || t.ends_with("+xml")
        })
        .unwrap_or(false);
    by_ext || by_type
}

fn is_pdf(path: &FsPath) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
}

fn is_text(content_type: &str) -> bool {
    let t = content_type.to_ascii_lowercase();
    t.starts_with("text/")
        || t.starts_with("application/javascript")
        || t.starts_with("application/json")
        || t.ends_with("+xml")
        || t.ends_with("/xml")
}

/// 416 with `content-range: bytes */len`, as `ServeFile` answers its own (no body, no type).
fn unsatisfiable(len: u64) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
    if let Ok(v) = HeaderValue::from_str(&range::unsatisfied(len)) {
        res.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    res
}

pub async fn course_file(State(state): State<AppState>, req: Request) -> Response {
    let raw = req.uri().path().strip_prefix("/courses/").unwrap_or("");
    let root = state.config.content_dir.join("courses");
    let file = match safe_relative(raw) {
        Some(rel) => resolve(&root, &rel).await,
        None => None,
    };
    let Some((file, len)) = file else {
        let (parts, _) = req.into_parts();
        return not_found_answer(&parts.headers, &parts.uri);
    };
    let range = req
        .headers()
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap_or(""))
        .map(String::from);
    let res = match ServeFile::new(&file).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    let (mut parts, body) = res.into_parts();
    if parts.status == StatusCode::PARTIAL_CONTENT
        && range::decide(range.as_deref(), len) == range::Decision::Unsatisfiable
    {
        // ServeFile's 206 for bytes that do not exist (see range.rs).
        return unsatisfiable(len);
    }
    if !(parts.status.is_success() || parts.status == StatusCode::NOT_MODIFIED) {
        // e.g. 416 for an unsatisfiable range; other errors keep the defaults.
        return Response::from_parts(parts, body);
    }
    let h = &mut parts.headers;
    let content_type = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    if let Some(t) = &content_type
        && is_text(t)
        && !t.to_ascii_lowercase().contains("charset")
        && let Ok(v) = HeaderValue::from_str(&format!("{t}; charset=utf-8"))
    {
        h.insert(header::CONTENT_TYPE, v);
    }
    if is_document(&file, content_type.as_deref()) {
        let csp = HeaderValue::from_str(&package_csp(&state.config.public_url))
            .unwrap_or(HeaderValue::from_static(PACKAGE_CSP));
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    } else if is_pdf(&file) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PDF_CSP),
        );
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(FILE_CACHE));
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("unsafe-none"),
    );
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths() {
        let ok = |p: &str| safe_relative(p).map(|p| p.display().to_string());
        assert_eq!(
            ok("gl-101/index.html").as_deref(),
            Some("gl-101/index.html")
        );
        assert_eq!(
            ok("My%20Course/a%2Bb.txt").as_deref(),
            Some("My Course/a+b.txt")
        );
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "gl-101/../../etc/passwd",
            "%2e%2e/etc/passwd",
            "%2E%2E/%2E%2E/etc/passwd",
            "..%2f..%2fetc/passwd",
            "gl-101%2findex.html",
            "gl-101%5cindex.html",
            "..\\..\\etc\\passwd",
            "gl-101\\index.html",
            "/etc/passwd",
            "%2fetc/passwd",
            "gl-101//index.html",
            "gl-101/",
            "./gl-101/index.html",
            "gl-101/.hidden",
            "c:/windows/win.ini",
            "gl-101/index.html%00.png",
            "gl-101/%ff.html",
            "gl-101/%zz",
            "gl-101/%2",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn package_policy_names_the_public_origin() {
        let csp = package_csp("https://platform.edu/some/path");
        assert!(csp.starts_with("sandbox allow-scripts allow-popups allow-forms;"));
        assert!(csp.contains("default-src 'self' https://platform.edu 'unsafe-inline'"));
        assert!(csp.contains("img-src 'self' https://platform.edu data:"));
        assert!(!csp.contains("allow-same-origin"));
        assert_eq!(
            package_csp("http://127.0.0.1:8000"),
            PACKAGE_CSP.replace("'self'", "'self' http://127.0.0.1:8000")
        );
        for odd in ["https://a.example;script-src *", "ftp://x", "https://", "x"] {
            assert_eq!(package_csp(odd), PACKAGE_CSP, "{odd}");
        }
    }

    #[test]
    fn documents() {
        assert!(is_document(FsPath::new("a/index.HTML"), None));
        assert!(is_document(FsPath::new("a/x.svg"), None));
        assert!(is_document(FsPath::new("a/x"), Some("text/html")));
        assert!(!is_document(FsPath::new("a/x.png"), Some("image/png")));
        assert!(!is_document(FsPath::new("a/x.mp4"), Some("video/mp4")));
    }
}
