//! The admin panel's system part (docs/design.md "Admin panel", "Status, diagnostics, logs
//! and About"): `GET /api/admin/status`, `diagnostics`, `logs`, `GET/POST about-content`,
//! the public `/about`, the pages `/admin`, `/admin/diagnostics`, `/admin/logs`,
//! `/admin/about`, and the original's routes that are not offered (404). Each refusal:
//! anonymous 401, a non-admin 403, a POST without a CSRF token 400. No answer holds the
//! secret key or the database password.

use std::{io::Write as _, path::Path, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    Backend, Client, PW, Resp, SECRET, Server, TestDb, assert_error, form_token, logged_in,
    new_user, start,
};

/// A password for the PostgreSQL URL (the test server trusts local connections, so it is
/// sent nowhere, but the hub must not show it).
const DB_PASSWORD: &str = "dbpw-7c1e55a0-never-shown";

async fn admin(s: &Server) -> Client {
    let out = s.cli(
        &["user", "create", "root", "--admin"],
        Some(&format!("{PW}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    logged_in(s, "root", PW).await
}

/// A browser's GET of a page.
async fn browse(c: &mut Client, path: &str) -> Resp {
    c.get(path).header("accept", "text/html").send().await
}

both_backends!(
    refusals,
    status_counts,
    diagnostics_fields,
    logs_filter_and_redaction,
    logs_without_log_dir,
    about_round_trip_and_escaping,
    about_page_form,
    pages_render,
    not_offered_routes_answer_404,
    no_secret_in_any_answer,
);

const GETS: &[&str] = &[
    "/api/admin/status",
    "/api/admin/diagnostics",
    "/api/admin/logs",
    "/api/admin/about-content",
];

async fn refusals(backend: Backend) {
    let s = start(backend, &[]).await;
    let _root = admin(&s).await;
    let mut anon = s.client();
    for path in GETS {
        let r = anon.get(path).send().await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    }
    let token = anon.csrf().await;
    let r = anon
        .post("/api/admin/about-content")
        .header("X-CSRFToken", &token)
        .json(&json!({"content": "x"}))
        .send()
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    // Pages: a browser is sent to the login page.
    for page in [
        "/admin",
        "/admin/diagnostics",
        "/admin/logs",
        "/admin/about",
    ] {
        let r = browse(&mut anon, page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            r.header("location")
                .unwrap_or_default()
                .starts_with("/login?next=")
        );
    }

    let mut bob = new_user(&s, "bob").await;
    for path in GETS {
        let r = bob.get(path).send().await;
        assert_error(&r, StatusCode::FORBIDDEN, "Admin access required");
    }
    let token = bob.csrf().await;
    let r = bob
        .post("/api/admin/about-content")
        .header("X-CSRFToken", &token)
        .json(&json!({"content": "defaced"}))
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "Admin access required");
    for page in [
        "/admin",
        "/admin/diagnostics",
        "/admin/logs",
        "/admin/about",
    ] {
        let r = browse(&mut bob, page).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
        assert!(r.body.contains("Admin access required"), "{page}");
    }
    let r = bob
        .post("/admin/about")
        .form(&[("csrf_token", token.as_str()), ("content", "defaced")])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // An admin without a CSRF token: refused before anything is written.
    let mut root = logged_in(&s, "root", PW).await;
    let r = root
        .post("/api/admin/about-content")
        .json(&json!({"content": "no token"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is missing.");
    let r = root
        .post("/admin/about")
        .form(&[("content", "no token")])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = root.get("/api/admin/about-content").send().await;
    assert_eq!(r.json(), json!({"content": ""}));
}

async fn status_counts(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut root = admin(&s).await;
    let _bob = new_user(&s, "bob").await;
    let r = root.get("/api/admin/status").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    let courses = root.get("/api/content").send().await.json()["content"]
        .as_array()
        .map(Vec::len)
        .expect("courses");
    assert_eq!(v["courses_count"], courses as i64, "{v}");
    assert!(courses > 0, "the development catalog is seeded");
    assert_eq!(v["ebooks_count"], 0);
    assert_eq!(v["users_count"], 2);
    assert_eq!(v["server_status"], "running");
    assert!(
        v["sessions_live"].as_i64().expect("sessions_live") >= 2,
        "{v}"
    );
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

async fn diagnostics_fields(backend: Backend) {
    let logs = tempfile::tempdir().expect("tempdir");
    let log_dir = logs.path().display().to_string();
    let s = start(backend, &[("LOG_DIR", &log_dir)]).await;
    let mut root = admin(&s).await;
    let r = root.get("/api/admin/diagnostics").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.json();
    let backend_name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(d["database"]["backend"], backend_name, "{d}");
    assert_eq!(d["database"]["reachable"], true);
    assert_eq!(d["database"]["status"], "ok");
    assert!(d["database"]["latency_ms"].as_f64().expect("latency") >= 0.0);
    assert_eq!(d["migrations"]["status"], "ok");
    assert!(d["migrations"]["applied"].as_u64().expect("applied") >= 1);
    assert_eq!(d["migrations"]["pending"], json!([]));
    for k in ["status", "exists", "readable", "course_packages", "message"] {
        assert!(d["content"].get(k).is_some(), "content.{k}: {d}");
    }
    assert_eq!(d["tls"]["configured"], false);
    assert_eq!(d["tls"]["days_left"], Value::Null);
    assert_eq!(d["log_disk"]["configured"], true);
    assert!(d["log_disk"]["free_bytes"].as_u64().is_some(), "{d}");
    assert_eq!(d["log_disk"]["min_free_bytes"], 10_000_000_000u64);
    let free = d["log_disk"]["free_bytes"].as_u64().unwrap_or(0);
    let want = if free >= 10_000_000_000 { "ok" } else { "warn" };
    assert_eq!(d["log_disk"]["status"], want);
    let checks = d["doctor"]["checks"].as_array().expect("checks");
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
    for id in [
        "db.reachable",
        "db.migrated",
        "env.production",
        "secret.strength",
        "tls.files",
        "logs.writable",
        "logs.space",
        "session.settings",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(
        !ids.contains(&"secret.git"),
        "secret.git is for the command line"
    );
    let summary = &d["doctor"]["summary"];
    let total: u64 = ["pass", "warn", "fail"]
        .iter()
        .map(|k| summary[*k].as_u64().expect("count"))
        .sum();
    assert_eq!(total as usize, checks.len());

    // The content folder is missing: a fixed text, not an error's.
    let empty = tempfile::tempdir().expect("tempdir");
    let content_dir = empty.path().join("nothing-here").display().to_string();
    let s2 = start(backend, &[("CONTENT_DIR", &content_dir)]).await;
    let mut root2 = admin(&s2).await;
    let d = root2.get("/api/admin/diagnostics").send().await.json();
    assert_eq!(
        d["content"],
        json!({"status": "fail", "exists": false, "readable": false, "course_packages": null,
               "message": "CONTENT_DIR/courses does not exist."})
    );
    assert_eq!(d["log_disk"]["configured"], false);
}

/// Appends one line to `LOG_DIR/app.log` (as one write, so it cannot interleave).
fn append_line(dir: &Path, line: &Value) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("app.log"))
        .expect("app.log");
    f.write_all(format!("{line}\n").as_bytes()).expect("append");
}

async fn logs_filter_and_redaction(backend: Backend) {
    let logs = tempfile::tempdir().expect("tempdir");
    let log_dir = logs.path().display().to_string();
    let s = start(backend, &[("LOG_DIR", &log_dir)]).await;
    let mut root = admin(&s).await;
    s.create_user("bob", PW);
    let mut other = s.client();
    for _ in 0..3 {
        let r = other.login("bob", "wrong-password-123").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    append_line(
        logs.path(),
        &json!({"timestamp": "2026-01-01T00:00:00Z", "level": "WARN", "event": "test_injected",
                "password": "hunter2-injected", "session_id": "sess-injected",
                "detail": "retry with token=tok-injected now"}),
    );
    let get = |q: &'static str| format!("/api/admin/logs{q}");

    let r = root.get(&get("")).send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let all = r.json()["logs"].as_array().cloned().expect("logs");
    assert!(!all.is_empty() && all.len() <= 50, "{}", all.len());
    assert!(all.iter().any(|l| l["event"] == "login_failure"));

    let r = root.get(&get("?event=login_failure")).send().await;
    let failures = r.json()["logs"].as_array().cloned().expect("logs");
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(failures.iter().all(|l| l["event"] == "login_failure"));

    let r = root.get(&get("?event=login_failure&lines=2")).send().await;
    assert_eq!(r.json()["logs"].as_array().map(Vec::len), Some(2));

    let r = root.get(&get("?level=warn&lines=1000")).send().await;
    let warned = r.json()["logs"].as_array().cloned().expect("logs");
    assert!(warned.len() >= 4, "{warned:?}");
    assert!(
        warned
            .iter()
            .all(|l| l["level"] == "WARN" || l["level"] == "ERROR")
    );

    let r = root.get(&get("?lines=5000")).send().await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "lines above 1000 are taken as 1000"
    );

    // The defensive redaction: the injected line comes back without its secrets.
    let r = root.get(&get("?event=test_injected")).send().await;
    let v = r.json();
    assert_eq!(v["logs"][0]["password"], "[redacted]", "{v}");
    assert_eq!(v["logs"][0]["session_id"], "[redacted]");
    assert_eq!(v["logs"][0]["detail"], "retry with token=[redacted] now");
    for secret in ["hunter2-injected", "sess-injected", "tok-injected"] {
        assert!(!r.body.contains(secret), "{secret}: {}", r.body);
    }

    for (q, msg) in [
        ("?lines=abc", "lines must be a number from 1 to 1000."),
        ("?lines=0", "lines must be a number from 1 to 1000."),
        (
            "?level=loud",
            "level must be one of error, warn, info, debug, trace.",
        ),
        (
            "?event=a%20b",
            "event must be an event name (letters, digits, '_').",
        ),
    ] {
        let r = root.get(&get(q)).send().await;
        assert_error(&r, StatusCode::BAD_REQUEST, msg);
    }
    // The page shows the same, with its filter form.
    let r = browse(&mut root, "/admin/logs?level=warn&event=login_failure").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("login_failure"), "{}", r.body);
    assert!(
        r.body.contains(r#"<option value="warn" selected>"#),
        "{}",
        r.body
    );
    let r = browse(&mut root, "/admin/logs?lines=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("lines must be a number from 1 to 1000."));
}

async fn logs_without_log_dir(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut root = admin(&s).await;
    let r = root.get("/api/admin/logs?level=warn").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({"logs": [], "message": "LOG_DIR is not set: logs go to standard error"})
    );
    let r = browse(&mut root, "/admin/logs").await;
    assert!(r.body.contains("LOG_DIR is not set"), "{}", r.body);
}

const HOSTILE: &str = "# Welcome\n\n<script>alert('s')</script>\n\n\
    Hi <img src=x onerror=alert('i')> there.\n\n\
    [click](javascript:alert('j')) and [data](data:text/html;base64,PHNjcmlwdD4=) \
    and [home](/) and <a href=\"javascript:alert('a')\">raw</a>\n";

async fn about_round_trip_and_escaping(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut root = admin(&s).await;
    let token = root.csrf().await;
    let r = root.get("/api/admin/about-content").send().await;
    assert_eq!(r.json(), json!({"content": ""}));
    let mut anon = s.client();
    let r = browse(&mut anon, "/about").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Nothing has been written here yet."));

    let r = root
        .post("/api/admin/about-content")
        .header("X-CSRFToken", &token)
        .json(&json!({ "content": HOSTILE }))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"message": "About content updated successfully"})
    );
    let r = root.get("/api/admin/about-content").send().await;
    assert_eq!(r.json(), json!({ "content": HOSTILE }));

    let r = browse(&mut anon, "/about").await;
    assert_eq!(r.status, StatusCode::OK);
    let page = &r.body;
    assert!(page.contains("<h1>Welcome</h1>"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(
        !page.to_ascii_lowercase().contains("<a href=\"javascript"),
        "{page}"
    );
    assert!(!page.contains("href=\"data:"), "{page}");
    assert!(page.contains(r#"<a href="/">home</a>"#), "{page}");
    assert!(
        r.header("content-security-policy")
            .unwrap_or_default()
            .contains("default-src 'none'")
    );

    // Limits and shape.
    let big = "x".repeat(64 * 1024 + 1);
    let r = root
        .post("/api/admin/about-content")
        .header("X-CSRFToken", &token)
        .json(&json!({ "content": big }))
        .send()
        .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "About content is too long (at most 64 KiB).",
    );
    let r = root
        .post("/api/admin/about-content")
        .header("X-CSRFToken", &token)
        .json(&json!({}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "content is required.");
    let r = root.get("/api/admin/about-content").send().await;
    assert_eq!(r.json(), json!({ "content": HOSTILE }), "unchanged");

    // Audited: the success and the refusal.
    let r = root.get("/api/admin/audit").send().await;
    let entries = r.json()["entries"].as_array().cloned().expect("entries");
    let about: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "about-content")
        .collect();
    assert!(about.iter().any(|e| e["outcome"] == "success"), "{about:?}");
    assert!(about.iter().any(|e| e["outcome"] == "refused"), "{about:?}");
}

async fn about_page_form(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut root = admin(&s).await;
    let r = browse(&mut root, "/admin/about").await;
    assert_eq!(r.status, StatusCode::OK);
    let token = form_token(&r.body);
    let r = root
        .post("/admin/about")
        .form(&[
            ("csrf_token", token.as_str()),
            ("content", "## From the form\r\n\r\nHello & <b>bye</b>"),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/about?done=about-saved")
    );
    let r = browse(&mut root, "/admin/about?done=about-saved").await;
    assert!(r.body.contains("The About page is saved."));
    assert!(
        r.body
            .contains("Hello &#38; &#60;b&#62;bye&#60;/b&#62;</textarea>"),
        "{}",
        r.body
    );
    let r = root.get("/api/admin/about-content").send().await;
    assert_eq!(
        r.json(),
        json!({"content": "## From the form\n\nHello & <b>bye</b>"})
    );
    let r = browse(&mut s.client(), "/about").await;
    assert!(r.body.contains("<h2>From the form</h2>"), "{}", r.body);
    assert!(
        r.body.contains("Hello &amp; &lt;b&gt;bye&lt;/b&gt;"),
        "{}",
        r.body
    );

    // Too long: the page again, with the message and the text kept.
    let big = "y".repeat(64 * 1024 + 1);
    let r = root
        .post("/admin/about")
        .form(&[("csrf_token", token.as_str()), ("content", big.as_str())])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .contains("About content is too long (at most 64 KiB).")
    );
    assert!(r.body.contains(&big));
}

async fn pages_render(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut root = admin(&s).await;
    let r = browse(&mut root, "/admin").await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Courses",
        "Users",
        "href=\"/admin/diagnostics\"",
        "href=\"/admin/logs\"",
        "href=\"/admin/about\"",
        "min left",
    ] {
        assert!(r.body.contains(text), "{text} in {}", r.body);
    }
    assert!(!r.body.contains("You have not entered your password"));
    assert!(!r.body.contains("<script"), "no script on admin pages");

    // No recent re-authentication: the dashboard says so.
    s.db.write_behind_the_server("UPDATE sessions SET reauth_at = 0")
        .await;
    let r = browse(&mut root, "/admin").await;
    assert!(
        r.body.contains("You have not entered your password"),
        "{}",
        r.body
    );
    assert!(r.body.contains("/admin/reauth?then=/admin"));

    let r = browse(&mut root, "/admin/diagnostics").await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Database",
        "Migrations",
        "Content folder",
        "TLS certificate",
        "db.reachable",
    ] {
        assert!(r.body.contains(text), "{text} in {}", r.body);
    }
    let r = browse(&mut root, "/admin/logs").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains(r#"<form method="get" action="/admin/logs""#)
    );
    // The public page is linked from every page's footer.
    let r = browse(&mut s.client(), "/").await;
    assert!(r.body.contains(r#"href="/about""#));
}

const NOT_OFFERED: &[&str] = &[
    "env-config",
    "run-script",
    "seed-test-users",
    "server/restart",
    "generate-thumbnails",
    "self-heal",
];

async fn not_offered_routes_answer_404(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut root = admin(&s).await;
    let token = root.csrf().await;
    for name in NOT_OFFERED {
        let path = format!("/api/admin/{name}");
        let r = root.get(&path).send().await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}: {}", r.body);
        let r = root
            .req(Method::POST, &path)
            .header("X-CSRFToken", &token)
            .json(&json!({"script": "init_database.py", "config": {"SECRET_KEY": "x"}}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {path}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    // Nothing was seeded.
    let r = root.get("/api/admin/status").send().await;
    assert_eq!(r.json()["users_count"], 1);
}

async fn no_secret_in_any_answer(backend: Backend) {
    let logs = tempfile::tempdir().expect("tempdir");
    let log_dir = logs.path().display().to_string();
    let db = TestDb::new(backend).await;
    let url = match backend {
        Backend::Sqlite => db.url.clone(),
        Backend::Postgres => {
            db.url
                .replacen("://postgres@", &format!("://postgres:{DB_PASSWORD}@"), 1)
        }
    };
    if backend == Backend::Postgres {
        assert!(url.contains(DB_PASSWORD), "{url}");
    }
    let s = Server::start_on(
        db,
        &[
            ("AUTH_RATE_LIMIT", "1000"),
            ("SECRET_KEY", SECRET),
            ("LOG_DIR", &log_dir),
            ("DATABASE_URL", &url),
        ],
    )
    .await;
    let mut root = admin(&s).await;
    // Something in the logs: a failed login of an account whose password is the secret.
    let _ = s.client().login("root", SECRET).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut bodies = Vec::new();
    for path in GETS {
        let r = root.get(path).send().await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        bodies.push((path.to_string(), r.body));
    }
    let r = root.get("/api/admin/logs?lines=1000").send().await;
    bodies.push(("logs 1000".into(), r.body));
    for page in [
        "/admin",
        "/admin/diagnostics",
        "/admin/logs?lines=1000",
        "/admin/about",
    ] {
        let r = browse(&mut root, page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        bodies.push((page.to_string(), r.body));
    }
    for (what, body) in &bodies {
        assert!(!body.contains(SECRET), "SECRET_KEY in {what}");
        assert!(!body.contains(DB_PASSWORD), "database password in {what}");
    }
}
