//! E-books: CALIBRE_WEB_URL (unset: no e-books), CALIBRE_WEB_USERNAME and
//! CALIBRE_WEB_PASSWORD (HTTP Basic to Calibre-Web, set together), CALIBRE_WEB_EXTERNAL_URL
//! (where browsers reach Calibre-Web's reader) and CALIBRE_REFRESH_INTERVAL (seconds between
//! synchronisations of the library; docs/design.md "E-books").

use std::time::Duration;

use super::env::Vars;

/// The Calibre-Web part of [`super::Config`]; `None` when CALIBRE_WEB_URL is unset.
#[derive(Clone)]
pub struct Calibre {
    /// CALIBRE_WEB_URL without a trailing slash: the OPDS feed is `<url>/opds`.
    pub url: String,
    /// CALIBRE_WEB_USERNAME and CALIBRE_WEB_PASSWORD, when both are set.
    pub credentials: Option<(String, String)>,
    /// CALIBRE_WEB_EXTERNAL_URL without a trailing slash (default `/calibre-web`).
    pub external_url: String,
    /// CALIBRE_REFRESH_INTERVAL (default 900 s, at least 10 s).
    pub refresh_interval: Duration,
}

impl std::fmt::Debug for Calibre {
    /// Never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calibre")
            .field("url", &self.url)
            .field("external_url", &self.external_url)
            .finish_non_exhaustive()
    }
}

fn is_http(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    (l.starts_with("http://") && l.len() > 7) || (l.starts_with("https://") && l.len() > 8)
}

impl Calibre {
    pub(super) fn from_env(vars: &mut Vars) -> Option<Calibre> {
        let url = vars.get("CALIBRE_WEB_URL").map(|u| u.trim().to_string());
        let user = vars.get("CALIBRE_WEB_USERNAME");
        let password = vars.get("CALIBRE_WEB_PASSWORD");
        let external = vars.get("CALIBRE_WEB_EXTERNAL_URL");
        let interval: u64 = vars.number("CALIBRE_REFRESH_INTERVAL", 900);
        let url = url?;
        if !is_http(&url) || url.contains(char::is_whitespace) || url.contains(['?', '#']) {
            vars.problem(format!(
                "CALIBRE_WEB_URL must be an http:// or https:// URL without query (got {})",
                super::redact_url(&url)
            ));
        }
        if url.split("://").nth(1).is_some_and(|rest| {
            rest.split('/')
                .next()
                .is_some_and(|authority| authority.contains('@'))
        }) {
            vars.problem(
                "CALIBRE_WEB_URL must not carry credentials: use CALIBRE_WEB_USERNAME and CALIBRE_WEB_PASSWORD"
                    .to_string(),
            );
        }
        let credentials = match (user, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            _ => {
                vars.problem(
                    "CALIBRE_WEB_USERNAME and CALIBRE_WEB_PASSWORD must be set together"
                        .to_string(),
                );
                None
            }
        };
        let external_url = external
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| "/calibre-web".to_string());
        let local = external_url.starts_with('/')
            && !external_url.starts_with("//")
            && !external_url.contains('\\');
        if !(local || is_http(&external_url)) || external_url.contains(char::is_whitespace) {
            vars.problem(format!(
                "CALIBRE_WEB_EXTERNAL_URL must be a path like /calibre-web or an http(s) URL (got {external_url:?})"
            ));
        }
        if interval < 10 {
            vars.problem("CALIBRE_REFRESH_INTERVAL must be at least 10 seconds".to_string());
        }
        Some(Calibre {
            url: url.trim_end_matches('/').to_string(),
            credentials,
            external_url,
            refresh_interval: Duration::from_secs(interval.max(10)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_no_ebooks() {
        let mut vars = Vars::from_pairs(&[("CALIBRE_WEB_PASSWORD", "x")]);
        assert!(Calibre::from_env(&mut vars).is_none());
        assert!(vars.problems.is_empty());
    }

    #[test]
    fn values_and_defaults() {
        let mut vars = Vars::from_pairs(&[
            ("CALIBRE_WEB_URL", "http://127.0.0.1:8083/books/"),
            ("CALIBRE_WEB_USERNAME", "hub"),
            ("CALIBRE_WEB_PASSWORD", "s3cret"),
        ]);
        let c = Calibre::from_env(&mut vars).expect("configured");
        assert!(vars.problems.is_empty());
        assert_eq!(c.url, "http://127.0.0.1:8083/books");
        assert_eq!(c.external_url, "/calibre-web");
        assert_eq!(c.refresh_interval, Duration::from_secs(900));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn problems() {
        let mut vars = Vars::from_pairs(&[
            ("CALIBRE_WEB_URL", "ftp://u:pw@x"),
            ("CALIBRE_WEB_USERNAME", "hub"),
            ("CALIBRE_WEB_EXTERNAL_URL", "javascript:alert(1)"),
            ("CALIBRE_REFRESH_INTERVAL", "1"),
        ]);
        Calibre::from_env(&mut vars);
        assert_eq!(vars.problems.len(), 5, "{:?}", vars.problems);
        assert!(vars.problems.iter().all(|p| !p.contains("pw@")));
    }
}
