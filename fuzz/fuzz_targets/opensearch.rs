//! The OpenSearch description and its template (src/ebooks/search/description.rs): any
//! document, any query. A filled template is a URL that reads back as itself, and an
//! http(s) one carries the query encoded, never raw. (A template of another scheme, such as
//! `s: {searchTerms}`, keeps its own text as written — the first run's finding, an
//! assertion too strong; src/ebooks/search.rs follows no URL off Calibre-Web's origin.)
#![no_main]

use gleh_fuzz::ebooks::search::description::{description_template, fill};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    // `query` NUL `document`
    let (query, doc) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"rust"[..], data),
    };
    let query = String::from_utf8_lossy(query);
    let base = Url::parse("http://cw.test/cw/opds/osd").expect("base");
    let template = match description_template(doc) {
        Ok(Some(t)) => {
            assert!(!t.is_empty() && t.trim() == t);
            t
        }
        // Also fill what is not a description, as a template of its own.
        _ => String::from_utf8_lossy(doc).into_owned(),
    };
    if let Some(url) = fill(&template, &query, &base) {
        assert!(template.contains("{searchTerms}"));
        assert_eq!(Url::parse(url.as_str()).as_ref(), Ok(&url));
        if matches!(url.scheme(), "http" | "https") {
            assert!(!url.as_str().contains(' '), "{url}");
        }
    }
});
