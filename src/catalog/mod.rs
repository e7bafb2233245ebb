//! The course catalog: what pages show of a `Course` (the stored record, defined with its
//! queries in `db::catalog`) and the URLs they build from it (`urls`), the sample courses
//! seeded in development (`seed`: the JSON samples plus any packages under
//! `$CONTENT_DIR/courses`), `gleh courses import` (`import`), the admin's zip upload
//! (`upload`) and auto-categorize's keyword rules (`categorize`).

pub mod categorize;
pub mod import;
mod seed;
pub mod upload;
mod urls;

#[cfg(test)]
use seed::sample_courses;
pub use seed::seed_if_empty;
pub use urls::{encode_path, is_http_url, is_safe_relative};

pub use crate::db::catalog::Course;

impl Course {
    pub fn category_list(&self) -> Vec<String> {
        self.categories
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    }

    /// Where the package's launch page is served (`/courses/<path>`), if the course has one.
    /// Legacy absolute paths containing `/courses/` map to what follows it; anything else
    /// (a URL, a backslash path, `..`) gives no launch link.
    pub fn launch_url(&self) -> Option<String> {
        let p = self.path.trim();
        let rel = match p.find("/courses/") {
            Some(i) if p.starts_with('/') => &p[i + "/courses/".len()..],
            _ => p,
        };
        is_safe_relative(rel).then(|| format!("/courses/{}", encode_path(rel)))
    }

    /// The thumbnail as a URL for pages and `/api/content`: `/courses/<thumb>` for a
    /// package-relative value, `/static/…` for `static/…`, a local absolute path or an
    /// http(s) URL unchanged; '' when there is none, it names a default image (as the
    /// original did) or it is anything else.
    pub fn thumbnail_url(&self) -> String {
        let t = self.thumbnail.trim();
        if t.is_empty() || t.contains("default") || t.chars().any(char::is_control) {
            return String::new();
        }
        if is_http_url(t) || (t.starts_with('/') && !t.starts_with("//") && !t.contains('\\')) {
            return t.to_string();
        }
        if let Some(rest) = t.strip_prefix("static/") {
            return format!("/static/{}", encode_path(rest));
        }
        if is_safe_relative(t) {
            return format!("/courses/{}", encode_path(t));
        }
        String::new()
    }

    /// The licence URL, only when it is an http(s) URL (never `javascript:` and the like).
    pub fn license_link(&self) -> Option<&str> {
        let l = self.license_url.trim();
        is_http_url(l).then_some(l)
    }

    /// The learning resource types as a list (from the stored JSON array of strings).
    pub fn resource_types(&self) -> Vec<String> {
        match serde_json::from_str::<serde_json::Value>(&self.learning_resources) {
            Ok(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_catalog_parses() {
        let courses = super::sample_courses().unwrap();
        assert!(courses.len() >= 12);
        assert!(
            courses
                .iter()
                .all(|c| !c.title.is_empty() && !c.course_number.is_empty())
        );
    }

    fn course(path: &str, thumb: &str, license: &str) -> Course {
        Course {
            path: path.into(),
            thumbnail: thumb.into(),
            license_url: license.into(),
            ..Course::default()
        }
    }

    #[test]
    fn launch_urls_are_local_and_encoded() {
        let l = |p: &str| course(p, "", "").launch_url();
        assert_eq!(
            l("gl-101/index.html").as_deref(),
            Some("/courses/gl-101/index.html")
        );
        assert_eq!(
            l("My Course/index.html").as_deref(),
            Some("/courses/My%20Course/index.html")
        );
        assert_eq!(
            l("/app/data/courses/x/index.html").as_deref(),
            Some("/courses/x/index.html")
        );
        for bad in [
            "",
            "javascript:alert(1)",
            "../x/index.html",
            "a\\b",
            "/etc/passwd",
            "//evil/x",
        ] {
            assert_eq!(l(bad), None, "{bad}");
        }
    }

    #[test]
    fn thumbnail_urls() {
        let t = |p: &str| course("", p, "").thumbnail_url();
        assert_eq!(t("gl-101/thumb.png"), "/courses/gl-101/thumb.png");
        assert_eq!(t("images/default_course.jpg"), "");
        assert_eq!(t(""), "");
        assert_eq!(t("static/x.png"), "/static/x.png");
        assert_eq!(t("https://example.org/a.png"), "https://example.org/a.png");
        assert_eq!(t("javascript:alert(1)"), "");
        assert_eq!(t("//evil.example/a.png"), "");
        assert_eq!(t("../etc/passwd"), "");
    }

    #[test]
    fn licence_links_only_for_http() {
        let l = |u: &str| course("", "", u).license_link().map(String::from);
        assert_eq!(
            l("https://creativecommons.org/licenses/by-sa/4.0/").as_deref(),
            Some("https://creativecommons.org/licenses/by-sa/4.0/")
        );
        assert!(l("HTTP://example.org").is_some());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://",
            "//x.org",
            "ftp://x",
            "https://a b",
            "",
        ] {
            assert_eq!(l(bad), None, "{bad}");
        }
    }
}
