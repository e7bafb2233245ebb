//! Course packages (issue 5, points 1 and 2): `gleh courses import DIR` (metadata from
//! data.json, upsert without wiping, hostile packages reported and skipped), the catalog and
//! the course page (`/course/<uid>`) for anonymous and logged-in users, and the package file
//! server (`/courses/<path>`): no traversal, MIME types, caching with 304s, ranges, and the
//! sandbox CSP on package HTML. Every test runs on SQLite and on PostgreSQL.

use std::{
    fs,
    path::{Path, PathBuf},
};

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row as _;

use crate::both_backends;
use crate::helpers::{Backend, Client, PW, Resp, Server, form_token, start};

const SECRET_TEXT: &str = "TOP SECRET: outside the course folder";
/// The bytes of the generated video file: ASCII, so the body compares as text.
const CLIP_LEN: usize = 10_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/courses")
}

fn clip_bytes() -> Vec<u8> {
    (0..CLIP_LEN).map(|i| b'a' + (i % 26) as u8).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A content folder (`CONTENT_DIR`): `courses/` holds the fixture packages plus the hostile
/// cases that need symlinks or large files; `secret.txt` and `outside/` lie next to it.
struct Content {
    dir: tempfile::TempDir,
}

impl Content {
    fn new() -> Content {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let courses = root.join("courses");
        copy_dir(&fixtures(), &courses);
        fs::write(root.join("secret.txt"), SECRET_TEXT).unwrap();
        let outside = root.join("outside");
        fs::create_dir_all(outside.join("secret-course")).unwrap();
        fs::write(outside.join("secret.txt"), SECRET_TEXT).unwrap();
        fs::write(
            outside.join("data.json"),
            r#"{"course_title": "Read through a symlink"}"#,
        )
        .unwrap();
        fs::write(
            outside.join("secret-course/data.json"),
            r#"{"course_title": "Outside"}"#,
        )
        .unwrap();
        fs::write(outside.join("secret-course/index.html"), SECRET_TEXT).unwrap();

        // A package folder that is a symlink leading outside DIR.
        std::os::unix::fs::symlink(
            outside.join("secret-course"),
            courses.join("symlinked-folder"),
        )
        .unwrap();
        // A package whose data.json is a symlink leading outside DIR.
        fs::create_dir_all(courses.join("symlinked-data")).unwrap();
        fs::write(courses.join("symlinked-data/index.html"), "<p>x</p>").unwrap();
        std::os::unix::fs::symlink(
            outside.join("data.json"),
            courses.join("symlinked-data/data.json"),
        )
        .unwrap();
        // A symlink to another package inside DIR: followed.
        std::os::unix::fs::symlink(courses.join("good-package"), courses.join("inside-link"))
            .unwrap();
        // A data.json of 1 MiB + 1 byte (valid JSON).
        fs::create_dir_all(courses.join("oversized")).unwrap();
        fs::write(courses.join("oversized/index.html"), "<p>big</p>").unwrap();
        let mut big = br#"{"course_title": "Big", "pad": ""#.to_vec();
        let end = br#""}"#;
        big.resize(1024 * 1024 + 1 - end.len(), b'x');
        big.extend_from_slice(end);
        assert_eq!(big.len(), 1024 * 1024 + 1);
        fs::write(courses.join("oversized/data.json"), big).unwrap();

        // Files for the file server: a "video", a symlink out of the tree, one inside it.
        let res = courses.join("good-package/static_resources");
        fs::write(res.join("clip.mp4"), clip_bytes()).unwrap();
        fs::write(res.join("handout.pdf"), "%PDF-1.4\n%%EOF\n").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), res.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink(res.join("notes.txt"), res.join("alias.txt")).unwrap();
        Content { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn courses(&self) -> PathBuf {
        self.root().join("courses")
    }

    fn courses_arg(&self) -> String {
        self.courses().to_str().unwrap().to_string()
    }
}

/// A test-mode server (no sample catalog) whose `CONTENT_DIR` is `content`.
async fn with_content(backend: Backend, content: &Content) -> Server {
    start(
        backend,
        &[
            ("GLEH_ENV", "test"),
            ("CONTENT_DIR", content.root().to_str().unwrap()),
        ],
    )
    .await
}

struct Imported {
    code: i32,
    stdout: Vec<String>,
    /// Lines starting `skipped `.
    skipped: Vec<String>,
    stderr: String,
}

fn import(s: &Server, dir: &str) -> Imported {
    let out = s.cli(&["courses", "import", dir], None);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    Imported {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect(),
        skipped: stderr
            .lines()
            .filter(|l| l.starts_with("skipped "))
            .map(String::from)
            .collect(),
        stderr,
    }
}

/// A server with the fixture tree imported.
async fn imported(backend: Backend) -> (Server, Content) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let r = import(&s, &content.courses_arg());
    assert_eq!(r.code, 0, "import failed: {}", r.stderr);
    (s, content)
}

/// One course row as a map of column → value.
async fn course_row(s: &Server, uid: &str) -> Option<serde_json::Map<String, Value>> {
    let pool = s.db.pool().await;
    let row = sqlx::query(
        "SELECT title, description, categories, thumbnail, instructor, course_number, term, \
           year, level, department, path, license_url, learning_resources \
         FROM courses WHERE uid = $1",
    )
    .bind(uid)
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    let row = row?;
    let names = [
        "title",
        "description",
        "categories",
        "thumbnail",
        "instructor",
        "course_number",
        "term",
        "year",
        "level",
        "department",
        "path",
        "license_url",
        "learning_resources",
    ];
    Some(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), Value::String(row.get::<String, _>(i))))
            .collect(),
    )
}

async fn field(s: &Server, uid: &str, name: &str) -> String {
    let row = course_row(s, uid)
        .await
        .unwrap_or_else(|| panic!("no course {uid}"));
    row[name].as_str().unwrap().to_string()
}

async fn exec(s: &Server, sql: &'static str, binds: &[&str]) {
    let pool = s.db.pool().await;
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&pool).await.unwrap();
    pool.close().await;
}

fn expected_skips() -> Vec<&'static str> {
    vec![
        "skipped bad-json: data.json is not valid JSON",
        "skipped non-utf8: data.json is not valid UTF-8",
        "skipped oversized: data.json is larger than 1 MiB (1048577 bytes)",
        "skipped symlinked-data: data.json is a symlink leading outside the import folder",
        "skipped symlinked-folder: folder is a symlink leading outside the import folder",
    ]
}

fn assert_skips(got: &[String], expected: &[&str]) {
    assert_eq!(got.len(), expected.len(), "skipped lines: {got:#?}");
    for (g, e) in got.iter().zip(expected) {
        assert!(g.starts_with(e), "expected {e:?}, got {g:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------

async fn import_reads_packages_and_skips_hostile_ones(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let r = import(&s, &content.courses_arg());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        vec![
            "imported data-only",
            "imported good-package",
            "note hostile-metadata: image_src \"../../outside.png\" is not a path inside the package; no thumbnail taken",
            "imported hostile-metadata",
            "imported inside-link",
            "imported no-data-json",
            "ignored not-a-package: no index.html or data.json",
            "5 imported, 0 updated, 5 skipped",
        ],
        "stderr: {}",
        r.stderr
    );
    assert_skips(&r.skipped, &expected_skips());
    assert!(!r.stderr.contains("error"), "{}", r.stderr);
    assert_eq!(s.db.count("courses").await, 5);

    // data.json read as the original reads it.
    let good = course_row(&s, "good-package").await.unwrap();
    let want = [
        ("title", "Tidal Mechanics for Beginners"),
        ("description", "How the moon & sun move water every day."),
        ("instructor", "Dr. Ada Reef, Ben Kelp"),
        ("course_number", "GL.900"),
        ("term", "Fall"),
        ("year", "2025"),
        ("level", "Undergraduate"),
        ("department", "Oceanography, Physics"),
        ("categories", "Earth Science,Oceanography,Physics,Science"),
        ("thumbnail", "good-package/static_resources/thumb.png"),
        ("path", "good-package/index.html"),
        (
            "license_url",
            "https://creativecommons.org/licenses/by-sa/4.0/",
        ),
        ("learning_resources", r#"["Lecture Notes","Videos"]"#),
    ];
    for (k, v) in want {
        assert_eq!(good[k], v, "good-package {k}");
    }
    // Fallbacks: title from the folder name; no launch page without index.html.
    assert_eq!(field(&s, "no-data-json", "title").await, "no data json");
    assert_eq!(
        field(&s, "no-data-json", "path").await,
        "no-data-json/index.html"
    );
    assert_eq!(field(&s, "data-only", "path").await, "");
    assert_eq!(field(&s, "data-only", "title").await, "Data Only Course");
    assert_eq!(
        field(&s, "inside-link", "path").await,
        "inside-link/index.html"
    );
    // A hostile image_src gives no thumbnail; the rest is stored as text.
    assert_eq!(field(&s, "hostile-metadata", "thumbnail").await, "");
    for skipped in [
        "bad-json",
        "non-utf8",
        "oversized",
        "symlinked-data",
        "symlinked-folder",
        "not-a-package",
    ] {
        assert!(
            course_row(&s, skipped).await.is_none(),
            "{skipped} imported"
        );
    }
}

async fn reimport_keeps_what_it_cannot_reread(backend: Backend) {
    let (s, content) = imported(backend).await;
    let before = course_row(&s, "good-package").await.unwrap();
    let courses = content.courses();
    // The package loses its data.json; another one's data.json stops describing it; an
    // imported package becomes unreadable; an operator edited a course without metadata.
    fs::remove_file(courses.join("good-package/data.json")).unwrap();
    fs::write(
        courses.join("data-only/data.json"),
        r#"{"course_title": "Data Only, Renamed"}"#,
    )
    .unwrap();
    fs::write(courses.join("hostile-metadata/data.json"), "{oops").unwrap();
    exec(
        &s,
        "UPDATE courses SET categories = $1, description = $2 WHERE uid = $3",
        &["Kept,Categories", "Kept description", "no-data-json"],
    )
    .await;

    let r = import(&s, &content.courses_arg());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.last().map(String::as_str),
        Some("0 imported, 4 updated, 6 skipped")
    );
    assert!(
        r.stdout.contains(&"updated good-package".to_string()),
        "{:?}",
        r.stdout
    );
    let mut skips = expected_skips();
    skips.insert(1, "skipped hostile-metadata: data.json is not valid JSON");
    assert_skips(&r.skipped, &skips);

    assert_eq!(course_row(&s, "good-package").await.unwrap(), before);
    assert_eq!(field(&s, "data-only", "title").await, "Data Only, Renamed");
    assert_eq!(
        field(&s, "data-only", "description").await,
        "Described but not launchable."
    );
    assert_eq!(field(&s, "data-only", "course_number").await, "GL.901");
    assert_eq!(
        field(&s, "no-data-json", "categories").await,
        "Kept,Categories"
    );
    assert_eq!(
        field(&s, "no-data-json", "description").await,
        "Kept description"
    );
    // A package that became unreadable is skipped, not deleted or blanked.
    assert!(
        field(&s, "hostile-metadata", "title")
            .await
            .contains("Hostile Course")
    );
    assert_eq!(s.db.count("courses").await, 5);
}

async fn import_exit_codes(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let missing = content.root().join("no-such-folder");
    let r = import(&s, missing.to_str().unwrap());
    assert_eq!(r.code, 1, "missing DIR: {:?}", r.stdout);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    let file = content.root().join("secret.txt");
    let r = import(&s, file.to_str().unwrap());
    assert_eq!(r.code, 1, "DIR is a file: {:?}", r.stdout);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    // An empty CONTENT_DIR/courses is fine.
    let empty = Content::new();
    let s = with_content(backend, &empty).await;
    fs::remove_dir_all(empty.courses()).unwrap();
    fs::create_dir(empty.courses()).unwrap();
    let r = import(&s, &empty.courses_arg());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, vec!["0 imported, 0 updated, 0 skipped"]);
    assert_eq!(s.db.count("courses").await, 0);
}

/// A folder other than CONTENT_DIR/courses: refused (its courses would never launch), with
/// where packages must live and the `--copy` way; nothing is written.
async fn import_refuses_a_folder_the_server_does_not_serve(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("content/courses");
    let r = import(&s, samples.to_str().unwrap());
    assert_eq!(r.code, 1, "{:?}", r.stdout);
    let served = content.courses();
    assert!(
        r.stderr.contains("is not the folder the server serves")
            && r.stderr.contains(served.to_str().unwrap())
            && r.stderr.contains("--copy"),
        "{}",
        r.stderr
    );
    assert_eq!(s.db.count("courses").await, 0);
    // The same folder reached through another path is still the served one.
    let other_path = content.root().join("./courses/../courses");
    let r = import(&s, other_path.to_str().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `--copy` puts the packages where the server serves them, then imports them: each
/// launches; a second copy replaces the folders and updates the rows; a link leading out of
/// a package is not copied.
async fn import_copy_brings_packages_in(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    fs::remove_dir_all(content.courses()).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("content/courses");
    let src = tempfile::tempdir().unwrap();
    copy_dir(&samples, src.path());
    let uids: Vec<String> = {
        let mut v: Vec<String> = fs::read_dir(src.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    let first = &uids[0];
    std::os::unix::fs::symlink(
        content.root().join("secret.txt"),
        src.path().join(first).join("escape.txt"),
    )
    .unwrap();
    let args = ["courses", "import", src.path().to_str().unwrap(), "--copy"];
    let out = s.cli(&args, None);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with(&format!("{} imported, 0 updated, 0 skipped\n", uids.len())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "note {first}: left out escape.txt: a link leading outside the package"
        )),
        "{stdout}"
    );
    let mut c = s.client();
    for uid in &uids {
        assert!(
            content.courses().join(uid).join("index.html").is_file(),
            "{uid}"
        );
        let r = c.get(&format!("/courses/{uid}/index.html")).send().await;
        assert_eq!(r.status, StatusCode::OK, "launch of {uid}");
    }
    let r = c.get(&format!("/courses/{first}/escape.txt")).send().await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!content.courses().join(first).join("escape.txt").exists());
    // Again: replaced in place, rows updated, nothing hidden left behind.
    fs::write(src.path().join(first).join("added.txt"), "new file").unwrap();
    let out = s.cli(&args, None);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.ends_with(&format!("0 imported, {} updated, 0 skipped\n", uids.len())),
        "{stdout}"
    );
    let r = c.get(&format!("/courses/{first}/added.txt")).send().await;
    assert_eq!(r.status, StatusCode::OK);
    let mut listing: Vec<String> = fs::read_dir(content.courses())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listing.sort();
    assert_eq!(listing, uids, "only the packages, no staging folders");
    assert_eq!(s.db.count("courses").await, uids.len() as i64);
}

async fn shipped_samples_import_cleanly(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("content/courses");
    let out = s.cli(
        &["courses", "import", dir.to_str().unwrap(), "--copy"],
        None,
    );
    let stdout: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.last().map(String::as_str),
        Some("4 imported, 0 updated, 0 skipped"),
        "{stdout:?}",
    );
    assert!(stdout.iter().all(|l| !l.starts_with("note ")), "{stdout:?}");
}

// ---------------------------------------------------------------------------------------
// Catalog and course page
// ---------------------------------------------------------------------------------------

async fn catalog_lists_imported_courses(backend: Backend) {
    let (s, _content) = imported(backend).await;
    let mut c = s.client();
    let r = c.get("/api/content").send().await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json()["content"].as_array().unwrap().clone();
    assert_eq!(items.len(), 5);
    let good = items
        .iter()
        .find(|i| i["uid"] == "good-package")
        .expect("good-package in /api/content");
    assert_eq!(good["type"], "course");
    assert_eq!(good["title"], "Tidal Mechanics for Beginners");
    assert_eq!(good["path"], "/course/good-package");
    assert_eq!(
        good["categories"],
        serde_json::json!(["Earth Science", "Oceanography", "Physics", "Science"])
    );
    assert_eq!(
        good["thumbnail"],
        "/courses/good-package/static_resources/thumb.png"
    );
    assert_eq!(good["user_progress"], "Not Started");
    let hostile = items
        .iter()
        .find(|i| i["uid"] == "hostile-metadata")
        .unwrap();
    assert_eq!(hostile["thumbnail"], "");

    let r = c.get("/").header("accept", "text/html").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Tidal Mechanics for Beginners"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(r#"href="/course/good-package""#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"href="/course/no-data-json""#));
    assert!(!r.body.contains("<script>alert"), "unescaped title on /");
}

/// The body with HTML character references decoded (askama writes `&#38;`, `&#60;`, …).
fn decoded(body: &str) -> String {
    [
        ("&#38;", "&"),
        ("&#60;", "<"),
        ("&#62;", ">"),
        ("&#39;", "'"),
        ("&#34;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#x27;", "'"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(body.to_string(), |b, (from, to)| b.replace(from, to))
}

async fn page(c: &mut Client, path: &str) -> Resp {
    c.get(path).header("accept", "text/html").send().await
}

async fn course_page_for_anonymous_visitors(backend: Backend) {
    let (s, _content) = imported(backend).await;
    let mut c = s.client();
    let r = page(&mut c, "/course/good-package").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    for text in [
        "<h1>Tidal Mechanics for Beginners</h1>",
        "GL.900",
        "Fall 2025",
        "Undergraduate",
        "Dr. Ada Reef, Ben Kelp",
        "Oceanography, Physics",
        "How the moon &#38; sun move water every day.",
        "<span>Earth Science</span>",
        "<span>Science</span>",
        "Lecture Notes",
        r#"src="/courses/good-package/static_resources/thumb.png""#,
        r#"href="https://creativecommons.org/licenses/by-sa/4.0/""#,
        r#"href="/courses/good-package/index.html""#,
        r#"href="/login?next=/course/good-package""#,
    ] {
        assert!(r.body.contains(text), "missing {text:?} in\n{}", r.body);
    }
    assert!(!r.body.contains("/progress"), "progress form for anonymous");
    assert!(!r.body.contains("/note\""), "note form for anonymous");
    assert!(!r.body.contains("<textarea"), "note form for anonymous");

    // No package launch page: no Launch link.
    let r = page(&mut c, "/course/data-only").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(r#"href="/courses/"#), "{}", r.body);

    // Hostile metadata is escaped; a javascript: licence is not linked.
    let r = page(&mut c, "/course/hostile-metadata").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(!r.body.contains("<img src=x"), "{}", r.body);
    assert!(
        decoded(&r.body).contains("<script>alert('title')</script> Hostile Course"),
        "{}",
        r.body
    );
    assert!(!r.body.to_lowercase().contains("javascript:"), "{}", r.body);
    assert!(!r.body.contains("licence</a>"), "{}", r.body);
    // The page itself allows no script at all.
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
}

async fn course_page_for_logged_in_users(backend: Backend) {
    let (s, _content) = imported(backend).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW);
    let mut alice = s.client();
    assert_eq!(alice.login("alice", PW).await.status, StatusCode::OK);

    let r = page(&mut alice, "/course/good-package").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains(r#"method="post" action="/course/good-package/progress""#),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(r#"method="post" action="/course/good-package/note""#)
    );
    assert!(r.body.contains(r#"name="status""#));
    for status in ["Not Started", "In Progress", "Completed"] {
        assert!(
            r.body.contains(&format!(r#"<option value="{status}""#)),
            "{status}"
        );
    }
    assert!(r.body.contains(r#"<option value="Not Started" selected>"#));
    assert!(r.body.contains(r#"<textarea name="content""#));
    assert!(
        !r.body.contains("/login?next="),
        "login prompt when logged in"
    );
    assert!(
        r.body
            .contains(r#"href="/courses/good-package/index.html""#)
    );

    // The page shows the user's own progress and note (stored directly here).
    exec(
        &s,
        "INSERT INTO course_progress (user_id, course_id, status, updated_at) \
         SELECT u.id, c.id, $1, 0 FROM users u, courses c WHERE u.username = $2 AND c.uid = $3",
        &["In Progress", "alice", "good-package"],
    )
    .await;
    exec(
        &s,
        "INSERT INTO course_notes (user_id, course_id, content, updated_at) \
         SELECT u.id, c.id, $1, 0 FROM users u, courses c WHERE u.username = $2 AND c.uid = $3",
        &["Alice's <b>private</b> note", "alice", "good-package"],
    )
    .await;
    let r = page(&mut alice, "/course/good-package").await;
    assert!(
        r.body.contains(r#"<option value="In Progress" selected>"#),
        "{}",
        r.body
    );
    assert!(!r.body.contains(r#"<option value="Not Started" selected>"#));
    assert!(!r.body.contains("<b>private"), "{}", r.body);
    assert!(
        decoded(&r.body).contains("Alice's <b>private</b> note</textarea>"),
        "{}",
        r.body
    );

    // Bob sees neither.
    let mut bob = s.client();
    assert_eq!(bob.login("bob", PW).await.status, StatusCode::OK);
    let r = page(&mut bob, "/course/good-package").await;
    assert!(!r.body.contains("private"), "{}", r.body);
    assert!(r.body.contains(r#"<option value="Not Started" selected>"#));

    // The page's forms post with its hidden token (handlers in routes::learning).
    let r = page(&mut bob, "/course/good-package").await;
    let token = form_token(&r.body);
    let r = bob
        .post("/course/good-package/progress")
        .form(&[("csrf_token", &token), ("status", "Completed")])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = bob
        .post("/course/good-package/note")
        .form(&[("csrf_token", &token), ("content", "Bob's note")])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // What a script inside a sandboxed package sends (opaque origin): refused even with a
    // token, so course content cannot act as the viewer.
    for (name, value) in [("origin", "null"), ("sec-fetch-site", "cross-site")] {
        let r = bob
            .post("/course/good-package/note")
            .header(name, value)
            .form(&[("csrf_token", &token), ("content", "written by a course")])
            .send()
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
    }
    let r = page(&mut bob, "/course/good-package").await;
    assert!(r.body.contains(r#"<option value="Completed" selected>"#));
    assert!(!r.body.contains("written by a course"));
    assert!(r.body.contains("note</textarea>"), "{}", r.body);
    let r = page(&mut alice, "/course/good-package").await;
    assert!(r.body.contains(r#"<option value="In Progress" selected>"#));
    assert!(!r.body.contains("Bob"), "{}", r.body);
}

async fn unknown_course_is_404(backend: Backend) {
    let (s, _content) = imported(backend).await;
    let mut c = s.client();
    for path in ["/course/no-such-course", "/course/bad-json", "/course/%ff"] {
        let r = page(&mut c, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert!(r.body.contains("Page not found"), "{path}: {}", r.body);
    }
    for target in ["/course/%2e%2e", "/course/..", "/course/good-package/extra"] {
        let (status, text) = raw_get(&s.addr, target).await;
        assert_eq!(status, 404, "{target}: {text}");
    }
}

// ---------------------------------------------------------------------------------------
// Package files
// ---------------------------------------------------------------------------------------

/// Sends `GET target` exactly as written (no client-side normalisation of `..` or escapes).
async fn raw_get(addr: &str, target: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    conn.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

async fn package_files_never_leave_the_folder(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let (status, text) = raw_get(&s.addr, "/courses/good-package/static_resources/notes.txt").await;
    assert_eq!(status, 200, "{text}");
    for target in [
        "/courses/../secret.txt",
        "/courses/good-package/../../secret.txt",
        "/courses/good-package/static_resources/../../../secret.txt",
        "/courses/./good-package/index.html",
        "/courses/%2e%2e/secret.txt",
        "/courses/%2E%2E/%2E%2E/etc/passwd",
        "/courses/good-package/%2e%2e/%2e%2e/secret.txt",
        "/courses/..%2fsecret.txt",
        "/courses/good-package%2f..%2f..%2fsecret.txt",
        "/courses/%2fetc%2fpasswd",
        "/courses//etc/passwd",
        "/courses///etc/passwd",
        "/courses/..\\secret.txt",
        "/courses/good-package\\..\\..\\secret.txt",
        "/courses/..%5csecret.txt",
        "/courses/%5c..%5csecret.txt",
        "/courses/%252e%252e/secret.txt",
        "/courses/good-package/static_resources/escape.txt",
        "/courses/symlinked-folder/index.html",
        "/courses/good-package/index.html%00.png",
        "/courses/c:/windows/win.ini",
    ] {
        let (status, text) = raw_get(&s.addr, target).await;
        assert_eq!(status, 404, "{target}: {text}");
        assert!(!text.contains("TOP SECRET"), "{target} leaked: {text}");
        assert!(!text.contains("root:"), "{target} leaked: {text}");
    }
    // A symlink that stays inside the tree is fine.
    let mut c = s.client();
    let r = c
        .get("/courses/good-package/static_resources/alias.txt")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "Lecture 1: the moon pulls the sea.\n");
    // Directories are never listed or redirected.
    for dir in [
        "/courses/",
        "/courses",
        "/courses/good-package",
        "/courses/good-package/",
        "/courses/good-package/static_resources",
        "/courses/good-package/static_resources/",
    ] {
        let r = c.get(dir).send().await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{dir}: {}", r.body);
        assert!(!r.body.contains("notes.txt"), "{dir} listed");
    }
    let r = c.get("/courses/good-package/missing.html").send().await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn package_files_types_caching_and_sandbox(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let mut c = s.client();

    let html = c.get("/courses/good-package/index.html").send().await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.body.contains("Tidal Mechanics"));
    assert_eq!(
        html.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let csp = html.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("sandbox allow-scripts allow-popups allow-forms;"),
        "{csp}"
    );
    assert!(!csp.contains("allow-same-origin"), "{csp}");
    assert!(!csp.contains("allow-top-navigation"), "{csp}");
    assert!(csp.contains("default-src 'self' "), "{csp}");
    assert!(!csp.contains("*"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert_eq!(
        html.header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    assert_eq!(
        html.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        html.header("cross-origin-resource-policy").as_deref(),
        Some("cross-origin")
    );
    let etag = html.header("etag").expect("ETag");
    let last_modified = html.header("last-modified").expect("Last-Modified");

    let png = c
        .get("/courses/good-package/static_resources/thumb.png")
        .send()
        .await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.header("content-type").as_deref(), Some("image/png"));
    let png_csp = png.header("content-security-policy").unwrap();
    assert!(!png_csp.contains("sandbox"), "{png_csp}");
    assert_eq!(
        png.header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    let txt = c
        .get("/courses/good-package/static_resources/notes.txt")
        .send()
        .await;
    assert_eq!(
        txt.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    let mp4 = c
        .get("/courses/good-package/static_resources/clip.mp4")
        .send()
        .await;
    assert_eq!(mp4.header("content-type").as_deref(), Some("video/mp4"));
    assert_eq!(mp4.header("accept-ranges").as_deref(), Some("bytes"));
    let pdf = c
        .get("/courses/good-package/static_resources/handout.pdf")
        .send()
        .await;
    assert_eq!(
        pdf.header("content-type").as_deref(),
        Some("application/pdf")
    );
    let pdf_csp = pdf.header("content-security-policy").unwrap();
    assert!(!pdf_csp.contains("sandbox"), "{pdf_csp}");
    assert!(pdf_csp.contains("default-src 'none'"), "{pdf_csp}");
    assert!(!pdf_csp.contains("script-src"), "{pdf_csp}");
    let json = c.get("/courses/good-package/data.json").send().await;
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        json.header("content-type")
    );

    let head = c
        .req(reqwest::Method::HEAD, "/courses/good-package/index.html")
        .send()
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag").as_deref(), Some(etag.as_str()));
    assert!(
        head.header("content-security-policy")
            .unwrap()
            .starts_with("sandbox ")
    );

    // Conditional requests: 304 with no body, still cacheable and still sandboxed.
    let r = c
        .get("/courses/good-package/index.html")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .starts_with("sandbox "),
        "a 304 must not replace the cached sandbox policy"
    );
    let r = c
        .get("/courses/good-package/index.html")
        .header("if-modified-since", &last_modified)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = c
        .get("/courses/good-package/index.html")
        .header("if-none-match", "\"something-else\"")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .get("/courses/good-package/index.html")
        .header("if-modified-since", "Mon, 01 Jan 1990 00:00:00 GMT")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let png_etag = png.header("etag").unwrap();
    let r = c
        .get("/courses/good-package/static_resources/thumb.png")
        .header("if-none-match", &png_etag)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
}

async fn package_video_ranges(backend: Backend) {
    let content = Content::new();
    let s = with_content(backend, &content).await;
    let mut c = s.client();
    let all = clip_bytes();
    let path = "/courses/good-package/static_resources/clip.mp4";

    let r = c.get(path).header("range", "bytes=100-199").send().await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.header("content-range").as_deref(),
        Some(format!("bytes 100-199/{CLIP_LEN}").as_str())
    );
    assert_eq!(r.header("content-length").as_deref(), Some("100"));
    assert_eq!(r.body.as_bytes(), &all[100..200]);
    assert_eq!(r.header("content-type").as_deref(), Some("video/mp4"));
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );

    let r = c.get(path).header("range", "bytes=9990-").send().await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body.as_bytes(), &all[9990..]);
    let r = c.get(path).header("range", "bytes=-5").send().await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body.as_bytes(), &all[CLIP_LEN - 5..]);

    let r = c.get(path).header("range", "bytes=20000-").send().await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.header("content-range").as_deref(),
        Some(format!("bytes */{CLIP_LEN}").as_str())
    );

    let r = c.get(path).send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_bytes(), all.as_slice());

    // Found by fuzz/fuzz_targets/range_header.rs (docs/reliability.md "Fuzzing"): an empty
    // file has no byte 0, so every range of it is unsatisfiable (tower-http's ServeFile
    // answered 206 with `content-range: bytes 0-0/0`).
    let empty = "courses/good-package/static_resources/empty.txt";
    fs::write(content.root().join(empty), b"").unwrap();
    let empty = format!("/{empty}");
    for range in ["bytes=0-0", "bytes=0-", "bytes=-1"] {
        let r = c.get(&empty).header("range", range).send().await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            r.header("content-range").as_deref(),
            Some("bytes */0"),
            "{range}"
        );
        assert!(r.body.is_empty(), "{range}");
    }
    let r = c.get(&empty).send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
}

// ---------------------------------------------------------------------------------------
// Development seed
// ---------------------------------------------------------------------------------------

async fn development_seed_imports_sample_packages(backend: Backend) {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let s = Server::start(backend, &[("CONTENT_DIR", content.to_str().unwrap())]).await;
    let mut c = s.client();
    let items = c.get("/api/content").send().await.json()["content"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 14 + 4, "JSON samples plus the sample packages");
    let packages: Vec<&Value> = items
        .iter()
        .filter(|i| i["uid"].as_str().unwrap().starts_with("gl-"))
        .collect();
    assert_eq!(packages.len(), 4);
    for p in packages {
        let uid = p["uid"].as_str().unwrap();
        let r = page(&mut c, &format!("/course/{uid}")).await;
        assert_eq!(r.status, StatusCode::OK, "{uid}");
        let launch = format!("/courses/{uid}/index.html");
        assert!(r.body.contains(&format!(r#"href="{launch}""#)), "{uid}");
        let r = c.get(&launch).send().await;
        assert_eq!(r.status, StatusCode::OK, "{launch}");
        assert!(
            r.header("content-security-policy")
                .unwrap()
                .starts_with("sandbox "),
            "{launch}"
        );
        let thumb = p["thumbnail"].as_str().unwrap();
        assert!(thumb.starts_with(&format!("/courses/{uid}/")), "{thumb}");
        let r = c.get(thumb).send().await;
        assert_eq!(r.status, StatusCode::OK, "{thumb}");
        assert!(
            r.header("content-type").unwrap().starts_with("image/"),
            "{thumb}"
        );
    }
    // The JSON sample courses are still there, without a package.
    let r = page(
        &mut c,
        "/course/6-006-introduction-to-algorithms-spring-2020",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(r#"href="/courses/"#));
}

both_backends!(
    import_reads_packages_and_skips_hostile_ones,
    reimport_keeps_what_it_cannot_reread,
    import_exit_codes,
    import_refuses_a_folder_the_server_does_not_serve,
    import_copy_brings_packages_in,
    shipped_samples_import_cleanly,
    catalog_lists_imported_courses,
    course_page_for_anonymous_visitors,
    course_page_for_logged_in_users,
    unknown_course_is_404,
    package_files_never_leave_the_folder,
    package_files_types_caching_and_sandbox,
    package_video_ranges,
    development_seed_imports_sample_packages,
);
