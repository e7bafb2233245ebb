//! E-books from a Calibre-Web server (docs/design.md "E-books"): the OPDS client
//! (`opds`, the parser; `sync`, the paged fetch and the background synchronisation into
//! `db::ebooks`), the cover cache (`cover`), and what the pages and the API show of a book.
//!
//! Requests never wait for Calibre-Web: they read the last good copy in the database,
//! which `sync` replaces on start, every CALIBRE_REFRESH_INTERVAL and on an admin's demand.
//! The Calibre-Web credentials live only in [`Library`]'s HTTP client calls; they never
//! reach a page, a log line or an error message.

pub mod cover;
pub mod opds;
pub mod reading;
pub mod search;
pub mod sync;

use std::{sync::RwLock, time::Duration};

use serde::Serialize;

use crate::{config::Calibre, db::ebooks::Ebook};

/// A book id as the hub spells it, `calibre-<n>` (n a positive number of at most 18
/// digits); anything else is no book.
pub fn parse_book_id(id: &str) -> Option<i64> {
    let digits = id.strip_prefix("calibre-")?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n: &i64| *n > 0)
}

/// `calibre-<n>`.
pub fn book_uid(n: i64) -> String {
    format!("calibre-{n}")
}

impl Ebook {
    pub fn uid(&self) -> String {
        book_uid(self.id)
    }

    pub fn category_list(&self) -> Vec<String> {
        self.categories
            .lines()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    }

    /// The hub's cover URL (`/api/calibre/cover/<n>`), '' when the feed offered none.
    pub fn cover_path(&self) -> String {
        if self.has_cover != 0 {
            format!("/api/calibre/cover/{}", self.id)
        } else {
            String::new()
        }
    }

    /// Where a browser reads the book: Calibre-Web's reader under
    /// CALIBRE_WEB_EXTERNAL_URL, in the first format it can show (epub, else pdf, else
    /// whatever comes first; epub when the feed named none, as the original assumed).
    pub fn reader_url(&self, external: &str) -> String {
        let formats: Vec<&str> = self.formats.split(',').filter(|f| !f.is_empty()).collect();
        let format = ["epub", "pdf", "cbz", "txt"]
            .into_iter()
            .find(|f| formats.contains(f))
            .or(formats.first().copied())
            .unwrap_or("epub");
        format!("{external}/read/{}/{format}", self.id)
    }
}

/// What the last synchronisations did, for `/health/deep` and the admin diagnostics.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncStatus {
    /// Unix time of the last attempt that finished.
    pub last_attempt: Option<i64>,
    /// Unix time of the last attempt that stored a new copy.
    pub last_success: Option<i64>,
    /// Why the last attempt failed (a fixed sentence), `None` when it succeeded.
    pub last_error: Option<String>,
    /// Books stored by the last success.
    pub books: Option<usize>,
    /// Pages read by the last success.
    pub pages: Option<usize>,
    /// How long the last attempt took, in milliseconds.
    pub duration_ms: Option<u64>,
    /// Consecutive failed attempts.
    pub failures: u32,
}

/// The e-book side of the shared state: the configuration, one HTTP client, the status of
/// the synchronisation and the lock that keeps one synchronisation at a time.
pub struct Library {
    pub config: Option<Calibre>,
    client: Option<reqwest::Client>,
    status: RwLock<SyncStatus>,
    running: tokio::sync::Mutex<()>,
}

/// Connect timeout of every Calibre-Web call.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout of one feed page or cover (headers and body).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Library {
    pub fn new(config: Option<Calibre>) -> anyhow::Result<Library> {
        let client = match &config {
            None => None,
            Some(_) => Some(
                reqwest::Client::builder()
                    .tls_backend_preconfigured(tls_config()?)
                    // A redirect could carry the Basic credentials elsewhere: none followed.
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("GLEH/", env!("CARGO_PKG_VERSION"), " OPDS client"))
                    .connect_timeout(CONNECT_TIMEOUT)
                    .timeout(REQUEST_TIMEOUT)
                    .no_proxy()
                    .build()?,
            ),
        };
        Ok(Library {
            config,
            client,
            status: RwLock::new(SyncStatus::default()),
            running: tokio::sync::Mutex::new(()),
        })
    }

    pub fn enabled(&self) -> bool {
        self.config.is_some()
    }

    /// The external reader base ('' when e-books are off).
    pub fn external_url(&self) -> &str {
        self.config
            .as_ref()
            .map(|c| c.external_url.as_str())
            .unwrap_or("")
    }

    pub fn status(&self) -> SyncStatus {
        self.status.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn set_status(&self, f: impl FnOnce(&mut SyncStatus)) {
        if let Ok(mut s) = self.status.write() {
            f(&mut s);
        }
    }

    /// A GET to Calibre-Web with the server's credentials.
    fn get(&self, url: reqwest::Url) -> Option<reqwest::RequestBuilder> {
        let client = self.client.as_ref()?;
        let cfg = self.config.as_ref()?;
        let mut req = client.get(url);
        if let Some((u, p)) = &cfg.credentials {
            req = req.basic_auth(u, Some(p));
        }
        Some(req)
    }
}

/// The health of the e-book side, as `/health/deep` and the diagnostics grade it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Health {
    /// CALIBRE_WEB_URL unset.
    Disabled,
    /// The first synchronisation has not finished yet.
    Starting,
    Healthy,
    /// The last synchronisation failed: the last good copy is served.
    Degraded,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Disabled => "disabled",
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
        }
    }
}

impl Library {
    pub fn health(&self) -> Health {
        if !self.enabled() {
            return Health::Disabled;
        }
        let s = self.status();
        match (s.last_attempt, s.last_error) {
            (None, _) => Health::Starting,
            (Some(_), None) => Health::Healthy,
            (Some(_), Some(_)) => Health::Degraded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_ids() {
        assert_eq!(parse_book_id("calibre-12"), Some(12));
        for bad in [
            "12",
            "calibre-",
            "calibre-0",
            "calibre-1x",
            "calibre--1",
            "calibre-+1",
            "calibre-1234567890123456789",
            "Calibre-1",
            "calibre-1/../2",
        ] {
            assert_eq!(parse_book_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn reader_urls() {
        let mut b = Ebook {
            id: 7,
            ..Ebook::default()
        };
        assert_eq!(b.reader_url("/calibre-web"), "/calibre-web/read/7/epub");
        b.formats = "azw3,pdf".into();
        assert_eq!(b.reader_url("/cw"), "/cw/read/7/pdf");
        b.formats = "mobi".into();
        assert_eq!(b.reader_url("/cw"), "/cw/read/7/mobi");
        assert_eq!(b.cover_path(), "");
        b.has_cover = 1;
        assert_eq!(b.cover_path(), "/api/calibre/cover/7");
    }
}
