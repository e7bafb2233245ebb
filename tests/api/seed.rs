//! The application checks of docs/checklist.md (§7, §10–§14), one test per step, exactly as the
//! seed's curl commands send them: no CSRF token on register, login and logout. Each runs
//! in development mode and again in production mode with `SESSION_COOKIE_SECURE=false`
//! (plain HTTP; the Secure flag is issue 3's TLS tests).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, Client, SECRET, Server, env_vec, production_env, run};

/// Runs `f` against a development server and a production one.
async fn dev_and_prod(backend: Backend, extra: &[(&str, &str)], f: impl AsyncFn(&Server)) {
    let dev = Server::start(backend, extra).await;
    f(&dev).await;
    drop(dev);
    let mut env = production_env();
    env.extend_from_slice(extra);
    let prod = Server::start(backend, &env).await;
    f(&prod).await;
}

/// §10: `curl -I /` is 200; `/api/content` is 200 with course JSON, no auth.
async fn s10_connectivity(backend: Backend) {
    dev_and_prod(backend, &[], async |s: &Server| {
        let mut c = s.client();
        let head = c.req(Method::HEAD, "/").send().await;
        assert_eq!(head.status, StatusCode::OK);
        let r = c.get("/api/content").send().await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.json()["content"].is_array());
    })
    .await;
    // Development mode seeds the sample catalog.
    let s = Server::start(backend, &[]).await;
    let r = s.client().get("/api/content").send().await;
    let items = r.json()["content"].as_array().cloned().unwrap_or_default();
    assert!(items.len() >= 12, "sample catalog seeded: {}", items.len());
    for key in [
        "type",
        "uid",
        "title",
        "path",
        "description",
        "categories",
        "thumbnail",
        "user_progress",
        "user_note",
    ] {
        assert!(items[0].get(key).is_some(), "content item has {key}");
    }
}

/// §11 Test 1: the login's Set-Cookie has Path=/, HttpOnly and SameSite=Lax (Secure is off
/// on plain HTTP).
async fn s11_cookie_flags(backend: Backend) {
    dev_and_prod(backend, &[], async |s: &Server| {
        s.create_user("test_user", "test_password");
        let mut c = s.client();
        let r = c.login("test_user", "test_password").await;
        assert_eq!(r.status, StatusCode::OK);
        let cookie = r
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("session="))
            .expect("session cookie");
        assert!(cookie.contains("; Path=/"), "{cookie}");
        assert!(cookie.contains("; HttpOnly"), "{cookie}");
        assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    })
    .await;
}

/// §12: with PERMANENT_SESSION_LIFETIME=2, a session works at once and is a 401 after 3 s.
async fn s12_timeout(backend: Backend) {
    dev_and_prod(
        backend,
        &[("PERMANENT_SESSION_LIFETIME", "2")],
        async |s: &Server| {
            s.create_user("test_user", "test_password");
            let mut c = s.client();
            let r = c.login("test_user", "test_password").await;
            assert_eq!(r.json()["user"]["id"], 1);
            let r = c.get("/api/check_session").send().await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.json()["is_authenticated"], true);
            tokio::time::sleep(Duration::from_secs(3)).await;
            let r = c.get("/api/check_session").send().await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert_eq!(r.json(), json!({"is_authenticated": false}));
        },
    )
    .await;
}

/// §13: a token fetched without the cookie jar (as docs/checklist.md §13 does) updates the profile;
/// `invalid-token` is a 400 with a CSRF message.
async fn s13_csrf(backend: Backend) {
    dev_and_prod(backend, &[], async |s: &Server| {
        s.create_user("test_user", "test_password");
        let mut c = s.client();
        c.login("test_user", "test_password").await;
        let token = Client::new(&s.base).csrf().await;
        let r = c
            .post("/api/profile")
            .header("X-CSRFToken", &token)
            .json(&json!({"about_me": "Test bio"}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["message"], "Profile updated successfully");
        let r = c
            .post("/api/profile")
            .header("X-CSRFToken", "invalid-token")
            .json(&json!({"about_me": "Test bio"}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"], "The CSRF token is invalid.");
    })
    .await;
}

/// §14: register 201, login 200 with a cookie, /profile 200, logout 200, /profile 401.
async fn s14_auth_flow(backend: Backend) {
    dev_and_prod(backend, &[], async |s: &Server| {
        let mut c = s.client();
        let r = c.register("aegis_test_user", "TestPassword123").await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.json()["message"], "User registered successfully.");
        let r = c.login("aegis_test_user", "TestPassword123").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["message"], "Login successful.");
        assert!(c.session().is_some());
        let r = c.get("/profile").send().await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("aegis_test_user"));
        let copy = c.cookies.clone();
        let r = c.post("/api/logout").send().await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["message"], "Logout successful.");
        c.cookies = copy; // curl's jar keeps the old cookie file: it must be worthless now
        let r = c.get("/profile").send().await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

/// §7: `gleh config` in production prints the four lines docs/checklist.md §7 expects.
#[test]
fn s07_config_lines() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_vec(&[
        ("FLASK_ENV", "production"),
        ("SECRET_KEY", SECRET),
        (
            "DATABASE_URL",
            "postgresql://gammons_user:STRONG_PASSWORD@prod-db.internal/gammons_prod",
        ),
    ]);
    let out = run(dir.path(), &env, &["config"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(
        "SESSION_COOKIE_SECURE: True\nSESSION_COOKIE_HTTPONLY: True\nSESSION_COOKIE_SAMESITE: Lax\nPERMANENT_SESSION_LIFETIME: 3600\n"
    ), "{text}");
    assert!(
        !text.contains(SECRET) && !text.contains("STRONG_PASSWORD"),
        "secrets redacted: {text}"
    );
}

both_backends!(
    s10_connectivity,
    s11_cookie_flags,
    s12_timeout,
    s13_csrf,
    s14_auth_flow
);
