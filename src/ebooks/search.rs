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

use quick_xml::{Reader, events::Event};
use reqwest::{StatusCode, Url};

use super::{
    Library, opds,
    sync::{self, SyncError, read_capped},
};

/// Largest OpenSearch description read.
pub const DESCRIPTION_MAX_BYTES: usize = 64 * 1024;
/// Most result pages followed for one query.
pub const MAX_RESULT_PAGES: usize = 10;

/// The Atom template of an OpenSearch description: the `template` of its first `<Url>`
/// whose type is an Atom feed, as written. `None` when it has none; an error when the
/// document is refused.
pub fn description_template(body: &[u8]) -> Result<Option<String>, opds::OpdsError> {
    use opds::OpdsError;
    let text = std::str::from_utf8(body).map_err(|_| OpdsError::NotUtf8)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut found = None;
    loop {
        let event = reader.read_event().map_err(|_| OpdsError::Malformed)?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::DocType(_) => return Err(OpdsError::Dtd),
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                if !saw_root {
                    if name != "OpenSearchDescription" {
                        return Err(OpdsError::NotAFeed);
                    }
                    saw_root = true;
                }
                if depth == 1 && name == "Url" && found.is_none() {
                    let (mut kind, mut template) = (String::new(), String::new());
                    for a in e.attributes() {
                        let a = a.map_err(|_| OpdsError::Malformed)?;
                        let v = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|_| OpdsError::UnknownEntity)?
                            .into_owned();
                        match a.key.local_name().as_ref() {
                            "type" => kind = v,
                            "template" => template = v,
                            _ => {}
                        }
                    }
                    if kind.starts_with("application/atom+xml") && !template.trim().is_empty() {
                        found = Some(template.trim().to_string());
                    }
                }
                if !empty {
                    depth += 1;
                    if depth > opds::MAX_DEPTH {
                        return Err(OpdsError::TooDeep);
                    }
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::GeneralRef(r) if !r.is_char_ref() => {
                let name = r.xml10_content();
                if !matches!(name.as_ref(), "lt" | "gt" | "amp" | "apos" | "quot") {
                    return Err(OpdsError::UnknownEntity);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(OpdsError::NotAFeed);
    }
    if depth != 0 {
        return Err(OpdsError::Malformed);
    }
    Ok(found)
}

/// `s` percent-encoded for a path segment or a query value (RFC 3986 unreserved kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `template` with `{searchTerms}` replaced by the encoded query and the optional
/// `{name?}` parameters emptied, resolved against `base`. `None` when the template has no
/// `{searchTerms}`, needs another parameter, or does not make a URL.
pub fn fill(template: &str, query: &str, base: &Url) -> Option<Url> {
    if !template.contains("{searchTerms}") {
        return None;
    }
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after.find('}')?;
        let name = &after[..j];
        if name == "searchTerms" {
            out.push_str(&encode(query));
        } else if !name.ends_with('?') {
            return None;
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    base.join(&out).ok()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const OSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
  <ShortName>Calibre-Web</ShortName>
  <Url type="text/html" template="/cw/search?query={searchTerms}"/>
  <Url type="application/atom+xml" template="/cw/opds/search/{searchTerms}"/>
</OpenSearchDescription>"#;

    #[test]
    fn the_atom_template_is_read() {
        assert_eq!(
            description_template(OSD.as_bytes()),
            Ok(Some("/cw/opds/search/{searchTerms}".to_string()))
        );
        let none = r#"<OpenSearchDescription><Url type="text/html" template="/s?q={searchTerms}"/></OpenSearchDescription>"#;
        assert_eq!(description_template(none.as_bytes()), Ok(None));
    }

    #[test]
    fn hostile_descriptions_are_refused() {
        use opds::OpdsError;
        let e = |s: &str| description_template(s.as_bytes()).err();
        assert_eq!(e("<feed/>"), Some(OpdsError::NotAFeed));
        assert_eq!(
            e("<OpenSearchDescription><Url></OpenSearchDescription>"),
            Some(OpdsError::Malformed)
        );
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\">]>\
            <OpenSearchDescription><ShortName>&a;</ShortName></OpenSearchDescription>";
        assert_eq!(e(laughs), Some(OpdsError::Dtd));
        assert_eq!(
            e("<OpenSearchDescription><ShortName>&a;</ShortName></OpenSearchDescription>"),
            Some(OpdsError::UnknownEntity)
        );
    }

    #[test]
    fn templates_are_filled() {
        let base = Url::parse("http://cw.test/cw/opds/osd").expect("url");
        assert_eq!(
            fill("/cw/opds/search/{searchTerms}", "Rust & C/C++ é", &base).map(String::from),
            Some("http://cw.test/cw/opds/search/Rust%20%26%20C%2FC%2B%2B%20%C3%A9".into())
        );
        assert_eq!(
            fill("search?q={searchTerms}&p={startPage?}", "a b", &base).map(String::from),
            Some("http://cw.test/cw/opds/search?q=a%20b&p=".into())
        );
        assert_eq!(fill("/s?p={startPage}&q={searchTerms}", "x", &base), None);
        assert_eq!(fill("/s", "x", &base), None);
        assert_eq!(fill("/s/{searchTerms", "x", &base), None);
    }
}
