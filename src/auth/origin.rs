//! The cross-origin check every unsafe request passes (docs/design.md "CSRF"), with Go
//! 1.25's CrossOriginProtection semantics: `Sec-Fetch-Site` decides when present; else a
//! present `Origin` must name this host; a request with neither is not from a browser.

use axum::http::{HeaderMap, header};

/// True when the request comes from another origin and must be refused.
pub fn cross_origin(headers: &HeaderMap, public_host: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        return !(site == "same-origin" || site == "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("");
    let host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    if host.is_empty() || host.contains('/') {
        return true;
    }
    let req_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    !(host.eq_ignore_ascii_case(req_host) || host.eq_ignore_ascii_case(public_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn cross_origin_vectors() {
        let host = ("host", "platform.edu");
        assert!(!cross_origin(
            &h(&[host, ("sec-fetch-site", "same-origin")]),
            ""
        ));
        assert!(!cross_origin(&h(&[host, ("sec-fetch-site", "none")]), ""));
        assert!(cross_origin(
            &h(&[
                host,
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example")
            ]),
            ""
        ));
        assert!(cross_origin(
            &h(&[host, ("sec-fetch-site", "same-site")]),
            ""
        ));
        assert!(!cross_origin(
            &h(&[host, ("origin", "https://platform.edu")]),
            ""
        ));
        assert!(cross_origin(
            &h(&[host, ("origin", "https://evil.example")]),
            ""
        ));
        assert!(cross_origin(
            &h(&[host, ("origin", "https://platform.edu.evil.example")]),
            ""
        ));
        assert!(!cross_origin(&h(&[host]), ""));
        assert!(cross_origin(&h(&[host, ("origin", "null")]), ""));
        assert!(!cross_origin(
            &h(&[
                ("host", "127.0.0.1:8000"),
                ("origin", "https://platform.edu")
            ]),
            "platform.edu"
        ));
    }
}
