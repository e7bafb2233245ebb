//! The admin's courses (docs/design.md "Admin panel", "Courses"): get-courses,
//! scan-courses, delete-course, autocategorize and upload-course under `/api/admin/`, and
//! the `/admin/courses` page, on both databases; every refusal, and for the refused
//! uploads (zip-slip, symlink, device file, zip bombs, too many entries, oversize) that
//! nothing at all is left under `CONTENT_DIR`; the server's peak memory during a 200 MiB
//! upload; an upload slower than the stack's 30 s request timeout; the upload form with
//! its progress script in headless Chromium.

use std::{
    fs,
    io::{Cursor, Read as _, Write as _},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

use crate::both_backends;
use crate::helpers::{
    BOUNDARY, Backend, Client, PW, Part, Resp, Server, assert_error, form_token, logged_in,
    multipart, multipart_type, new_user, start,
};

/// A server with `CONTENT_DIR` in a temporary folder (holding an empty `courses/`) and an
/// admin `root` logged in, with a CSRF token.
struct Hub {
    s: Server,
    content: tempfile::TempDir,
    admin: Client,
    token: String,
}

async fn hub(backend: Backend, extra: &[(&str, &str)]) -> Hub {
    let content = tempfile::tempdir().expect("tempdir");
    fs::create_dir(content.path().join("courses")).expect("courses dir");
    let dir = content.path().to_str().expect("utf-8 path").to_string();
    let mut env = vec![("CONTENT_DIR", dir.as_str())];
    env.extend_from_slice(extra);
    let s = start(backend, &env).await;
    let out = s.cli(
        &["user", "create", "root", "--admin"],
        Some(&format!("{PW}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut admin = logged_in(&s, "root", PW).await;
    let token = admin.csrf().await;
    Hub {
        s,
        content,
        admin,
        token,
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        out.push(
            p.strip_prefix(root)
                .expect("inside")
                .to_string_lossy()
                .into_owned(),
        );
        if fs::symlink_metadata(&p).expect("meta").is_dir() {
            walk(root, &p, out);
        }
    }
}

impl Hub {
    fn courses(&self) -> PathBuf {
        self.content.path().join("courses")
    }

    /// Every path under `CONTENT_DIR`, hidden ones included, sorted.
    fn listing(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(self.content.path(), self.content.path(), &mut out);
        out
    }

    async fn upload(&mut self, file_name: &str, zip: &[u8], query: &str) -> Resp {
        let body = multipart(&[Part {
            name: "file",
            filename: Some(file_name),
            data: zip,
        }]);
        let token = self.token.clone();
        self.admin
            .post(&format!("/api/admin/upload-course{query}"))
            .header("X-CSRFToken", &token)
            .body(&multipart_type(), body)
            .send()
            .await
    }

    async fn call(&mut self, method: Method, path: &str) -> Resp {
        let token = self.token.clone();
        self.admin
            .req(method, path)
            .header("X-CSRFToken", &token)
            .send()
            .await
    }

    async fn list(&mut self) -> Vec<Value> {
        let r = self.admin.get("/api/admin/get-courses").send().await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["courses"].as_array().expect("courses").clone()
    }

    async fn course(&mut self, uid: &str) -> Option<Value> {
        self.list().await.into_iter().find(|c| c["uid"] == uid)
    }

    /// Makes the admin's password "not recent" (as if the window had passed).
    async fn forget_reauth(&self) {
        self.s
            .db
            .write_behind_the_server("UPDATE sessions SET reauth_at = 0")
            .await;
    }
}

fn options(method: CompressionMethod) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .unix_permissions(0o644)
}

/// A zip of `(name, bytes)` files, deflated.
pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        w.start_file(*name, options(CompressionMethod::Deflated))
            .expect("start_file");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// A package in one top-level folder, with a launch page and a `data.json` title.
pub(crate) fn package(folder: &str, title: &str, page: &str) -> Vec<u8> {
    let index = format!("{folder}/index.html");
    let data = format!("{folder}/data.json");
    let meta = json!({"course_title": title}).to_string();
    zip_of(&[
        (&index, page.as_bytes()),
        (&data, meta.as_bytes()),
        (&format!("{folder}/static_resources/notes.txt"), b"notes"),
    ])
}

/// `len` bytes no compressor can shrink (xorshift).
pub(crate) fn noise(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    out
}

/// The offsets of every central directory header (`PK\x01\x02`) in `zip`.
fn central_headers(zip: &[u8]) -> Vec<usize> {
    (0..zip.len().saturating_sub(4))
        .filter(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x01, 0x02])
        .collect()
}

fn put_u32(zip: &mut [u8], at: usize, v: u32) {
    zip[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Sets the uncompressed size every header of `zip` declares (local and central).
fn declare_sizes(zip: &mut [u8], size: u32) {
    let locals: Vec<usize> = (0..zip.len().saturating_sub(4))
        .filter(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x03, 0x04])
        .collect();
    for at in locals {
        put_u32(zip, at + 22, size);
    }
    for at in central_headers(zip) {
        put_u32(zip, at + 24, size);
    }
}

async fn anonymous_and_non_admins_are_refused(backend: Backend) {
    let mut h = hub(backend, &[]).await;
    let mut anon = h.s.client();
    let anon_token = anon.csrf().await;
    let (mut user, user_token) = {
        let mut c = new_user(&h.s, "learner").await;
        let t = c.csrf().await;
        (c, t)
    };
    let routes = [
        (Method::GET, "/api/admin/get-courses"),
        (Method::POST, "/api/admin/scan-courses"),
        (Method::DELETE, "/api/admin/delete-course/1"),
        (Method::POST, "/api/admin/autocategorize"),
        (Method::POST, "/api/admin/upload-course"),
    ];
    let zip = package("pkg", "Pkg", "<h1>x</h1>");
    let body = multipart(&[Part {
        name: "file",
        filename: Some("pkg.zip"),
        data: &zip,
    }]);
    for (m, path) in &routes {
        let r = anon
            .req(m.clone(), path)
            .header("X-CSRFToken", &anon_token)
            .body(&multipart_type(), body.clone())
            .send()
            .await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
        let r = user
            .req(m.clone(), path)
            .header("X-CSRFToken", &user_token)
            .body(&multipart_type(), body.clone())
            .send()
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, "Admin access required");
    }
    // An admin's state-changing request without its CSRF token, or from another site.
    for (m, path) in routes.iter().filter(|(m, _)| *m != Method::GET) {
        let r = h
            .admin
            .req(m.clone(), path)
            .body(&multipart_type(), body.clone())
            .send()
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is missing.");
        let token = h.token.clone();
        let r = h
            .admin
            .req(m.clone(), path)
            .header("X-CSRFToken", &token)
            .header("Origin", "https://evil.example")
            .body(&multipart_type(), body.clone())
            .send()
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, "Cross-origin request blocked.");
    }
    assert_eq!(
        h.listing(),
        ["courses"],
        "nothing written by refused uploads"
    );
    assert_eq!(h.list().await.len(), h.s.db.count("courses").await as usize);

    // Deleting, and replacing by upload, need a recent password.
    h.forget_reauth().await;
    let id = h.list().await[0]["id"].as_i64().expect("id");
    let r = h
        .call(Method::DELETE, &format!("/api/admin/delete-course/{id}"))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "Re-authentication required");
    let r = h.upload("pkg.zip", &zip, "?replace=1").await;
    assert_error(&r, StatusCode::FORBIDDEN, "Re-authentication required");
    assert_eq!(h.listing(), ["courses"]);
    let token = h.token.clone();
    let r = h
        .admin
        .post("/api/admin/reauth")
        .header("X-CSRFToken", &token)
        .json(&json!({"password": PW}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h
        .call(Method::DELETE, &format!("/api/admin/delete-course/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!({"message": "Course deleted successfully"}));
    let r = h
        .call(Method::DELETE, &format!("/api/admin/delete-course/{id}"))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "Course not found");
    let r = h
        .call(Method::DELETE, "/api/admin/delete-course/nope")
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "Course not found");
    // Each refusal is in the audit log.
    let r = h.admin.get("/api/admin/audit?limit=500").send().await;
    let entries = r.json()["entries"].as_array().expect("entries").clone();
    let count = |action: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(count("delete-course", "denied"), 1);
    assert_eq!(count("upload-course", "denied"), 1);
    assert_eq!(count("delete-course", "success"), 1);
    assert_eq!(count("delete-course", "refused"), 1);
}

async fn get_scan_and_autocategorize(backend: Backend) {
    let mut h = hub(backend, &[]).await;
    let sample = h.list().await;
    assert!(!sample.is_empty(), "the development catalog is seeded");
    let c = &sample[0];
    for key in [
        "id",
        "uid",
        "title",
        "has_thumbnail",
        "categories",
        "created_at",
    ] {
        assert!(c.get(key).is_some(), "{key} in {c}");
    }
    assert!(
        c["created_at"].as_str().expect("time").ends_with('Z'),
        "{c}"
    );

    // Two packages on disk: one with data.json, one with only index.html.
    let root = h.courses();
    fs::create_dir_all(root.join("intro-rust")).unwrap();
    fs::write(root.join("intro-rust/index.html"), "<h1>Rust</h1>").unwrap();
    fs::create_dir_all(root.join("trust-safety")).unwrap();
    fs::write(root.join("trust-safety/index.html"), "<h1>T</h1>").unwrap();
    fs::write(
        root.join("trust-safety/data.json"),
        r#"{"course_title": "Trust and Safety in C++ and Node.js"}"#,
    )
    .unwrap();
    fs::create_dir_all(root.join("not-a-course")).unwrap();
    let r = h.call(Method::POST, "/api/admin/scan-courses").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (
            v["total"].as_i64(),
            v["new"].as_i64(),
            v["existing"].as_i64()
        ),
        (Some(2), Some(2), Some(0)),
        "{v}"
    );
    assert!(v["message"].as_str().is_some(), "{v}");
    let rust = h.course("intro-rust").await.expect("imported");
    assert_eq!(rust["title"], "intro rust");
    assert_eq!(rust["categories"], "Uncategorized");

    // Whole words: "Trust" is not Rust; "C++" and "Node.js" are words.
    let r = h.call(Method::POST, "/api/admin/autocategorize").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["updated"].as_i64().expect("updated") >= 2,
        "{}",
        r.body
    );
    assert_eq!(h.course("intro-rust").await.unwrap()["categories"], "Rust");
    assert_eq!(
        h.course("trust-safety").await.unwrap()["categories"],
        "C++, JavaScript"
    );
    // Nothing left to change.
    let r = h.call(Method::POST, "/api/admin/autocategorize").await;
    assert_eq!(r.json(), json!({"updated": 0}));

    // A rescan keeps the categories of a folder without data.json.
    let r = h.call(Method::POST, "/api/admin/scan-courses").await;
    let v = r.json();
    assert_eq!(
        (v["new"].as_i64(), v["existing"].as_i64()),
        (Some(0), Some(2)),
        "{v}"
    );
    assert_eq!(h.course("intro-rust").await.unwrap()["categories"], "Rust");

    fs::remove_dir_all(&root).unwrap();
    let r = h.call(Method::POST, "/api/admin/scan-courses").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "Courses directory not found");
}

async fn a_good_upload_is_imported_and_can_be_replaced(backend: Backend) {
    let mut h = hub(backend, &[]).await;
    let zip = package("gl-201", "Tidal Flats", "<h1>Tidal Flats v1</h1>");
    let r = h.upload("anything.zip", &zip, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "Course uploaded successfully");
    assert_eq!(r.json()["folder"], "gl-201");
    assert_eq!(
        h.listing(),
        [
            "courses",
            "courses/gl-201",
            "courses/gl-201/data.json",
            "courses/gl-201/index.html",
            "courses/gl-201/static_resources",
            "courses/gl-201/static_resources/notes.txt"
        ]
    );
    let c = h.course("gl-201").await.expect("in the catalog");
    assert_eq!(c["title"], "Tidal Flats");
    let r = h.admin.get("/api/content").send().await;
    assert!(
        r.json()["content"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["uid"] == "gl-201"),
        "{}",
        r.body
    );
    let r = h.s.client().get("/courses/gl-201/index.html").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Tidal Flats v1"), "{}", r.body);

    // The same folder again is refused, whatever the zip is called.
    let v2 = package("gl-201", "Tidal Flats 2", "<h1>Tidal Flats v2</h1>");
    let before = h.listing();
    let r = h.upload("other.zip", &v2, "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{}",
        r.body
    );
    assert_eq!(h.listing(), before);

    // replace=1 (query or form field) swaps the folder and updates the same course.
    let r = h.upload("other.zip", &v2, "?replace=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["replaced"], true);
    assert_eq!(h.listing(), before);
    let r = h.s.client().get("/courses/gl-201/index.html").send().await;
    assert!(r.body.contains("Tidal Flats v2"), "{}", r.body);
    let again = h.course("gl-201").await.unwrap();
    assert_eq!(
        (again["id"].clone(), again["title"].clone()),
        (c["id"].clone(), json!("Tidal Flats 2"))
    );
    let token = h.token.clone();
    let v3 = package("gl-201", "Tidal Flats 3", "<h1>v3</h1>");
    let body = multipart(&[
        Part {
            name: "replace",
            filename: None,
            data: b"1",
        },
        Part {
            name: "file",
            filename: Some("x.zip"),
            data: &v3,
        },
    ]);
    let r = h
        .admin
        .post("/api/admin/upload-course")
        .header("X-CSRFToken", &token)
        .body(&multipart_type(), body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(h.course("gl-201").await.unwrap()["title"], "Tidal Flats 3");

    // Files at the zip's root: the folder is the zip's name, made safe.
    let flat = zip_of(&[("index.html", b"<h1>flat</h1>"), ("css/site.css", b"h1{}")]);
    let r = h.upload("My Course (2024).zip", &flat, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["folder"], "My-Course-2024");
    assert!(h.courses().join("My-Course-2024/css/site.css").is_file());
    let r =
        h.s.client()
            .get("/courses/My-Course-2024/index.html")
            .send()
            .await;
    assert_eq!(r.status, StatusCode::OK);
    // A zip tool's __MACOSX folder does not count as a second top-level folder.
    let mac = zip_of(&[
        ("mac-pkg/index.html", b"<h1>m</h1>"),
        ("__MACOSX/mac-pkg/._index.html", b"x"),
    ]);
    let r = h.upload("mac.zip", &mac, "").await;
    assert_eq!(r.json()["folder"], "mac-pkg", "{}", r.body);
    assert!(!h.courses().join("__MACOSX").exists());
}

/// Each zip is refused with 400 (413 when so marked) and the message part, leaving
/// `CONTENT_DIR` exactly as it was.
async fn refused_uploads_leave_nothing(backend: Backend) {
    let mut h = hub(backend, &[("COURSE_UPLOAD_MAX_BYTES", "4194304")]).await;
    let good = package("kept", "Kept", "<h1>kept</h1>");
    let r = h.upload("kept.zip", &good, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = h.listing();
    let courses_before = h.list().await.len();

    let mut cases: Vec<(&str, String, Vec<u8>, StatusCode, &str)> = Vec::new();
    let mut add = |what: &'static str, name: &str, zip: Vec<u8>, status, part: &'static str| {
        cases.push((what, name.to_string(), zip, status, part));
    };
    add(
        "zip-slip",
        "p.zip",
        zip_of(&[("p/index.html", b"x"), ("p/../../evil.html", b"x")]),
        StatusCode::BAD_REQUEST,
        "leads outside",
    );
    add(
        "zip-slip at the root",
        "p.zip",
        zip_of(&[("index.html", b"x"), ("../evil.html", b"x")]),
        StatusCode::BAD_REQUEST,
        "leads outside",
    );
    add(
        "absolute",
        "p.zip",
        zip_of(&[("index.html", b"x"), ("/tmp/evil.html", b"x")]),
        StatusCode::BAD_REQUEST,
        "absolute path",
    );
    add(
        "backslash",
        "p.zip",
        zip_of(&[("index.html", b"x"), ("..\\evil.html", b"x")]),
        StatusCode::BAD_REQUEST,
        "backslash",
    );
    let symlink = {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("s/index.html", options(CompressionMethod::Stored))
            .unwrap();
        w.write_all(b"x").unwrap();
        w.add_symlink(
            "s/passwd",
            "/etc/passwd",
            options(CompressionMethod::Stored),
        )
        .unwrap();
        w.finish().unwrap().into_inner()
    };
    add(
        "symlink",
        "s.zip",
        symlink,
        StatusCode::BAD_REQUEST,
        "symbolic link",
    );
    let device = {
        let mut z = zip_of(&[("d/index.html", b"x"), ("d/tty", b"")]);
        let last = *central_headers(&z).last().unwrap();
        // External attributes: a character device (S_IFCHR) with mode 0644.
        put_u32(&mut z, last + 38, (0o020644u32) << 16);
        z
    };
    add(
        "device file",
        "d.zip",
        device,
        StatusCode::BAD_REQUEST,
        "special file",
    );
    // 3 MiB of zeros deflate to a few KiB: a ratio far over 100 (declared sizes).
    let zeros = vec![0u8; 3 << 20];
    add(
        "ratio bomb",
        "b.zip",
        zip_of(&[("b/index.html", b"x"), ("b/zeros.bin", &zeros)]),
        StatusCode::BAD_REQUEST,
        "compresses more than 100",
    );
    // Three entries declaring ~3.75 GiB each: over 10 GiB in all.
    let total = {
        let mut z = zip_of(&[
            ("t/index.html", b"x"),
            ("t/a", b"a"),
            ("t/b", b"b"),
            ("t/c", b"c"),
        ]);
        for at in central_headers(&z).into_iter().skip(1) {
            put_u32(&mut z, at + 24, 0xF000_0000);
        }
        z
    };
    add(
        "total bomb",
        "t.zip",
        total,
        StatusCode::BAD_REQUEST,
        "more than 10 GiB",
    );
    // Sizes that lie: 600 KiB of zeros declared as 100 KiB (with incompressible padding,
    // a ratio the declared sizes allow). Decompression stops at the declared size (the
    // zip crate reads no further, then the checksum fails; the extraction's own count
    // would stop it too): refused as damaged.
    let pad = noise(64 * 1024);
    let liar = {
        let mut z = zip_of(&[
            ("l/index.html", &[b' '; 100 * 1024][..]),
            ("l/zeros.bin", &vec![0u8; 600 * 1024]),
            ("l/pad.bin", &pad),
        ]);
        declare_sizes(&mut z, 100 * 1024);
        z
    };
    add(
        "lying sizes",
        "l.zip",
        liar,
        StatusCode::BAD_REQUEST,
        "\"zeros.bin\"",
    );
    let many = {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("m/index.html", options(CompressionMethod::Stored))
            .unwrap();
        for i in 0..20_000 {
            w.start_file(format!("m/{i}"), options(CompressionMethod::Stored))
                .unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    add(
        "too many entries",
        "m.zip",
        many,
        StatusCode::BAD_REQUEST,
        "more than 20000 entries",
    );
    add(
        "no launch page",
        "n.zip",
        zip_of(&[("n/readme.txt", b"x")]),
        StatusCode::BAD_REQUEST,
        "no index.html or data.json",
    );
    add(
        "bad data.json",
        "j.zip",
        zip_of(&[("j/data.json", b"{nope")]),
        StatusCode::BAD_REQUEST,
        "not valid JSON",
    );
    add(
        "not a zip",
        "x.zip",
        b"PK but not really a zip".to_vec(),
        StatusCode::BAD_REQUEST,
        "not a zip",
    );
    add(
        "not .zip",
        "x.tar",
        zip_of(&[("index.html", b"x")]),
        StatusCode::BAD_REQUEST,
        "Only .zip",
    );
    add(
        "already there",
        "k.zip",
        package("kept", "Again", "again"),
        StatusCode::BAD_REQUEST,
        "already exists",
    );
    // Over COURSE_UPLOAD_MAX_BYTES (4 MiB): refused from Content-Length, and by counting
    // when the declared length is within the framing allowance.
    let noise = noise(5 << 20);
    add(
        "oversize",
        "o.zip",
        zip_of(&[("o/index.html", &noise)]),
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload limit",
    );
    let just_over: Vec<u8> = noise[..(4 << 20) + 10_000].to_vec();
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("o/index.html", options(CompressionMethod::Stored))
        .unwrap();
    w.write_all(&just_over).unwrap();
    add(
        "just over",
        "o.zip",
        w.finish().unwrap().into_inner(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload limit",
    );

    for (what, name, zip, status, part) in cases {
        let r = h.upload(&name, &zip, "").await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        let message = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(part), "{what}: {message}");
        assert_eq!(h.listing(), before, "{what}: something was left behind");
    }
    // A multipart body without the file, and an empty file name.
    let token = h.token.clone();
    let r = h
        .admin
        .post("/api/admin/upload-course")
        .header("X-CSRFToken", &token)
        .body(
            &multipart_type(),
            multipart(&[Part {
                name: "other",
                filename: None,
                data: b"x",
            }]),
        )
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "No file uploaded");
    let r = h.upload("", b"", "").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "No file selected");
    assert_eq!(h.listing(), before);
    assert_eq!(h.list().await.len(), courses_before);
    // The kept course still serves.
    let r = h.s.client().get("/courses/kept/index.html").send().await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn deleting_a_course_takes_its_progress_and_notes(backend: Backend) {
    let mut h = hub(backend, &[]).await;
    for folder in ["del-a", "del-b"] {
        let r = h
            .upload(
                &format!("{folder}.zip"),
                &package(folder, folder, "<h1>x</h1>"),
                "",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // A folder that is a symlink to another package: deleted as a link, never followed.
    std::os::unix::fs::symlink(h.courses().join("del-b"), h.courses().join("del-link")).unwrap();
    let r = h.call(Method::POST, "/api/admin/scan-courses").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let (mut learner, token) = {
        let mut c = new_user(&h.s, "learner").await;
        let t = c.csrf().await;
        (c, t)
    };
    for uid in ["del-a", "del-b", "del-link"] {
        let r = learner
            .post("/api/course/progress")
            .header("X-CSRFToken", &token)
            .json(&json!({"course_uid": uid, "status": "In Progress"}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = learner
            .post("/api/course/note")
            .header("X-CSRFToken", &token)
            .json(&json!({"course_uid": uid, "content": "my note"}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(h.s.db.count("course_progress").await, 3);
    assert_eq!(h.s.db.count("course_notes").await, 3);

    let id = |c: Option<Value>| c.expect("course")["id"].as_i64().expect("id");
    let a = id(h.course("del-a").await);
    let r = h
        .call(Method::DELETE, &format!("/api/admin/delete-course/{a}"))
        .await;
    assert_eq!(r.json(), json!({"message": "Course deleted successfully"}));
    assert!(
        h.courses().join("del-a/index.html").is_file(),
        "files stay without files=1"
    );
    assert!(h.course("del-a").await.is_none());
    assert_eq!(h.s.db.count("course_progress").await, 2);
    assert_eq!(h.s.db.count("course_notes").await, 2);

    let link = id(h.course("del-link").await);
    let r = h
        .call(
            Method::DELETE,
            &format!("/api/admin/delete-course/{link}?files=1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        fs::symlink_metadata(h.courses().join("del-link")).is_err(),
        "the link is gone"
    );
    assert!(
        h.courses().join("del-b/index.html").is_file(),
        "its target is not"
    );

    let b = id(h.course("del-b").await);
    let r = h
        .call(
            Method::DELETE,
            &format!("/api/admin/delete-course/{b}?files=1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        h.listing(),
        [
            "courses",
            "courses/del-a",
            "courses/del-a/data.json",
            "courses/del-a/index.html",
            "courses/del-a/static_resources",
            "courses/del-a/static_resources/notes.txt"
        ]
    );
    assert_eq!(h.s.db.count("course_progress").await, 0);
    assert_eq!(h.s.db.count("course_notes").await, 0);
    let r = learner.get("/api/content").send().await;
    assert!(
        r.json()["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !c["uid"].as_str().unwrap().starts_with("del-"))
    );
    let r = h.s.client().get("/courses/del-b/index.html").send().await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn the_courses_page(backend: Backend) {
    let mut h = hub(backend, &[]).await;
    let r = h
        .admin
        .get("/admin/courses")
        .header("Accept", "text/html")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        r.body
            .contains(r#"<script src="/static/admin-upload.js" defer></script>"#)
    );
    assert!(!r.body.contains("<script>"), "no inline script");
    assert!(r.body.contains(r#"enctype="multipart/form-data""#));
    let token = form_token(&r.body);
    // Every other page keeps the site's script-free policy.
    for path in ["/", "/admin/courses/none", "/login"] {
        let r = h.admin.get(path).send().await;
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(!csp.contains("script-src"), "{path}: {csp}");
    }
    let r = h.admin.get("/static/admin-upload.js").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(r.body.contains("XMLHttpRequest"));
    let mut learner = new_user(&h.s, "learner").await;
    let r = learner
        .get("/admin/courses")
        .header("Accept", "text/html")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The upload form as a browser without script sends it: the token first, then the file.
    let zip = package("page-pkg", "From the page", "<h1>page</h1>");
    let body = multipart(&[
        Part {
            name: "csrf_token",
            filename: None,
            data: token.as_bytes(),
        },
        Part {
            name: "file",
            filename: Some("page-pkg.zip"),
            data: &zip,
        },
    ]);
    let r = h
        .admin
        .post("/admin/courses/upload")
        .header("Accept", "text/html")
        .body(&multipart_type(), body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/courses?done=uploaded")
    );
    let r = h.admin.get("/admin/courses?done=uploaded").send().await;
    assert!(r.body.contains("Course uploaded and imported."));
    assert!(r.body.contains("From the page"));
    // A refused upload shows the page again with the message.
    let body = multipart(&[
        Part {
            name: "csrf_token",
            filename: None,
            data: token.as_bytes(),
        },
        Part {
            name: "file",
            filename: Some("page-pkg.zip"),
            data: &zip,
        },
    ]);
    let r = h
        .admin
        .post("/admin/courses/upload")
        .body(&multipart_type(), body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("already exists"), "{}", r.body);
    assert!(r.body.contains("alert-error"));

    for (action, done) in [
        ("/admin/courses/scan", "scanned"),
        ("/admin/courses/autocategorize", "categorized"),
    ] {
        let r = h
            .admin
            .post(action)
            .form(&[("csrf_token", &token)])
            .send()
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(
            r.header("location"),
            Some(format!("/admin/courses?done={done}"))
        );
    }
    let id = h.course("page-pkg").await.unwrap()["id"].to_string();
    // Without a recent password: the prompt, carrying the form.
    h.forget_reauth().await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("course_id", id.as_str()),
        ("files", "1"),
    ];
    let r = h
        .admin
        .post("/admin/courses/delete")
        .form(&fields)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains(r#"action="/admin/reauth""#), "{}", r.body);
    assert!(
        r.body
            .contains(&format!(r#"name="course_id" value="{id}""#)),
        "{}",
        r.body
    );
    let r = h
        .admin
        .post("/admin/reauth")
        .form(&[
            ("csrf_token", token.as_str()),
            ("reauth_password", PW),
            ("then", "/admin/courses/delete"),
            ("repost", "1"),
            ("course_id", id.as_str()),
            ("files", "1"),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::TEMPORARY_REDIRECT, "{}", r.body);
    let r = h
        .admin
        .post("/admin/courses/delete")
        .form(&fields)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/courses?done=deleted-files")
    );
    assert!(!h.courses().join("page-pkg").exists());
    let r = h
        .admin
        .post("/admin/courses/delete")
        .form(&fields)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Course not found"));
}

both_backends!(
    anonymous_and_non_admins_are_refused,
    get_scan_and_autocategorize,
    a_good_upload_is_imported_and_can_be_replaced,
    refused_uploads_leave_nothing,
    deleting_a_course_takes_its_progress_and_notes,
    the_courses_page,
);

/// The server's peak resident memory (`VmHWM`), in KiB.
fn vm_hwm_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A 200 MiB upload (stored, incompressible) with COURSE_UPLOAD_MAX_BYTES=300 MiB: the
/// server's peak memory stays far below the upload's size (the body streams to disk, the
/// extraction streams from it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mib_upload_streams() {
    let mut h = hub(Backend::Sqlite, &[("COURSE_UPLOAD_MAX_BYTES", "314572800")]).await;
    let before = vm_hwm_kib(h.s.pid());
    let big = noise(200 << 20);
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("big/index.html", options(CompressionMethod::Stored))
        .unwrap();
    w.write_all(b"<h1>big</h1>").unwrap();
    w.start_file("big/video.bin", options(CompressionMethod::Stored))
        .unwrap();
    w.write_all(&big).unwrap();
    let zip = w.finish().unwrap().into_inner();
    drop(big);
    let started = Instant::now();
    let r = h.upload("big.zip", &zip, "").await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = vm_hwm_kib(h.s.pid());
    eprintln!(
        "200 MiB upload: {:.1} s; server VmHWM {} KiB before, {} KiB after",
        took.as_secs_f64(),
        before,
        after
    );
    assert!(
        after < 100 * 1024,
        "peak memory {after} KiB for a 200 MiB upload"
    );
    // The page's form: the CSRF token is a form field (read by the guard up to that field
    // only), then `replace`, then the same 200 MiB zip.
    let page = h.admin.get("/admin/courses").send().await;
    let token = form_token(&page.body);
    let body = multipart(&[
        Part {
            name: "csrf_token",
            filename: None,
            data: token.as_bytes(),
        },
        Part {
            name: "replace",
            filename: None,
            data: b"1",
        },
        Part {
            name: "file",
            filename: Some("big.zip"),
            data: &zip,
        },
    ]);
    let r = h
        .admin
        .post("/admin/courses/upload")
        .body(&multipart_type(), body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/courses?done=replaced")
    );
    let after_page = vm_hwm_kib(h.s.pid());
    eprintln!("200 MiB upload through the page form: server VmHWM {after_page} KiB");
    assert!(
        after_page < 100 * 1024,
        "peak memory {after_page} KiB for the page's upload"
    );
    let len = fs::metadata(h.courses().join("big/video.bin"))
        .unwrap()
        .len();
    assert_eq!(len, 200 << 20);
}

/// An upload that takes longer than the stack's 30 s request timeout, sending a little
/// every two seconds (under the idle timeout), still succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upload_is_not_cut_off() {
    let mut h = hub(Backend::Sqlite, &[]).await;
    let zip = package("slow", "Slow", "<h1>slow</h1>");
    let body = multipart(&[Part {
        name: "file",
        filename: Some("slow.zip"),
        data: &zip,
    }]);
    let cookie: Vec<String> = h
        .admin
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let head = format!(
        "POST /api/admin/upload-course HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nX-CSRFToken: {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        h.s.addr,
        cookie.join("; "),
        h.token,
        body.len()
    );
    let addr = h.s.addr.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let mut sock = std::net::TcpStream::connect(&addr).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        sock.write_all(head.as_bytes()).unwrap();
        let pieces = 17;
        let step = body.len().div_ceil(pieces);
        for piece in body.chunks(step) {
            sock.write_all(piece).unwrap();
            std::thread::sleep(Duration::from_secs(2));
        }
        let mut answer = String::new();
        let _ = sock.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(h.course("slow").await.is_some());
}

/// The upload form in headless Chromium (tests/api/browser.rs's driver): the page's
/// script runs under its CSP, sends the zip to the JSON API with the progress bar, and
/// lands back on the tab with the notice; the page has no sideways scroll at phone width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_form_in_a_real_browser() {
    use crate::browser::{
        browser_available, check_phone_width, click_and_load, fill, find, js, path_and_query,
        wait_js, with_browser,
    };
    if !browser_available() {
        return;
    }
    let h = hub(Backend::Sqlite, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("browser-pkg.zip");
    fs::write(
        &zip_path,
        package("browser-pkg", "From the browser", "<h1>b</h1>"),
    )
    .unwrap();
    let zip_path = zip_path.to_str().unwrap().to_string();
    with_browser("admin_upload", h.s.base.clone(), move |c, base| async move {
        c.goto(&format!("{base}/login")).await.unwrap();
        fill(&c, "#username", "root").await;
        fill(&c, "#password", PW).await;
        click_and_load(&c, "form[action='/login'] button[type=submit]").await;
        c.goto(&format!("{base}/admin/courses")).await.unwrap();
        check_phone_width(&c, "admin courses").await;
        // Only the one same-origin script; every visible control has a label.
        let problems = js(
            &c,
            r#"const p = [];
            document.querySelectorAll('script').forEach(s => {
              if (s.getAttribute('src') !== '/static/admin-upload.js' || s.textContent.trim()) p.push('script ' + s.outerHTML);
            });
            document.querySelectorAll('[style]').forEach(e => p.push('style on ' + e.tagName));
            document.querySelectorAll('input, select, textarea').forEach(e => {
              if (e.type !== 'hidden' && !e.hidden && (!e.labels || !e.labels.length)) p.push('unlabelled ' + e.name);
            });
            return p;"#,
        )
        .await;
        assert_eq!(problems, json!([]), "{problems}");
        find(&c, "#upload-file").await.send_keys(&zip_path).await.unwrap();
        click_and_load(&c, "#upload-form button[type=submit]").await;
        assert_eq!(path_and_query(&c).await, "/admin/courses?done=uploaded");
        wait_js(
            &c,
            "return document.querySelector('.alert-success') && document.querySelector('.alert-success').textContent.trim()",
            json!("Course uploaded and imported."),
            "the notice",
        )
        .await;
        let title = find(&c, "a[href='/courses/browser-pkg/index.html']").await.text().await.unwrap();
        assert_eq!(title, "From the browser");
    })
    .await;
    // The upload went through the script (the JSON API), not the plain form post.
    let logs = h.s.logs();
    assert!(
        logs.iter()
            .any(|l| l.contains(r#""route":"/api/admin/upload-course""#)),
        "the script did not run"
    );
    assert!(
        !logs
            .iter()
            .any(|l| l.contains(r#""route":"/admin/courses/upload""#))
    );
    assert!(h.courses().join("browser-pkg/index.html").is_file());
}

/// A client that disconnects halfway through its upload leaves nothing under CONTENT_DIR
/// (the temporary file removes itself when the request is dropped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_upload_leaves_nothing() {
    let mut h = hub(Backend::Sqlite, &[]).await;
    let zip = zip_of(&[("gone/index.html", &noise(4 << 20))]);
    let body = multipart(&[Part {
        name: "file",
        filename: Some("gone.zip"),
        data: &zip,
    }]);
    let cookie: Vec<String> = h
        .admin
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let head = format!(
        "POST /api/admin/upload-course HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nX-CSRFToken: {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        h.s.addr,
        cookie.join("; "),
        h.token,
        body.len()
    );
    let addr = h.s.addr.clone();
    let courses = h.courses();
    tokio::task::spawn_blocking(move || {
        let mut sock = std::net::TcpStream::connect(&addr).expect("connect");
        sock.write_all(head.as_bytes()).unwrap();
        sock.write_all(&body[..body.len() / 2]).unwrap();
        // The temporary file exists while the upload is under way.
        let deadline = Instant::now() + Duration::from_secs(10);
        while fs::read_dir(&courses).unwrap().count() == 0 {
            assert!(Instant::now() < deadline, "no temporary file appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(sock);
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.listing() != ["courses"] {
        assert!(Instant::now() < deadline, "left behind: {:?}", h.listing());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.course("gone").await.is_none());
}
