//! The OpenSearch client (docs/design.md "E-books", "Search"): the feed's `rel="search"`
//! link names Calibre-Web's OpenSearch description (`/opds/osd`); its Atom `<Url
//! template="…/opds/search/{searchTerms}">` is filled with a query and the answer read as
//! an OPDS page. The catalog's search reads the stored copy and never waits for
//! Calibre-Web; this client is what `gleh doctor` uses to check that Calibre-Web's search
//! answers (`calibre.search`), the template it reads is the one a live search would use.
//!
//! The description is parsed with the same refusals as a feed (no DTD, no unknown entity,
//! a depth limit) and capped at [`DESCRIPTION_MAX_BYTES`]; a template (and every page of
//! the answer) must stay on CALIBRE_WEB_URL's origin, so the credentials go nowhere else;
//! only `{searchTerms}` and optional `{name?}` parameters are filled.
//!
//! `description` reads the description and fills its template (pure functions, kept
//! apart so that `fuzz/` can include them).

mod description;

use reqwest::{StatusCode, Url};

pub use description::{description_template, fill};

use super::{
    Library, opds,
    sync::{self, SyncError, read_capped},
};

/// Largest OpenSearch description read.
pub const DESCRIPTION_MAX_BYTES: usize = 64 * 1024;
/// Most result pages followed for one query.
pub const MAX_RESULT_PAGES: usize = 10;

/// Where the search template comes from, for doctor's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The template as written.
    pub template: String,
    /// The URL it is resolved against (the description's, else the feed's).
    pub base: Url,
    /// Whether it was read from an OpenSearch description (else from the feed's link).
    pub from_description: bool,
}

/// Why a search could not be made: a synchronisation error, or no usable template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchError {
    Fetch(SyncError),
    NoSearchLink,
    BadDescription(opds::OpdsError),
    BadTemplate,
    OtherOrigin,
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchError::Fetch(e) => e.fmt(f),
            SearchError::NoSearchLink => f.write_str("the feed has no rel=\"search\" link"),
            SearchError::BadDescription(e) => {
                write!(f, "the OpenSearch description is unusable: {e}")
            }
            SearchError::BadTemplate => {
                f.write_str("the OpenSearch description has no usable Atom template")
            }
            SearchError::OtherOrigin => {
                f.write_str("the search template leaves Calibre-Web's origin (not followed)")
            }
        }
    }
}

impl From<SyncError> for SearchError {
    fn from(e: SyncError) -> Self {
        SearchError::Fetch(e)
    }
}

impl Library {
    fn origin_ok(&self, url: &Url) -> bool {
        self.config
            .as_ref()
            .and_then(|c| sync::feed_url(&c.url, "opds"))
            .is_some_and(|start| sync::same_origin(url, &start))
    }

    /// The OpenSearch description at `url`, as its Atom template.
    async fn description(&self, url: &Url) -> Result<Option<String>, SearchError> {
        let req = self.get(url.clone()).ok_or(SyncError::Disabled)?;
        let resp = req
            .header(
                reqwest::header::ACCEPT,
                "application/opensearchdescription+xml",
            )
            .send()
            .await
            .map_err(|e| sync::transport(&e))?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(SyncError::Unauthorized.into());
            }
            s => return Err(SyncError::Status(s.as_u16()).into()),
        }
        let body = read_capped(resp, DESCRIPTION_MAX_BYTES).await?;
        description_template(&body).map_err(SearchError::BadDescription)
    }

    /// The search template of a fetched feed page (`page`, fetched from `base`): the
    /// OpenSearch description's Atom template when the page links one, else the page's
    /// own `{searchTerms}` link.
    pub async fn template_of(
        &self,
        page: &opds::Page,
        base: &Url,
    ) -> Result<Template, SearchError> {
        if let Some(osd) = &page.search {
            if !self.origin_ok(osd) {
                return Err(SearchError::OtherOrigin);
            }
            if let Some(template) = self.description(osd).await? {
                return Ok(Template {
                    template,
                    base: osd.clone(),
                    from_description: true,
                });
            }
        }
        match &page.search_template {
            Some(t) => Ok(Template {
                template: t.clone(),
                base: base.clone(),
                from_description: false,
            }),
            None if page.search.is_some() => Err(SearchError::BadTemplate),
            None => Err(SearchError::NoSearchLink),
        }
    }

    /// The book numbers Calibre-Web's search finds for `query`, in its order (every page
    /// of the answer, at most [`MAX_RESULT_PAGES`]).
    pub async fn search_with(
        &self,
        template: &Template,
        query: &str,
    ) -> Result<Vec<i64>, SearchError> {
        let mut url =
            fill(&template.template, query, &template.base).ok_or(SearchError::BadTemplate)?;
        let mut ids = Vec::new();
        for _ in 0..MAX_RESULT_PAGES {
            if !self.origin_ok(&url) {
                return Err(SearchError::OtherOrigin);
            }
            let page = self.page(&url).await?;
            for e in page.entries {
                if !ids.contains(&e.id) {
                    ids.push(e.id);
                }
            }
            match page.next {
                Some(next) if next != url => url = next,
                _ => break,
            }
        }
        Ok(ids)
    }
}
