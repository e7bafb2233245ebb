//! Calibre-Web (docs/design.md "E-books"): `calibre.feed` (`<CALIBRE_WEB_URL>/opds`
//! answers within [`CALIBRE_TIMEOUT`] with an OPDS/Atom feed), `calibre.credentials`
//! (Calibre-Web accepts CALIBRE_WEB_USERNAME/CALIBRE_WEB_PASSWORD; the lines name the
//! variables, never their values) and `calibre.search` (the feed's OpenSearch description
//! gives an Atom template that answers a search). CALIBRE_WEB_URL unset: one PASS line
//! `calibre.feed`, e-books off.

use std::time::{Duration, Instant};

use super::Report;
use crate::{
    config::{Config, redact_url},
    ebooks::{
        Library,
        search::SearchError,
        sync::{SyncError, feed_url},
    },
};

/// How long each Calibre-Web call gets.
pub(super) const CALIBRE_TIMEOUT: Duration = Duration::from_secs(5);

const FEED: &str = "Calibre-Web feed";
const CREDENTIALS: &str = "Calibre-Web credentials";
const SEARCH: &str = "Calibre-Web search";

pub(super) async fn check_calibre(config: &Config, r: &mut Report) {
    let Some(cfg) = config.calibre.clone() else {
        return r.pass(
            "calibre.feed",
            FEED,
            "CALIBRE_WEB_URL is not set: no e-books",
        );
    };
    let has_credentials = cfg.credentials.is_some();
    let shown = format!("{}/opds", redact_url(&cfg.url));
    let lib = match Library::new(Some(cfg.clone())) {
        Ok(l) => l,
        Err(_) => return r.fail("calibre.feed", FEED, "no HTTP client could be made"),
    };
    let Some(root) = feed_url(&cfg.url, "opds") else {
        return r.fail("calibre.feed", FEED, "CALIBRE_WEB_URL is not a URL");
    };
    let started = Instant::now();
    let page = match tokio::time::timeout(CALIBRE_TIMEOUT, lib.page(&root)).await {
        Err(_) | Ok(Err(SyncError::Timeout)) => {
            return r.fail(
                "calibre.feed",
                FEED,
                format!(
                    "{shown} did not answer within {} s",
                    CALIBRE_TIMEOUT.as_secs()
                ),
            );
        }
        Ok(Err(SyncError::Unauthorized)) => {
            r.pass("calibre.feed", FEED, format!("{shown} answers"));
            return r.fail(
                "calibre.credentials",
                CREDENTIALS,
                if has_credentials {
                    "Calibre-Web refused CALIBRE_WEB_USERNAME/CALIBRE_WEB_PASSWORD (HTTP 401): check the account and that it may use the OPDS feed"
                } else {
                    "Calibre-Web asks for a login (HTTP 401): set CALIBRE_WEB_USERNAME and CALIBRE_WEB_PASSWORD, or turn on its anonymous browsing"
                },
            );
        }
        Ok(Err(SyncError::Feed(e))) => {
            return r.fail(
                "calibre.feed",
                FEED,
                format!("{shown} is not an OPDS/Atom feed: {e}"),
            );
        }
        Ok(Err(SyncError::Unreachable)) => {
            return r.fail("calibre.feed", FEED, format!("cannot connect to {shown}"));
        }
        Ok(Err(e)) => return r.fail("calibre.feed", FEED, format!("{shown}: {e}")),
        Ok(Ok(page)) => page,
    };
    r.pass(
        "calibre.feed",
        FEED,
        format!(
            "{shown} answered an OPDS/Atom feed in {} ms",
            started.elapsed().as_millis()
        ),
    );
    r.pass(
        "calibre.credentials",
        CREDENTIALS,
        if has_credentials {
            "accepted (CALIBRE_WEB_USERNAME/CALIBRE_WEB_PASSWORD)"
        } else {
            "none set, and none asked for (anonymous browsing)"
        },
    );
    check_search(&lib, &cfg.url, &page, &root, r).await;
}

/// `calibre.search`: the template from the OpenSearch description answers a search for
/// the newest book's title. A WARN, not a FAIL: the catalog searches the stored copy.
async fn check_search(
    lib: &Library,
    base: &str,
    page: &crate::ebooks::opds::Page,
    root: &reqwest::Url,
    r: &mut Report,
) {
    let late = || {
        format!(
            "Calibre-Web's search did not answer within {} s",
            CALIBRE_TIMEOUT.as_secs()
        )
    };
    let template = match tokio::time::timeout(CALIBRE_TIMEOUT, lib.template_of(page, root)).await {
        Err(_) => return r.warn("calibre.search", SEARCH, late()),
        Ok(Err(e)) => return r.warn("calibre.search", SEARCH, e.to_string()),
        Ok(Ok(t)) => t,
    };
    let source = if template.from_description {
        "the OpenSearch description's template"
    } else {
        "the feed's search template (no OpenSearch description)"
    };
    // A known title to look for: the first book of /opds/new.
    let probe = match feed_url(base, "opds/new") {
        Some(u) => tokio::time::timeout(CALIBRE_TIMEOUT, lib.page(&u))
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|p| p.entries.into_iter().next()),
        None => None,
    };
    let query = probe.as_ref().map(|e| e.title.as_str()).unwrap_or("a");
    match tokio::time::timeout(CALIBRE_TIMEOUT, lib.search_with(&template, query)).await {
        Err(_) => r.warn("calibre.search", SEARCH, late()),
        Ok(Err(SearchError::Fetch(e))) => r.warn(
            "calibre.search",
            SEARCH,
            format!("{source} {}: {e}", template.template),
        ),
        Ok(Err(e)) => r.warn("calibre.search", SEARCH, e.to_string()),
        Ok(Ok(ids)) => match probe {
            Some(book) if !ids.contains(&book.id) => r.warn(
                "calibre.search",
                SEARCH,
                format!(
                    "{source} {} answered, but not with book {} for its own title",
                    template.template, book.id
                ),
            ),
            Some(book) => r.pass(
                "calibre.search",
                SEARCH,
                format!(
                    "{source} {} found book {} by its title ({} result(s))",
                    template.template,
                    book.id,
                    ids.len()
                ),
            ),
            None => r.pass(
                "calibre.search",
                SEARCH,
                format!(
                    "{source} {} answered ({} result(s); the library is empty)",
                    template.template,
                    ids.len()
                ),
            ),
        },
    }
}
