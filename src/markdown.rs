//! The About page's Markdown, rendered for a page whose text an admin writes: CommonMark
//! (with tables and strikethrough) where raw HTML is shown as text, never passed through,
//! and links or images whose address is not `http:`, `https:`, `mailto:` or relative
//! (`javascript:`, `data:`, `vbscript:`, …) lose the address. The page's CSP allows no
//! script anyway (docs/design.md "Transport and headers"); this keeps the markup itself
//! harmless.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Safe HTML for `markdown`.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // As text: push_html escapes it.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// `url` when it is relative or uses an allowed scheme, else "".
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    if is_safe_url(&url) {
        url
    } else {
        CowStr::Borrowed("")
    }
}

fn is_safe_url(url: &str) -> bool {
    // Browsers ignore ASCII whitespace and control characters inside a scheme
    // ("java\tscript:"), so they are dropped before looking.
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect();
    // A scheme is what comes before a ':' that precedes any '/', '?' or '#'.
    match cleaned.find([':', '/', '?', '#']) {
        Some(i) if cleaned.as_bytes()[i] == b':' => {
            let scheme = cleaned[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = to_safe_html("# About\n\nWe *teach* [Rust](https://www.rust-lang.org/).");
        assert!(html.contains("<h1>About</h1>"), "{html}");
        assert!(html.contains("<em>teach</em>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://www.rust-lang.org/">Rust</a>"#),
            "{html}"
        );
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html =
            to_safe_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> there");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
    }

    #[test]
    fn unsafe_link_addresses_are_dropped() {
        for md in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](<java\tscript:alert(1)>)",
            "[x](<java script:alert(1)>)",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "<javascript:alert(1)>",
            "![x](javascript:alert(1))",
            "[x][r]\n\n[r]: javascript:alert(1)",
        ] {
            let html = to_safe_html(md);
            let lower = html.to_ascii_lowercase().replace("%20", "");
            for attr in ["href=\"", "src=\""] {
                for scheme in ["javascript", "java\tscript", "data:", "vbscript"] {
                    let bad = format!("{attr}{scheme}");
                    assert!(!lower.contains(&bad), "{md} → {html}");
                }
            }
            assert!(
                lower.contains("href=\"\"") || lower.contains("src=\"\""),
                "{md} → {html}"
            );
        }
        for ok in [
            "/courses",
            "#top",
            "mailto:a@b.example",
            "http://x.example/a:b",
            "a/b:c",
        ] {
            assert!(is_safe_url(ok), "{ok}");
        }
    }
}
