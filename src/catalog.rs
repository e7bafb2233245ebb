//! The course catalog: queries, URL helpers for course packages, and the sample courses
//! seeded in development (the JSON samples plus any packages under `$CONTENT_DIR/courses`).

use std::path::Path;

use serde::Deserialize;
use sqlx::{Row as _, any::AnyRow};

use crate::db::Db;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Course {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub categories: String,
    #[serde(default)]
    pub thumbnail: String,
    pub instructor: String,
    pub course_number: String,
    pub term: String,
    pub year: String,
    pub level: String,
    pub department: String,
    /// The package's launch page relative to `$CONTENT_DIR/courses` (`<Folder>/index.html`);
    /// empty when the course has no package.
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub license_url: String,
    /// OCW's `learning_resource_types`, as JSON text ('' when unknown).
    #[serde(default)]
    pub learning_resources: String,
}

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

/// `http://host…` or `https://host…`, with a host and no whitespace or control characters.
pub fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
        }
        None => false,
    }
}

/// A relative path made only of ordinary segments: no empty, `.` or `..` segment, no
/// backslash, no scheme (`x:`), no control characters.
pub fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
        && p.split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.') && !seg.contains(':'))
}

/// Percent-encodes each segment of a `/`-separated path for use in a URL.
pub fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A course with the signed-in user's progress and note, for `/api/content` and `/`.
pub struct CatalogEntry {
    pub course: Course,
    pub progress: String,
    pub note: String,
}

const COLUMNS: &str = "c.uid, c.title, c.description, c.categories, c.thumbnail, c.instructor, \
    c.course_number, c.term, c.year, c.level, c.department, c.path, c.license_url, \
    c.learning_resources";

/// Reads the `COLUMNS` of a row, starting at column `at`.
fn course_from_row(r: &AnyRow, at: usize) -> sqlx::Result<Course> {
    Ok(Course {
        uid: r.try_get(at)?,
        title: r.try_get(at + 1)?,
        description: r.try_get(at + 2)?,
        categories: r.try_get(at + 3)?,
        thumbnail: r.try_get(at + 4)?,
        instructor: r.try_get(at + 5)?,
        course_number: r.try_get(at + 6)?,
        term: r.try_get(at + 7)?,
        year: r.try_get(at + 8)?,
        level: r.try_get(at + 9)?,
        department: r.try_get(at + 10)?,
        path: r.try_get(at + 11)?,
        license_url: r.try_get(at + 12)?,
        learning_resources: r.try_get(at + 13)?,
    })
}

pub async fn list_for_user(db: &Db, user_id: Option<i64>) -> sqlx::Result<Vec<CatalogEntry>> {
    let sql = format!(
        "SELECT COALESCE(p.status, 'Not Started'), COALESCE(n.content, ''), {COLUMNS} \
         FROM courses c \
         LEFT JOIN course_progress p ON p.course_id = c.id AND p.user_id = $1 \
         LEFT JOIN course_notes n ON n.course_id = c.id AND n.user_id = $1 \
         ORDER BY c.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id.unwrap_or(-1))
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CatalogEntry {
                progress: r.try_get(0)?,
                note: r.try_get(1)?,
                course: course_from_row(r, 2)?,
            })
        })
        .collect()
}

/// The course with this uid and its row id.
pub async fn find_by_uid(db: &Db, uid: &str) -> sqlx::Result<Option<(i64, Course)>> {
    let sql = format!("SELECT c.id, {COLUMNS} FROM courses c WHERE c.uid = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(uid)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| Ok((r.try_get(0)?, course_from_row(&r, 1)?)))
        .transpose()
}

/// A user's progress status (`Not Started` when none) and note ('' when none) on a course.
pub async fn user_course_state(
    db: &Db,
    user_id: i64,
    course_id: i64,
) -> sqlx::Result<(String, String)> {
    let status =
        sqlx::query("SELECT status FROM course_progress WHERE user_id = $1 AND course_id = $2")
            .bind(user_id)
            .bind(course_id)
            .fetch_optional(&db.pool)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?
            .unwrap_or_else(|| "Not Started".to_string());
    let note =
        sqlx::query("SELECT content FROM course_notes WHERE user_id = $1 AND course_id = $2")
            .bind(user_id)
            .bind(course_id)
            .fetch_optional(&db.pool)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?
            .unwrap_or_default();
    Ok((status, note))
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the thirteen descriptive fields of a course, title to learning_resources, in that
/// order — the column order both statements below list.
fn bind_fields<'q>(q: AnyQuery<'q>, c: &'q Course) -> AnyQuery<'q> {
    q.bind(&c.title)
        .bind(&c.description)
        .bind(&c.categories)
        .bind(&c.thumbnail)
        .bind(&c.instructor)
        .bind(&c.course_number)
        .bind(&c.term)
        .bind(&c.year)
        .bind(&c.level)
        .bind(&c.department)
        .bind(&c.path)
        .bind(&c.license_url)
        .bind(&c.learning_resources)
}

/// Inserts a new course with every field (a course whose uid exists already is left alone).
pub async fn insert(db: &Db, c: &Course, now: i64) -> sqlx::Result<()> {
    let q = sqlx::query(
        "INSERT INTO courses (uid, title, description, categories, thumbnail, instructor, \
           course_number, term, year, level, department, path, license_url, \
           learning_resources, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (uid) DO NOTHING",
    )
    .bind(&c.uid);
    bind_fields(q, c).bind(now).execute(&db.pool).await?;
    Ok(())
}

/// Overwrites every field of the course with row id `id` (the uid stays).
pub async fn update(db: &Db, id: i64, c: &Course) -> sqlx::Result<()> {
    let q = sqlx::query(
        "UPDATE courses SET title = $1, description = $2, categories = $3, thumbnail = $4, \
           instructor = $5, course_number = $6, term = $7, year = $8, level = $9, \
           department = $10, path = $11, license_url = $12, learning_resources = $13 \
         WHERE id = $14",
    );
    bind_fields(q, c).bind(id).execute(&db.pool).await?;
    Ok(())
}

pub fn sample_courses() -> anyhow::Result<Vec<Course>> {
    Ok(serde_json::from_str(include_str!(
        "../assets/sample-courses.json"
    ))?)
}

/// Seeds the sample catalog when the catalog is empty: the JSON sample courses, then every
/// package under `<content_dir>/courses` when that folder exists (problems there are logged,
/// not fatal). Returns how many courses were added.
pub async fn seed_if_empty(db: &Db, content_dir: &Path, now: i64) -> anyhow::Result<usize> {
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM courses")
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?;
    if count > 0 {
        return Ok(0);
    }
    let courses = sample_courses()?;
    for c in &courses {
        insert(db, c, now).await?;
    }
    let mut added = courses.len();
    let packages = content_dir.join("courses");
    if packages.is_dir() {
        match crate::import::import_dir(db, &packages, now).await {
            Ok(report) => {
                for line in &report.problems {
                    tracing::warn!(event = "course_package_skipped", message = %line);
                }
                added += report.imported;
            }
            Err(e) => tracing::warn!(
                event = "course_packages_unreadable",
                dir = %packages.display(),
                error = %e,
            ),
        }
    }
    Ok(added)
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
