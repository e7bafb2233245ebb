//! An OPDS 1.2 (Atom) page parser on quick-xml: one page of a Calibre-Web acquisition
//! feed becomes its entries, its `rel="next"` link and its OpenSearch link, every href
//! resolved against the URL the page was fetched from (so a Calibre-Web behind a sub-path
//! works).
//!
//! Hostile input is refused, never expanded: any DTD (`<!DOCTYPE`) is an error, so no
//! entity can be declared; only the five predefined entities and character references are
//! resolved, any other `&name;` is an error (the billion-laughs feed fails at its DTD);
//! nesting deeper than [`MAX_DEPTH`] is an error; at most [`MAX_ENTRIES`] entries a page and
//! every text field is cut to a length. The size of a page is capped by the fetcher
//! (`sync`), before this parser sees it.

use quick_xml::{Reader, events::Event};
use url::Url;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most entries read from one page.
pub const MAX_ENTRIES: usize = 10_000;
/// Longest title, author, category or language kept (characters).
pub const MAX_SHORT: usize = 1_000;
/// Longest summary kept (characters).
pub const MAX_SUMMARY: usize = 20_000;
/// Most authors, categories and acquisition links kept per entry.
pub const MAX_LIST: usize = 50;

/// One `atom:entry` that carries a Calibre book number.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Entry {
    /// `n` of `/opds/cover/<n>` or `/opds/download/<n>/…`.
    pub id: i64,
    pub title: String,
    pub authors: Vec<String>,
    /// Plain text: the summary (else the content) with any markup removed.
    pub summary: String,
    pub categories: Vec<String>,
    pub language: String,
    /// `published`, else `dc:issued`, else `updated`.
    pub published: String,
    pub cover: Option<Url>,
    pub thumbnail: Option<Url>,
    /// (format, URL) per acquisition link, e.g. ("epub", …/opds/download/3/epub/).
    pub acquisitions: Vec<(String, Url)>,
}

/// One page of a feed.
#[derive(Debug, Default)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// Entries without a Calibre book number (skipped, as the original skipped them).
    pub skipped: usize,
    pub next: Option<Url>,
    /// The OpenSearch description (`rel="search"` of type
    /// `application/opensearchdescription+xml`; else the first `rel="search"` link).
    pub search: Option<Url>,
    /// A `rel="search"` Atom template as written (`/opds/search/{searchTerms}`): kept
    /// unresolved, since resolving would percent-encode its braces.
    pub search_template: Option<String>,
}

/// Why a page was refused. The messages are fixed: they never quote the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpdsError {
    NotUtf8,
    Malformed,
    Dtd,
    UnknownEntity,
    TooDeep,
    NotAFeed,
}

impl std::fmt::Display for OpdsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OpdsError::NotUtf8 => "the feed is not UTF-8",
            OpdsError::Malformed => "the feed is not well-formed XML",
            OpdsError::Dtd => "the feed has a DTD (refused)",
            OpdsError::UnknownEntity => "the feed uses an undeclared entity",
            OpdsError::TooDeep => "the feed nests elements too deeply",
            OpdsError::NotAFeed => "the document is not an Atom feed",
        })
    }
}

impl std::error::Error for OpdsError {}

/// What the text being collected belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    None,
    Title,
    AuthorName,
    Summary { html: bool },
    Content { html: bool },
    Language,
    Published,
    Issued,
    Updated,
}

#[derive(Default)]
struct Building {
    entry: Entry,
    id: Option<i64>,
    summary: String,
    content: String,
    issued: String,
    updated: String,
}

/// The Calibre book number in a link's path: `…/opds/cover/<n>` or `…/opds/download/<n>/…`.
pub fn book_number(url: &Url) -> Option<i64> {
    let path = url.path();
    for marker in ["/opds/cover/", "/opds/download/"] {
        if let Some(i) = path.find(marker) {
            let rest = &path[i + marker.len()..];
            let digits: &str = rest.split('/').next().unwrap_or("");
            if !digits.is_empty()
                && digits.len() <= 18
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                return digits.parse().ok().filter(|n: &i64| *n > 0);
            }
        }
    }
    None
}

/// The short format name of an acquisition link: from its MIME type, else the path's
/// `/opds/download/<n>/<format>/` segment.
fn format_of(mime: &str, url: &Url) -> String {
    let known = match mime.split(';').next().unwrap_or("").trim() {
        "application/epub+zip" => "epub",
        "application/pdf" => "pdf",
        "application/x-mobipocket-ebook" => "mobi",
        "application/vnd.amazon.ebook" => "azw",
        "application/x-mobi8-ebook" => "azw3",
        "application/x-cbz" | "application/vnd.comicbook+zip" => "cbz",
        "text/plain" => "txt",
        "application/fb2+zip" | "application/x-fictionbook+xml" => "fb2",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let path = url.path();
    path.find("/opds/download/")
        .and_then(|i| path[i + "/opds/download/".len()..].split('/').nth(1))
        .filter(|f| !f.is_empty() && f.len() <= 10 && f.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|f| f.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Text with markup removed (`<…>` dropped) and whitespace collapsed.
pub fn plain_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_control() && !c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// HTML character references that survive in an `type="html"` summary once the XML layer
/// has been unescaped (`&amp;lt;` → `&lt;`): the common ones, decoded after the tags are gone.
fn html_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn cut(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

fn short(s: &str) -> String {
    cut(
        s.split_whitespace().collect::<Vec<_>>().join(" "),
        MAX_SHORT,
    )
}

/// The attributes of an element as (local name, unescaped value); an undeclared entity
/// in a value is an error.
fn attributes(e: &quick_xml::events::BytesStart<'_>) -> Result<Vec<(String, String)>, OpdsError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|_| OpdsError::Malformed)?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| OpdsError::UnknownEntity)?;
        out.push((a.key.local_name().as_ref().to_string(), value.into_owned()));
    }
    Ok(out)
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> &'a str {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The five predefined entities (a DTD is refused, so no other can be declared).
fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

/// Parses one page; `base` is the URL it was fetched from (after redirects).
pub fn parse(body: &[u8], base: &Url) -> Result<Page, OpdsError> {
    let text = std::str::from_utf8(body).map_err(|_| OpdsError::NotUtf8)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut page = Page::default();
    // Local names of the open elements.
    let mut stack: Vec<String> = Vec::new();
    let mut building: Option<Building> = None;
    let mut field = Field::None;
    // The depth at which the collected field's element was opened.
    let mut field_depth = 0;
    let mut buf = String::new();
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|_| OpdsError::Malformed)?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::DocType(_) => return Err(OpdsError::Dtd),
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                if !saw_root {
                    if name != "feed" {
                        return Err(OpdsError::NotAFeed);
                    }
                    saw_root = true;
                }
                let attrs = attributes(&e)?;
                let depth = stack.len();
                on_open(
                    &name,
                    &attrs,
                    depth,
                    base,
                    &mut page,
                    &mut building,
                    &mut field,
                    &mut field_depth,
                    &mut buf,
                )?;
                if !empty {
                    if stack.len() >= MAX_DEPTH {
                        return Err(OpdsError::TooDeep);
                    }
                    stack.push(name);
                } else if field != Field::None && field_depth == depth {
                    // An empty element that was to hold text: nothing to collect.
                    close_field(&mut building, &mut field, &mut buf);
                }
            }
            Event::End(_) => {
                let Some(name) = stack.pop() else {
                    return Err(OpdsError::Malformed);
                };
                let depth = stack.len();
                if field != Field::None && depth == field_depth {
                    close_field(&mut building, &mut field, &mut buf);
                } else if field != Field::None {
                    // The end of an element nested in an xhtml summary: keep words apart.
                    buf.push(' ');
                }
                if name == "entry"
                    && depth == 1
                    && let Some(b) = building.take()
                {
                    finish_entry(b, &mut page);
                }
            }
            Event::Text(t) => {
                if field != Field::None {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if field != Field::None {
                    buf.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|_| OpdsError::Malformed)?
                        .ok_or(OpdsError::Malformed)?
                } else {
                    predefined(&r.xml10_content()).ok_or(OpdsError::UnknownEntity)?
                };
                if field != Field::None {
                    buf.push(c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        if buf.len() > 4 * MAX_SUMMARY {
            let keep = cut(std::mem::take(&mut buf), MAX_SUMMARY);
            buf = keep;
        }
    }
    if !stack.is_empty() {
        return Err(OpdsError::Malformed);
    }
    if !saw_root {
        return Err(OpdsError::NotAFeed);
    }
    Ok(page)
}

#[allow(clippy::too_many_arguments)]
fn on_open(
    name: &str,
    attrs: &[(String, String)],
    depth: usize,
    base: &Url,
    page: &mut Page,
    building: &mut Option<Building>,
    field: &mut Field,
    field_depth: &mut usize,
    buf: &mut String,
) -> Result<(), OpdsError> {
    if *field != Field::None {
        // Inside a field (an xhtml summary): nested elements only add their text.
        return Ok(());
    }
    let resolve = |href: &str| base.join(href.trim()).ok();
    match (depth, name) {
        (1, "link") => {
            let rel = attr(attrs, "rel");
            let Some(url) = resolve(attr(attrs, "href")) else {
                return Ok(());
            };
            let href = attr(attrs, "href").trim();
            if rel == "next" && page.next.is_none() {
                page.next = Some(url);
            } else if rel == "search" {
                let description = attr(attrs, "type").contains("opensearchdescription");
                if href.contains("{searchTerms}") && !description {
                    if page.search_template.is_none() {
                        page.search_template = Some(cut(href.to_string(), MAX_SHORT));
                    }
                } else if page.search.is_none() {
                    page.search = Some(url);
                }
            }
        }
        (1, "entry") if page.entries.len() + page.skipped < MAX_ENTRIES => {
            *building = Some(Building::default());
        }
        (2, _) if building.is_some() => {
            let Some(b) = building.as_mut() else {
                return Ok(());
            };
            let html = matches!(attr(attrs, "type"), "html" | "text/html");
            let start = |f: Field, field: &mut Field, fd: &mut usize, buf: &mut String| {
                *field = f;
                *fd = depth;
                buf.clear();
            };
            match name {
                "title" => start(Field::Title, field, field_depth, buf),
                "summary" => start(Field::Summary { html }, field, field_depth, buf),
                "content" => start(Field::Content { html }, field, field_depth, buf),
                "language" => start(Field::Language, field, field_depth, buf),
                "published" => start(Field::Published, field, field_depth, buf),
                "issued" => start(Field::Issued, field, field_depth, buf),
                "updated" => start(Field::Updated, field, field_depth, buf),
                "category" => {
                    let label = attr(attrs, "label");
                    let c = short(if label.trim().is_empty() {
                        attr(attrs, "term")
                    } else {
                        label
                    });
                    if !c.is_empty()
                        && b.entry.categories.len() < MAX_LIST
                        && !b.entry.categories.contains(&c)
                    {
                        b.entry.categories.push(c);
                    }
                }
                "link" => {
                    let Some(url) = resolve(attr(attrs, "href")) else {
                        return Ok(());
                    };
                    if !matches!(url.scheme(), "http" | "https") {
                        return Ok(());
                    }
                    if b.id.is_none() {
                        b.id = book_number(&url);
                    }
                    let rel = attr(attrs, "rel");
                    match rel {
                        "http://opds-spec.org/image" => b.entry.cover = Some(url),
                        "http://opds-spec.org/image/thumbnail" => b.entry.thumbnail = Some(url),
                        r if r.starts_with("http://opds-spec.org/acquisition")
                            && b.entry.acquisitions.len() < MAX_LIST =>
                        {
                            let format = format_of(attr(attrs, "type"), &url);
                            b.entry.acquisitions.push((format, url));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        (3, "name") if building.is_some() => {
            // atom:author/atom:name (the only depth-3 element read).
            *field = Field::AuthorName;
            *field_depth = depth;
            buf.clear();
        }
        _ => {}
    }
    Ok(())
}

fn close_field(building: &mut Option<Building>, field: &mut Field, buf: &mut String) {
    let text = std::mem::take(buf);
    let f = std::mem::replace(field, Field::None);
    let Some(b) = building.as_mut() else {
        return;
    };
    let summary = |html: bool| {
        let t = if html {
            html_entities(&plain_text(&text))
        } else {
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        cut(plain_text_controls(&t), MAX_SUMMARY)
    };
    match f {
        Field::Title => b.entry.title = short(&text),
        Field::AuthorName => {
            let a = short(&text);
            if !a.is_empty() && b.entry.authors.len() < MAX_LIST {
                b.entry.authors.push(a);
            }
        }
        Field::Summary { html } => b.summary = summary(html),
        Field::Content { html } => b.content = summary(html),
        Field::Language => b.entry.language = short(&text),
        Field::Published => b.entry.published = short(&text),
        Field::Issued => b.issued = short(&text),
        Field::Updated => b.updated = short(&text),
        Field::None => {}
    }
}

/// Drops control characters other than whitespace.
fn plain_text_controls(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect()
}

fn finish_entry(b: Building, page: &mut Page) {
    let Some(id) = b.id else {
        page.skipped += 1;
        return;
    };
    let mut e = b.entry;
    e.id = id;
    if e.title.is_empty() {
        e.title = "Unknown Title".to_string();
    }
    e.summary = if b.summary.is_empty() {
        b.content
    } else {
        b.summary
    };
    if e.published.is_empty() {
        e.published = if b.issued.is_empty() {
            b.updated
        } else {
            b.issued
        };
    }
    page.entries.push(e);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://cw.test/books/opds/new").expect("url")
    }

    #[test]
    fn book_numbers() {
        let u = |s: &str| Url::parse(s).expect("url");
        assert_eq!(book_number(&u("http://x/opds/cover/12")), Some(12));
        assert_eq!(
            book_number(&u("http://x/cw/opds/download/7/epub/")),
            Some(7)
        );
        assert_eq!(book_number(&u("http://x/opds/cover/12a")), None);
        assert_eq!(book_number(&u("http://x/opds/cover/0")), None);
        assert_eq!(book_number(&u("http://x/opds/new")), None);
    }

    #[test]
    fn plain_text_strips_markup() {
        assert_eq!(plain_text("<p>One <b>two</b></p>\n three"), "One two three");
        assert_eq!(
            html_entities(&plain_text("<p>a &lt;script&gt; &amp; b</p>")),
            "a <script> & b"
        );
    }

    #[test]
    fn an_entry_is_read_whole() {
        let feed = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/terms/">
  <link rel="next"
        href="/books/opds/new?offset=30" type="application/atom+xml"/>
  <link rel="search" href="/books/opds/osd" type="application/opensearchdescription+xml"/>
  <entry>
    <title>Rust &amp; You</title>
    <author><name>Ann</name></author><author><name>Bob</name></author>
    <dc:language>en</dc:language>
    <published>2020-01-02T00:00:00+00:00</published>
    <category term="prog" label="Programming"/><category term="Rust"/>
    <summary type="html">&lt;p&gt;Learn &lt;b&gt;Rust&lt;/b&gt;&lt;/p&gt;</summary>
    <link rel="http://opds-spec.org/image" href="/books/opds/cover/42" type="image/jpeg"/>
    <link rel="http://opds-spec.org/image/thumbnail" href="/books/opds/cover/42" type="image/jpeg"/>
    <link rel="http://opds-spec.org/acquisition" href="/books/opds/download/42/epub/" type="application/epub+zip"/>
    <link rel="http://opds-spec.org/acquisition" href="/books/opds/download/42/azw3/" type="application/octet-stream"/>
  </entry>
  <entry><title>No id</title></entry>
</feed>"#;
        let p = parse(feed.as_bytes(), &base()).expect("parses");
        assert_eq!(p.skipped, 1);
        assert_eq!(
            p.next.as_ref().map(Url::as_str),
            Some("http://cw.test/books/opds/new?offset=30")
        );
        assert_eq!(
            p.search.as_ref().map(Url::as_str),
            Some("http://cw.test/books/opds/osd")
        );
        let e = &p.entries[0];
        assert_eq!(e.id, 42);
        assert_eq!(e.title, "Rust & You");
        assert_eq!(e.authors, ["Ann", "Bob"]);
        assert_eq!(e.language, "en");
        assert_eq!(e.categories, ["Programming", "Rust"]);
        assert_eq!(e.summary, "Learn Rust");
        assert_eq!(
            e.cover.as_ref().map(Url::as_str),
            Some("http://cw.test/books/opds/cover/42")
        );
        let formats: Vec<&str> = e.acquisitions.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(formats, ["epub", "azw3"]);
    }

    #[test]
    fn xhtml_content_is_text() {
        let feed = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two &#233;</p></div></content>
            <updated>2021</updated>
            <link href="/opds/download/3/pdf/" rel="http://opds-spec.org/acquisition" type="application/pdf"/>
          </entry></feed>"#;
        let p = parse(feed.as_bytes(), &base()).expect("parses");
        let e = &p.entries[0];
        assert_eq!((e.id, e.title.as_str()), (3, "Unknown Title"));
        assert_eq!(e.summary, "One Two é");
        assert_eq!(e.published, "2021");
    }

    #[test]
    fn hostile_documents_are_refused() {
        let b = base();
        let err = |s: &str| parse(s.as_bytes(), &b).err();
        assert_eq!(err("<feed><entry></feed>"), Some(OpdsError::Malformed));
        assert_eq!(err("<feed><entry>"), Some(OpdsError::Malformed));
        assert_eq!(err("<html><body/></html>"), Some(OpdsError::NotAFeed));
        assert_eq!(err(""), Some(OpdsError::NotAFeed));
        assert_eq!(
            err("<feed><title>&lol;</title></feed>"),
            Some(OpdsError::UnknownEntity)
        );
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">\
            <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\
            <feed><title>&lol2;</title></feed>";
        assert_eq!(err(laughs), Some(OpdsError::Dtd));
        let deep = format!("<feed>{}{}</feed>", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(err(&deep), Some(OpdsError::TooDeep));
        assert_eq!(parse(&[0xff, 0xfe], &b).err(), Some(OpdsError::NotUtf8));
    }

    #[test]
    fn non_http_links_are_ignored() {
        let feed = r#"<feed><entry><title>x</title>
            <link rel="http://opds-spec.org/image" href="javascript:alert(1)//opds/cover/5"/>
            </entry></feed>"#;
        let p = parse(feed.as_bytes(), &base()).expect("parses");
        assert_eq!((p.entries.len(), p.skipped), (0, 1));
    }

    /// The recorded feeds of tests/fixtures/opds/ (its README.md says what each is).
    mod recorded {
        use super::*;

        macro_rules! fixture {
            ($name:literal) => {
                include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/opds/",
                    $name
                ))
                .as_slice()
            };
        }

        fn base() -> Url {
            Url::parse("http://books.test:8083/calibre-web/opds/new").expect("url")
        }

        #[test]
        fn a_calibre_web_page() {
            let p = parse(fixture!("calibre-web-new.xml"), &base()).expect("parses");
            assert_eq!(
                p.next.as_ref().map(Url::as_str),
                Some("http://books.test:8083/calibre-web/opds/new?offset=2")
            );
            assert_eq!(
                p.search.as_ref().map(Url::as_str),
                Some("http://books.test:8083/calibre-web/opds/osd")
            );
            assert_eq!(
                p.search_template.as_deref(),
                Some("/calibre-web/opds/search/{searchTerms}")
            );
            let ids: Vec<i64> = p.entries.iter().map(|e| e.id).collect();
            assert_eq!((ids, p.skipped), (vec![7, 3], 0));
            let e = &p.entries[0];
            assert_eq!(e.summary, "A determinant-free approach & more.");
            assert_eq!(e.categories, ["Mathematics"]);
            assert_eq!(e.language, "en");
            let f: Vec<&str> = e.acquisitions.iter().map(|(f, _)| f.as_str()).collect();
            assert_eq!(f, ["epub", "pdf"]);
            assert_eq!(
                p.entries[1].authors,
                ["Richard P. Feynman", "Robert B. Leighton"]
            );
            assert_eq!(p.entries[1].acquisitions[0].0, "mobi");
        }

        #[test]
        fn broken_and_hostile_pages_are_refused() {
            for (file, want) in [
                (fixture!("malformed.xml"), OpdsError::Malformed),
                (fixture!("truncated.xml"), OpdsError::Malformed),
                (fixture!("billion-laughs.xml"), OpdsError::Dtd),
                (fixture!("external-entity.xml"), OpdsError::Dtd),
                (fixture!("undeclared-entity.xml"), OpdsError::UnknownEntity),
                (fixture!("login-page.html"), OpdsError::Dtd),
                (fixture!("cover-is-html.html"), OpdsError::NotAFeed),
            ] {
                let started = std::time::Instant::now();
                assert_eq!(parse(file, &base()).err(), Some(want));
                // Refused at once, never expanded.
                assert!(started.elapsed() < std::time::Duration::from_secs(1));
            }
        }

        #[test]
        fn an_html_cover_is_no_image() {
            let html = fixture!("cover-is-html.html");
            assert_eq!(crate::ebooks::cover::image_type("image/jpeg", html), None);
            assert_eq!(crate::ebooks::cover::image_type("text/html", html), None);
        }

        #[test]
        fn the_recorded_description() {
            assert_eq!(
                crate::ebooks::search::description_template(fixture!("osd.xml")),
                Ok(Some("/calibre-web/opds/search/{searchTerms}".to_string()))
            );
            assert_eq!(
                crate::ebooks::search::description_template(fixture!("billion-laughs.xml")),
                Err(OpdsError::Dtd)
            );
        }
    }
}
