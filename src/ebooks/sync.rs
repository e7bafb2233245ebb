//! The synchronisation: every page of `<CALIBRE_WEB_URL>/opds/new`, following
//! `rel="next"` to the end, into `db::ebooks` in one transaction. A failure of any page
//! keeps the last good copy (the stored one is replaced only by a complete new one), is
//! recorded in the [`SyncStatus`](super::SyncStatus) as a fixed sentence, and the next
//! interval tries again.
//!
//! Limits: each page at most [`PAGE_MAX_BYTES`] (read in chunks, cut off beyond) within
//! `REQUEST_TIMEOUT`; at most [`MAX_PAGES`] pages and [`MAX_BOOKS`] books; a `next` link
//! already seen, or on another origin than CALIBRE_WEB_URL, ends the walk as an error (a
//! feed that loops or never ends); the whole walk within [`SYNC_TIMEOUT`].

use std::{collections::HashSet, time::Instant};

use reqwest::{StatusCode, Url};

use super::{
    Library,
    opds::{self, Entry},
};
use crate::{
    db::{
        Db,
        ebooks::{self, Ebook},
    },
    time::now,
};

/// Largest feed page read.
pub const PAGE_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Most pages walked in one synchronisation.
pub const MAX_PAGES: usize = 2_000;
/// Most books kept.
pub const MAX_BOOKS: usize = 100_000;
/// The whole synchronisation's deadline.
pub const SYNC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// What one successful walk found.
pub struct Walk {
    pub books: Vec<Ebook>,
    pub pages: usize,
}

/// Why a synchronisation failed: fixed sentences, never a URL, a credential or the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncError {
    Disabled,
    Timeout,
    Unreachable,
    Unauthorized,
    Status(u16),
    TooLarge,
    Feed(opds::OpdsError),
    Loop,
    TooManyPages,
    Database,
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Disabled => f.write_str("CALIBRE_WEB_URL is not set"),
            SyncError::Timeout => f.write_str("Calibre-Web did not answer in time"),
            SyncError::Unreachable => f.write_str("Calibre-Web cannot be reached"),
            SyncError::Unauthorized => {
                f.write_str("Calibre-Web refused the credentials (CALIBRE_WEB_USERNAME/PASSWORD)")
            }
            SyncError::Status(c) => write!(f, "Calibre-Web answered HTTP {c}"),
            SyncError::TooLarge => f.write_str("a feed page is larger than 8 MiB"),
            SyncError::Feed(e) => write!(f, "Calibre-Web sent an unusable feed: {e}"),
            SyncError::Loop => f.write_str("the feed's next links loop or leave Calibre-Web"),
            SyncError::TooManyPages => f.write_str("the feed has more than 2000 pages"),
            SyncError::Database => f.write_str("the library could not be stored"),
        }
    }
}

pub(super) fn transport(e: &reqwest::Error) -> SyncError {
    if e.is_timeout() {
        SyncError::Timeout
    } else {
        SyncError::Unreachable
    }
}

/// `<CALIBRE_WEB_URL>/<path>`.
pub fn feed_url(base: &str, path: &str) -> Option<Url> {
    Url::parse(&format!("{base}/{path}")).ok()
}

/// Reads a body in chunks, refusing it past `max` bytes.
pub async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, SyncError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(SyncError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(&e))? {
        if body.len() + chunk.len() > max {
            return Err(SyncError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

impl Library {
    /// One page, fetched and parsed.
    pub async fn page(&self, url: &Url) -> Result<opds::Page, SyncError> {
        let req = self.get(url.clone()).ok_or(SyncError::Disabled)?;
        let resp = req
            .header(reqwest::header::ACCEPT, "application/atom+xml")
            .send()
            .await
            .map_err(|e| transport(&e))?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(SyncError::Unauthorized);
            }
            s => return Err(SyncError::Status(s.as_u16())),
        }
        let base = resp.url().clone();
        let body = read_capped(resp, PAGE_MAX_BYTES).await?;
        opds::parse(&body, &base).map_err(SyncError::Feed)
    }

    /// Every page of `/opds/new`, as the books to store (first occurrence of an id wins).
    pub async fn walk(&self) -> Result<Walk, SyncError> {
        let cfg = self.config.as_ref().ok_or(SyncError::Disabled)?;
        let start = feed_url(&cfg.url, "opds/new").ok_or(SyncError::Disabled)?;
        let mut url = start.clone();
        let mut seen: HashSet<String> = HashSet::new();
        let mut ids: HashSet<i64> = HashSet::new();
        let mut books = Vec::new();
        let mut pages = 0;
        loop {
            if !seen.insert(url.as_str().to_string()) {
                return Err(SyncError::Loop);
            }
            if pages >= MAX_PAGES {
                return Err(SyncError::TooManyPages);
            }
            let page = self.page(&url).await?;
            pages += 1;
            for e in page.entries {
                if books.len() < MAX_BOOKS && ids.insert(e.id) {
                    books.push(to_row(e, books.len() as i64));
                }
            }
            match page.next {
                None => break,
                Some(next) if same_origin(&next, &start) => url = next,
                Some(_) => return Err(SyncError::Loop),
            }
        }
        Ok(Walk { books, pages })
    }

    /// One synchronisation (waiting for a running one to finish first): walk, store,
    /// record the outcome. Returns the number of books stored.
    pub async fn sync(&self, db: &Db) -> Result<usize, SyncError> {
        if !self.enabled() {
            return Err(SyncError::Disabled);
        }
        let _one_at_a_time = self.running.lock().await;
        let started = Instant::now();
        let result = match tokio::time::timeout(SYNC_TIMEOUT, self.walk()).await {
            Err(_) => Err(SyncError::Timeout),
            Ok(Err(e)) => Err(e),
            Ok(Ok(walk)) => match ebooks::replace_all(db, &walk.books, now()).await {
                Ok(()) => Ok((walk.books.len(), walk.pages)),
                Err(e) => {
                    tracing::error!(event = "ebooks_store_failed", error = %e);
                    Err(SyncError::Database)
                }
            },
        };
        let ms = started.elapsed().as_millis() as u64;
        let at = now();
        match &result {
            Ok((books, pages)) => {
                tracing::info!(event = "ebooks_synced", books, pages, duration_ms = ms);
                self.set_status(|s| {
                    s.last_attempt = Some(at);
                    s.last_success = Some(at);
                    s.last_error = None;
                    s.books = Some(*books);
                    s.pages = Some(*pages);
                    s.duration_ms = Some(ms);
                    s.failures = 0;
                });
            }
            Err(e) => {
                let failures = self.status().failures + 1;
                // Logged on the first failure and then every tenth, not every interval.
                if failures == 1 || failures.is_multiple_of(10) {
                    tracing::warn!(event = "ebooks_sync_failed", reason = %e, failures,
                                   duration_ms = ms);
                }
                let reason = e.to_string();
                self.set_status(|s| {
                    s.last_attempt = Some(at);
                    s.last_error = Some(reason);
                    s.duration_ms = Some(ms);
                    s.failures = failures;
                });
            }
        }
        result.map(|(books, _)| books)
    }
}

/// A parsed entry as the row stored.
fn to_row(e: Entry, position: i64) -> Ebook {
    let mut formats: Vec<String> = Vec::new();
    for (f, _) in &e.acquisitions {
        if !f.is_empty() && !formats.contains(f) {
            formats.push(f.clone());
        }
    }
    Ebook {
        id: e.id,
        position,
        title: e.title,
        authors: if e.authors.is_empty() {
            "Unknown".to_string()
        } else {
            e.authors.join(", ")
        },
        summary: e.summary,
        categories: e
            .categories
            .iter()
            .map(|c| c.replace(['\n', '\r'], " "))
            .collect::<Vec<_>>()
            .join("\n"),
        language: e.language,
        published: e.published,
        formats: formats.join(","),
        has_cover: i64::from(e.cover.is_some() || e.thumbnail.is_some()),
    }
}

/// The background task: a synchronisation at start and then every
/// CALIBRE_REFRESH_INTERVAL (after a failure, sooner: a minute, doubling up to the
/// interval), until the process ends. Nothing when e-books are off.
pub fn spawn(state: crate::state::AppState) {
    let Some(cfg) = state.ebooks.config.clone() else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let ok = state.ebooks.sync(&state.db).await.is_ok();
            let failures = state.ebooks.status().failures;
            let wait = if ok {
                cfg.refresh_interval
            } else {
                let backoff = std::time::Duration::from_secs(60)
                    .saturating_mul(1u32 << failures.min(10).saturating_sub(1));
                backoff.min(cfg.refresh_interval)
            };
            tokio::time::sleep(wait).await;
        }
    });
}
