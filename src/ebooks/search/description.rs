//! The OpenSearch description's Atom template, read and filled: no I/O and nothing of the
//! crate but `ebooks::opds` (its refusals and depth limit), so that `fuzz/` can include it
//! (fuzz/fuzz_targets/opensearch.rs).

use quick_xml::{Reader, events::Event};
use url::Url;

use crate::ebooks::opds::{self, OpdsError};

/// The Atom template of an OpenSearch description: the `template` of its first `<Url>`
/// whose type is an Atom feed, as written. `None` when it has none; an error when the
/// document is refused.
pub fn description_template(body: &[u8]) -> Result<Option<String>, OpdsError> {
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
