//! Hardening: the production guard and the CLI (`serve`, `config`, `gen-secret`,
//! `migrate --check`), bad input that must never give a 5xx, the JSON logs (an access line per
//! request, the security events, no secrets), the HTML pages and forms, the security headers
//! on every response, and the health checks.

use std::{
    path::Path,
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    Backend, Client, PW, Resp, SECRET, Server, TestDb, assert_error, env_vec, form_token, run,
    start,
};

const SEED_EXAMPLE_KEY: &str = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1";

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/// Runs `gleh serve` and waits for it to exit; a server that starts and keeps running
/// (instead of refusing) is killed and fails the test.
fn serve_expecting_exit(dir: &Path, env: &[(String, String)]) -> Output {
    let mut child = crate::helpers::command(dir, env)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gleh serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!(
                "gleh serve kept running instead of refusing to start; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("wait for gleh serve")
}

fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(String::from)
        .collect()
}

/// Index of the first line containing `needle` and none of `not`.
fn line_with(lines: &[String], needle: &str, not: &[&str]) -> Option<usize> {
    lines
        .iter()
        .position(|l| l.contains(needle) && !not.iter().any(|n| l.contains(n)))
}

/// A 4xx `{"error": "<non-empty string>"}` with the given status.
fn assert_some_error(r: &Resp, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.body);
    let msg = r.json()["error"].as_str().map(str::to_string);
    assert!(
        msg.is_some_and(|m| !m.is_empty()),
        "error message expected: {}",
        r.body
    );
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "JSON error: {:?}",
        r.header("content-type")
    );
}

/// Any answer a client gets for bad input must be below 500.
fn no5xx(label: &str, r: Resp) -> Resp {
    assert!(
        r.status.as_u16() < 500,
        "{label}: server error {}: {}",
        r.status,
        r.body
    );
    r
}

fn migration_versions() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("migrations dir")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| n.ends_with(".sql") && !n.contains(".down."))
        .filter_map(|n| n.split('_').next().map(String::from))
        .collect();
    v.sort();
    v.dedup();
    assert!(!v.is_empty(), "no migrations found in {dir}");
    v
}

// ---------------------------------------------------------------------------------------
// A. Production guard and CLI
// ---------------------------------------------------------------------------------------

/// 1. Production without SECRET_KEY and DATABASE_URL: exit 1, one line for each problem,
///    reported together (GLEH_ENV and the FLASK_ENV fallback alike).
#[test]
fn a1_production_guard_reports_all_missing_settings() {
    for var in ["GLEH_ENV", "FLASK_ENV"] {
        let dir = tempfile::tempdir().unwrap();
        let env = env_vec(&[(var, "production"), ("BIND", "127.0.0.1:0")]);
        let out = serve_expecting_exit(dir.path(), &env);
        let lines = stderr_lines(&out);
        assert_eq!(out.status.code(), Some(1), "{var}: {lines:?}");
        assert!(
            line_with(&lines, "SECRET_KEY", &["DATABASE_URL"]).is_some(),
            "{var}: a line about SECRET_KEY: {lines:?}"
        );
        assert!(
            line_with(&lines, "DATABASE_URL", &["SECRET_KEY"]).is_some(),
            "{var}: a separate line about DATABASE_URL: {lines:?}"
        );
        assert!(
            !dir.path().join("gleh.db").exists(),
            "{var}: no default database created on refusal"
        );
    }
}

/// 2. A short SECRET_KEY and the example key of docs/checklist.md §3 are refused in production.
#[test]
fn a2_production_guard_rejects_weak_secret_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    let base = |key: &str| {
        env_vec(&[
            ("GLEH_ENV", "production"),
            ("SECRET_KEY", key),
            ("DATABASE_URL", &db),
            ("BIND", "127.0.0.1:0"),
        ])
    };

    let out = serve_expecting_exit(dir.path(), &base("0123456789abcdef"));
    let lines = stderr_lines(&out);
    assert_eq!(out.status.code(), Some(1), "{lines:?}");
    assert!(
        line_with(&lines, "SECRET_KEY", &[]).is_some(),
        "a line about SECRET_KEY: {lines:?}"
    );

    let out = serve_expecting_exit(dir.path(), &base(SEED_EXAMPLE_KEY));
    let lines = stderr_lines(&out);
    assert_eq!(out.status.code(), Some(1), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("SECRET_KEY") && l.to_lowercase().contains("example")),
        "a line saying the key is the example value: {lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains(SEED_EXAMPLE_KEY)),
        "the key itself is not echoed: {lines:?}"
    );

    // Control: the same configuration with a good key passes the guard.
    let out = run(dir.path(), &base(SECRET), &["config"], None);
    assert!(
        out.status.success(),
        "a good key is accepted: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 3. `gleh config`: the four lines of docs/checklist.md §7 first, secrets redacted; development values.
#[test]
fn a3_config_prints_seed_lines_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = "postgresql://gammons_user:STRONG_PASSWORD@prod-db.internal/gammons_prod";
    let env = env_vec(&[
        ("GLEH_ENV", "production"),
        ("SECRET_KEY", SECRET),
        ("DATABASE_URL", db_url),
    ]);
    let out = run(dir.path(), &env, &["config"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let first: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(
        first,
        [
            "SESSION_COOKIE_SECURE: True",
            "SESSION_COOKIE_HTTPONLY: True",
            "SESSION_COOKIE_SAMESITE: Lax",
            "PERMANENT_SESSION_LIFETIME: 3600",
        ],
        "{text}"
    );
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(SECRET), "secret printed: {all}");
    assert!(
        !all.contains("STRONG_PASSWORD"),
        "database password printed: {all}"
    );

    // Development (no GLEH_ENV): not Secure, one day of idle lifetime; still no secret.
    let dev_db = format!("sqlite://{}", dir.path().join("dev.db").display());
    let env = env_vec(&[("SECRET_KEY", SECRET), ("DATABASE_URL", &dev_db)]);
    let out = run(dir.path(), &env, &["config"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"SESSION_COOKIE_SECURE: False"),
        "{text}"
    );
    assert!(
        lines.contains(&"PERMANENT_SESSION_LIFETIME: 86400"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "secret printed: {text}");
}

/// 4. `gleh gen-secret`: 64 lowercase hex characters, fresh each time.
#[test]
fn a4_gen_secret_prints_fresh_hex_keys() {
    let dir = tempfile::tempdir().unwrap();
    let gen_key = || {
        let out = run(dir.path(), &[], &["gen-secret"], None);
        assert_eq!(out.status.code(), Some(0));
        let s = String::from_utf8(out.stdout).unwrap();
        let key = s.trim().to_string();
        assert_eq!(key.len(), 64, "{s:?}");
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "lowercase hex: {key}"
        );
        key
    };
    let (a, b) = (gen_key(), gen_key());
    assert_ne!(a, b, "two runs print different secrets");
}

/// 5. `gleh migrate --check` on a fresh database names the pending migration and exits 1; a
///    production server refuses to start on it; `gleh migrate` applies it; `--check` is then 0.
async fn a5_migrate_check(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = db.dir();
    let env = env_vec(&[("DATABASE_URL", &db.url)]);
    let versions = migration_versions();

    let out = run(&dir, &env, &["migrate", "--check"], None);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "pending migrations: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for v in &versions {
        assert!(stdout.contains(v.as_str()), "names migration {v}: {stdout}");
    }

    // Production never migrates by itself and will not serve an unmigrated database.
    let prod = env_vec(&[
        ("GLEH_ENV", "production"),
        ("SECRET_KEY", SECRET),
        ("DATABASE_URL", &db.url),
        ("SESSION_COOKIE_SECURE", "false"),
        ("BIND", "127.0.0.1:0"),
    ]);
    let out = serve_expecting_exit(&dir, &prod);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("migrat"), "says migrations are pending: {err}");
    // ...and did not apply them either.
    let out = run(&dir, &env, &["migrate", "--check"], None);
    assert_eq!(out.status.code(), Some(1), "still pending after refusal");

    let out = run(&dir, &env, &["migrate"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&dir, &env, &["migrate", "--check"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Idempotent.
    let out = run(&dir, &env, &["migrate"], None);
    assert_eq!(out.status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------
// B. Bad input
// ---------------------------------------------------------------------------------------

/// 6. Malformed, mistyped, oversized and misrouted requests: 4xx JSON, never a 5xx, and no
///    half-written account.
async fn b6_bad_input_never_5xx(backend: Backend) {
    let s = Server::start(backend, &[("AUTH_RATE_LIMIT", "10000")]).await;
    s.create_user("hardy", PW);
    let mut me = s.client();
    let r = no5xx("login", me.login("hardy", PW).await);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = me.csrf().await;
    let users_before = s.db.count("users").await;
    let mut anon = s.client();

    for path in ["/api/login", "/api/register"] {
        let r = anon
            .post(path)
            .body("application/json", "{\"username\": \"x\",")
            .send()
            .await;
        let r = no5xx(path, r);
        assert_error(&r, StatusCode::BAD_REQUEST, "Malformed JSON.");

        let r = anon
            .post(path)
            .body("application/json", r#"["hardy", "x"]"#)
            .send()
            .await;
        assert_some_error(&no5xx(path, r), StatusCode::BAD_REQUEST);

        let r = anon
            .post(path)
            .body(
                "text/plain",
                r#"{"username":"someone","password":"correct-horse-battery-1"}"#,
            )
            .send()
            .await;
        let r = no5xx(path, r);
        assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json.",
        );

        for body in [
            json!({}),
            json!({"username": "someone"}),
            json!({"password": PW}),
            json!({"username": "", "password": ""}),
        ] {
            let r = no5xx(path, anon.post(path).json(&body).send().await);
            assert_error(
                &r,
                StatusCode::BAD_REQUEST,
                "Username and password are required.",
            );
        }

        for body in [
            json!({"username": 123, "password": "x"}),
            json!({"username": "someone", "password": ["x"]}),
            json!({"username": {"a": 1}, "password": PW}),
        ] {
            let r = no5xx(path, anon.post(path).json(&body).send().await);
            assert_some_error(&r, StatusCode::BAD_REQUEST);
        }

        for len in [65, 10_000] {
            let name = "u".repeat(len);
            let r = no5xx(
                path,
                anon.post(path)
                    .json(&json!({"username": name, "password": PW}))
                    .send()
                    .await,
            );
            assert_some_error(&r, StatusCode::BAD_REQUEST);
        }

        for len in [1025, 100 * 1024] {
            let pw = "p".repeat(len);
            let r = no5xx(
                path,
                anon.post(path)
                    .json(&json!({"username": "longpw_user", "password": pw}))
                    .send()
                    .await,
            );
            assert_some_error(&r, StatusCode::BAD_REQUEST);
        }

        for bad in ["nul\u{0}user", "new\nline", "tab\tuser", "del\u{7f}user"] {
            let r = no5xx(
                path,
                anon.post(path)
                    .json(&json!({"username": bad, "password": PW}))
                    .send()
                    .await,
            );
            assert_some_error(&r, StatusCode::BAD_REQUEST);
        }
    }

    // Bodies over MAX_REQUEST_BODY_SIZE (5 MiB).
    let big = format!(
        "{{\"username\":\"big_user\",\"password\":\"{}\"}}",
        "a".repeat(6 * 1024 * 1024)
    );
    // After a 413 the server reads and discards the rest of the body within bounds
    // (src/http/drain.rs) and may still close the connection past them, so each oversized
    // request goes on a throwaway client: reusing the HTTP pool would race such a close.
    let r = s
        .client()
        .post("/api/register")
        .body("application/json", big)
        .send()
        .await;
    assert_some_error(&no5xx("6 MiB register", r), StatusCode::PAYLOAD_TOO_LARGE);
    let big_profile = format!("{{\"about_me\":\"{}\"}}", "a".repeat(6 * 1024 * 1024));
    let mut throwaway = s.client();
    throwaway.cookies = me.cookies.clone();
    let r = throwaway
        .post("/api/profile")
        .header("X-CSRFToken", &token)
        .body("application/json", big_profile)
        .send()
        .await;
    let r = no5xx("6 MiB profile", r);
    assert_some_error(&r, StatusCode::PAYLOAD_TOO_LARGE);

    // Unknown route and wrong methods.
    let r = no5xx("nope", me.get("/api/nope").send().await);
    assert_error(&r, StatusCode::NOT_FOUND, "Not found.");
    let r = no5xx("nope anon", anon.get("/api/nope").send().await);
    assert_error(&r, StatusCode::NOT_FOUND, "Not found.");

    let r = no5xx("GET /api/login", me.get("/api/login").send().await);
    assert_some_error(&r, StatusCode::METHOD_NOT_ALLOWED);
    for (method, path) in [
        (Method::DELETE, "/api/content"),
        (Method::PUT, "/api/profile"),
        (Method::TRACE, "/"),
    ] {
        let label = format!("{method} {path}");
        let r = me
            .req(method, path)
            .header("X-CSRFToken", &token)
            .send()
            .await;
        let r = no5xx(&label, r);
        assert_some_error(&r, StatusCode::METHOD_NOT_ALLOWED);
    }

    // Profile fields of the wrong type or length.
    let r = me
        .post("/api/profile")
        .header("X-CSRFToken", &token)
        .json(&json!({"about_me": 5}))
        .send()
        .await;
    assert_some_error(&no5xx("about_me 5", r), StatusCode::BAD_REQUEST);
    let r = me
        .post("/api/profile")
        .header("X-CSRFToken", &token)
        .json(&json!({"about_me": "x".repeat(3000)}))
        .send()
        .await;
    assert_some_error(&no5xx("about_me 3000", r), StatusCode::BAD_REQUEST);
    // The profile is unchanged and the session still works.
    let r = no5xx("profile", me.get("/api/profile").send().await);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["user"]["about_me"], "");

    assert_eq!(
        s.db.count("users").await,
        users_before,
        "rejected registrations wrote nothing"
    );
    let logs = s.logs().join("\n");
    assert!(
        !logs.contains("\"event\":\"panic\"") && !logs.contains("internal_error"),
        "no internal error logged:\n{logs}"
    );
}

// ---------------------------------------------------------------------------------------
// C. Logs
// ---------------------------------------------------------------------------------------

struct Sent {
    method: &'static str,
    path: &'static str,
    status: u16,
    request_id: String,
}

fn record(sent: &mut Vec<Sent>, method: &'static str, path: &'static str, r: &Resp) {
    let request_id = r
        .header("x-request-id")
        .unwrap_or_else(|| panic!("{method} {path}: no x-request-id header"));
    assert!(!request_id.is_empty());
    sent.push(Sent {
        method,
        path,
        status: r.status.as_u16(),
        request_id,
    });
}

/// 7. JSON logs: an access line per request carrying the response's x-request-id, the
///    security events, and never a password, session id or CSRF token.
async fn c7_logs(backend: Backend) {
    let s = Server::start(
        backend,
        &[
            ("AUTH_RATE_LIMIT", "5"),
            ("PERMANENT_SESSION_LIFETIME", "2"),
        ],
    )
    .await;
    let user = "log_user";
    let wrong = "wrong-horse-battery-9";
    let mut sent = Vec::new();
    let mut a = s.client();

    // auth call 1
    let r = a.register(user, PW).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    record(&mut sent, "POST", "/api/register", &r);
    let rid_register = r.header("x-request-id").unwrap();

    // auth call 2
    let r = a.login(user, PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    record(&mut sent, "POST", "/api/login", &r);
    let rid_login = r.header("x-request-id").unwrap();
    let session_a = a.session().expect("session cookie");

    let r = a.get("/csrf-token").send().await;
    assert_eq!(r.status, StatusCode::OK);
    record(&mut sent, "GET", "/csrf-token", &r);
    let token = r.json()["csrf_token"].as_str().unwrap().to_string();

    let r = a
        .post("/api/profile")
        .header("X-CSRFToken", "invalid-token")
        .json(&json!({"about_me": "hello"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is invalid.");
    record(&mut sent, "POST", "/api/profile", &r);
    let rid_csrf = r.header("x-request-id").unwrap();

    let r = a
        .post("/api/profile")
        .header("X-CSRFToken", &token)
        .json(&json!({"about_me": "hello"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    record(&mut sent, "POST", "/api/profile", &r);

    // auth call 3: a wrong password
    let mut b = s.client();
    let r = b.login(user, wrong).await;
    assert_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "Invalid username or password.",
    );
    record(&mut sent, "POST", "/api/login", &r);
    let rid_failure = r.header("x-request-id").unwrap();

    let r = a.post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    record(&mut sent, "POST", "/api/logout", &r);
    let rid_logout = r.header("x-request-id").unwrap();

    // auth call 4, then let that session idle out.
    let mut c = s.client();
    let r = c.login(user, PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    record(&mut sent, "POST", "/api/login", &r);
    let session_c = c.session().expect("session cookie");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    record(&mut sent, "GET", "/api/check_session", &r);
    let rid_expired = r.header("x-request-id").unwrap();

    // auth call 5 is the last one allowed; 6 is over AUTH_RATE_LIMIT=5.
    let mut d = s.client();
    let r = d.login(user, PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    record(&mut sent, "POST", "/api/login", &r);
    let session_d = d.session().expect("session cookie");
    let r = d.login(user, PW).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.header("retry-after").is_some(), "429 has Retry-After");
    record(&mut sent, "POST", "/api/login", &r);
    let rid_limited = r.header("x-request-id").unwrap();

    // Wait for the reader thread to have every access line.
    let deadline = Instant::now() + Duration::from_secs(5);
    let events = loop {
        let events = s.log_events();
        let n = events.iter().filter(|e| e["event"] == "request").count();
        if n >= sent.len() || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Every line is JSON (log_events panics otherwise); one access line per request.
    let access: Vec<&Value> = events.iter().filter(|e| e["event"] == "request").collect();
    assert_eq!(
        access.len(),
        sent.len(),
        "one access line per request:\n{}",
        s.logs().join("\n")
    );
    for q in &sent {
        let line = access
            .iter()
            .find(|e| e["request_id"] == q.request_id.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "no access line with request_id {} ({} {})",
                    q.request_id, q.method, q.path
                )
            });
        assert_eq!(line["method"], q.method, "{line}");
        assert_eq!(line["path"], q.path, "{line}");
        assert_eq!(line["status"].as_u64(), Some(u64::from(q.status)), "{line}");
        assert!(line["latency_ms"].is_number(), "{line}");
        assert_eq!(line["ip"], "127.0.0.1", "{line}");
    }

    // The security events, each tied to the request that caused it.
    let find = |name: &str, rid: &str| -> Value {
        events
            .iter()
            .find(|e| e["event"] == name)
            .cloned()
            .map(|e| {
                assert_eq!(e["request_id"], rid, "{name} has the request's id: {e}");
                e
            })
            .unwrap_or_else(|| panic!("no {name} event in log:\n{}", s.logs().join("\n")))
    };
    let e = find("user_registered", &rid_register);
    assert_eq!(e["username"], user, "{e}");
    find("login_success", &rid_login);
    let e = find("login_failure", &rid_failure);
    assert_eq!(e["username"], user, "{e}");
    assert_eq!(e["ip"], "127.0.0.1", "{e}");
    find("csrf_failure", &rid_csrf);
    find("user_logout", &rid_logout);
    find("session_expired", &rid_expired);
    find("rate_limit_exceeded", &rid_limited);

    // No secrets anywhere in the whole log.
    let all = s.logs().join("\n");
    for (what, secret) in [
        ("password", PW),
        ("wrong password", wrong),
        ("session cookie", session_a.as_str()),
        ("session cookie", session_c.as_str()),
        ("session cookie", session_d.as_str()),
        ("CSRF token", token.as_str()),
    ] {
        assert!(!all.contains(secret), "the {what} appears in the log");
    }
}

// ---------------------------------------------------------------------------------------
// D. Pages and headers
// ---------------------------------------------------------------------------------------

/// No script and no absolute URL to another host (no CDN, no third-party anything).
fn assert_self_contained(page: &str, body: &str, base: &str) {
    assert!(
        !body.to_ascii_lowercase().contains("<script"),
        "{page} has a script"
    );
    for scheme in ["http://", "https://"] {
        for (at, _) in body.match_indices(scheme) {
            assert!(
                body[at..].starts_with(base),
                "{page} links to another host: {}",
                &body[at..(at + 80).min(body.len())]
            );
        }
    }
}

fn assert_html(r: &Resp) {
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
}

/// 8. The home page lists and filters the catalog; login and register carry a hidden CSRF
///    field; pages are self-contained; the stylesheet is CSS.
async fn d8_pages(backend: Backend) {
    let s = Server::start(backend, &[]).await;
    let mut c = s.client();

    let r = c.get("/").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_html(&r);
    for t in [
        "Featured Courses",
        "Linear Algebra",
        "Introduction to Algorithms",
        "Single Variable Calculus",
        "Kitchen Chemistry",
    ] {
        assert!(r.body.contains(t), "home page shows {t}");
    }
    assert_self_contained("/", &r.body, &s.base);

    let r = c.get("/?q=linear").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Linear Algebra"), "search finds it");
    for t in [
        "Kitchen Chemistry",
        "Single Variable Calculus",
        "Introduction to Biology",
    ] {
        assert!(!r.body.contains(t), "search filters out {t}");
    }

    for page in ["/login", "/register"] {
        let r = c.get(page).send().await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert_html(&r);
        assert!(r.body.contains("<form"), "{page} has a form");
        assert!(
            r.body
                .contains("<input type=\"hidden\" name=\"csrf_token\" value=\""),
            "{page} has a hidden csrf_token input"
        );
        form_token(&r.body);
        assert_self_contained(page, &r.body, &s.base);
    }

    let r = c.get("/static/style.css").send().await;
    assert_eq!(r.status, StatusCode::OK);
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/css"), "{ct}");
    assert_self_contained("/static/style.css", &r.body, &s.base);
}

/// Fetches the login page with a fresh (session-less) client and posts the form.
async fn form_login(s: &Server, username: &str, password: &str, next: &str) -> (Client, Resp) {
    let mut c = s.client();
    let page = c.get("/login").header("accept", "text/html").send().await;
    assert_eq!(page.status, StatusCode::OK);
    let token = form_token(&page.body);
    let r = c
        .post("/login")
        .header("accept", "text/html")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", password),
            ("next", next),
        ])
        .send()
        .await;
    (c, r)
}

/// 9. The HTML login form: token from the page, 303 to `next` with a cookie, the profile page,
///    a 401 page on a wrong password, no open redirect, and the anonymous /profile answers.
async fn d9_html_login_form(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("form_user", PW);

    let (mut c, r) = form_login(&s, "form_user", PW, "/profile").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/profile"));
    assert!(
        r.set_cookies().iter().any(|c| c.starts_with("session=")),
        "session cookie set: {:?}",
        r.set_cookies()
    );
    assert!(c.session().is_some());
    let r = c.get("/profile").header("accept", "text/html").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_html(&r);
    assert!(r.body.contains("form_user"));
    assert!(
        r.body.contains("<textarea name=\"about_me\""),
        "about-me textarea"
    );

    let (c2, r) = form_login(&s, "form_user", "wrong-horse-battery-9", "/profile").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_html(&r);
    assert!(
        r.body.contains("Invalid username or password."),
        "{}",
        r.body
    );
    assert!(c2.session().is_none(), "no session on a failed login");

    let (_, r) = form_login(&s, "form_user", PW, "https://evil.example").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/"),
        "no open redirect"
    );
    let (_, r) = form_login(&s, "form_user", PW, "//evil.example/x").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/"),
        "no open redirect"
    );

    let mut anon = s.client();
    let r = anon
        .get("/profile")
        .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/login?next=%2Fprofile")
    );
    for accept in ["application/json", "*/*"] {
        let r = anon.get("/profile").header("accept", accept).send().await;
        assert_some_error(&r, StatusCode::UNAUTHORIZED);
    }
}

fn assert_security_headers(label: &str, r: &Resp) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{label}: no Content-Security-Policy"));
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{label}: CSP has {directive}: {csp}"
        );
    }
    assert!(!csp.contains("unsafe-inline"), "{label}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{label}: {csp}");
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{label}"
    );
    assert_eq!(
        r.header("referrer-policy").as_deref(),
        Some("strict-origin-when-cross-origin"),
        "{label}"
    );
    assert_eq!(
        r.header("cross-origin-opener-policy").as_deref(),
        Some("same-origin"),
        "{label}"
    );
    for h in r.headers.keys() {
        assert!(
            !h.as_str().starts_with("access-control-"),
            "{label}: CORS header {h}"
        );
    }
    if !r.body.is_empty() {
        let ct = r
            .header("content-type")
            .unwrap_or_else(|| panic!("{label}: body without Content-Type"));
        assert!(
            ct.to_ascii_lowercase().contains("charset=utf-8"),
            "{label}: Content-Type names its charset: {ct}"
        );
    }
}

/// 10. Security headers on every kind of response; no CORS; HSTS only for HTTPS, which a
///     trusted proxy may vouch for with X-Forwarded-Proto.
async fn d10_security_headers(backend: Backend) {
    let s = Server::start(backend, &[]).await;
    s.create_user("hdr_user", PW);
    let mut c = s.client();
    let evil = "https://evil.example";

    let r = c.get("/").header("origin", evil).send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_html(&r);
    assert_security_headers("GET /", &r);

    let r = c.get("/login").header("origin", evil).send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_security_headers("GET /login", &r);

    let r = c.get("/api/content").header("origin", evil).send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_security_headers("GET /api/content", &r);

    let r = c.login("hdr_user", PW).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_security_headers("POST /api/login", &r);
    let r = c.get("/api/profile").header("origin", evil).send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_security_headers("GET /api/profile", &r);

    let r = c.get("/api/nope").header("origin", evil).send().await;
    assert_error(&r, StatusCode::NOT_FOUND, "Not found.");
    assert_security_headers("404 JSON", &r);
    let r = c
        .get("/no-such-page")
        .header("accept", "text/html")
        .header("origin", evil)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_security_headers("404 HTML", &r);

    let r = c.get("/api/login").header("origin", evil).send().await;
    assert_some_error(&r, StatusCode::METHOD_NOT_ALLOWED);
    assert_security_headers("405", &r);

    // A CORS preflight gets no CORS grant either.
    let r = c
        .req(Method::OPTIONS, "/api/profile")
        .header("origin", evil)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "x-csrftoken, content-type",
        )
        .send()
        .await;
    assert!(r.status.as_u16() < 500, "{}", r.status);
    assert_security_headers("OPTIONS preflight", &r);

    let r = c.get("/static/style.css").send().await;
    assert_security_headers("GET /static/style.css", &r);
    let r = c.get("/health").send().await;
    assert_security_headers("GET /health", &r);

    // HSTS: never on plain HTTP; yes when the (loopback, trusted by default) proxy says https.
    for path in ["/", "/api/content", "/api/nope"] {
        let r = c.get(path).send().await;
        assert_eq!(
            r.header("strict-transport-security"),
            None,
            "plain HTTP {path}"
        );
        let r = c
            .get(path)
            .header("x-forwarded-proto", "https")
            .send()
            .await;
        assert_eq!(
            r.header("strict-transport-security").as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "behind a trusted TLS proxy: {path}"
        );
    }
    drop(c);
    drop(s);

    // A client that is not a trusted proxy cannot claim https.
    let s = Server::start(backend, &[("TRUSTED_PROXIES", "192.0.2.0/24")]).await;
    let mut c = s.client();
    let r = c.get("/").header("x-forwarded-proto", "https").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("strict-transport-security"),
        None,
        "untrusted client's X-Forwarded-Proto ignored"
    );
    assert_security_headers("GET / (untrusted)", &r);
}

/// 11. Liveness and the deep health check.
async fn d11_health(backend: Backend) {
    let s = Server::start(backend, &[]).await;
    let mut c = s.client();
    let r = c.get("/health").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, r#"{"status":"ok"}"#);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json; charset=utf-8")
    );
    let r = c.get("/health/deep").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["components"]["database"]["status"], "healthy", "{v}");
    assert_eq!(v["status"], "healthy", "{v}");
}

both_backends!(
    a5_migrate_check,
    b6_bad_input_never_5xx,
    c7_logs,
    d8_pages,
    d9_html_login_form,
    d10_security_headers,
    d11_health,
);
