//! Moving from the original (docs/design.md "Moving from the original"): the "password
//! change required" state of a weak login, `gleh import-gleh` of the fixture database
//! (`../shared/fixtures/gleh-db/`) as SQLite and as a PostgreSQL dump, and backups.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, Client, PW, assert_error, env_vec, logged_in, run, start},
};

/// A client held to "password change required" can reach only the password change,
/// logout and the session probes; changing the password clears it.
async fn assert_held_until_changed(c: &mut Client, current: &str) {
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["password_change_required"], true);
    for path in [
        "/api/content",
        "/api/profile",
        "/api/sessions",
        "/api/admin/users",
    ] {
        let r = c.get(path).send().await;
        assert_error(&r, StatusCode::FORBIDDEN, "Password change required");
    }
    for path in ["/", "/about", "/admin", "/course/x"] {
        let r = c.get(path).header("Accept", "text/html").send().await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.header("location").as_deref(), Some("/profile"), "{path}");
    }
    let r = c.get("/profile").header("Accept", "text/html").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("too short or too common"), "{}", r.body);
    let token = c.csrf().await;
    let r = c
        .post("/api/course/note")
        .header("X-CSRFToken", &token)
        .json(&json!({"course_uid": "x", "content": "y"}))
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "Password change required");
    let r = c
        .post("/api/profile/change-password")
        .header("X-CSRFToken", &token)
        .json(&json!({"current_password": current, "new_password": PW, "confirm_password": PW}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.json()["password_change_required"], false);
    assert_eq!(c.get("/api/content").send().await.status, StatusCode::OK);
}

async fn weak_login_must_change_password(backend: Backend) {
    // An account made when the minimum was 8, on a hub that now asks for 16.
    let s = start(backend, &[("MIN_PASSWORD_LENGTH", "16")]).await;
    let env = env_vec(&[("DATABASE_URL", &s.db.url)]);
    let out = run(
        &s.db.dir(),
        &env,
        &["user", "create", "olduser"],
        Some("Tr0ub4dor-x\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = logged_in(&s, "olduser", "Tr0ub4dor-x").await;
    assert_held_until_changed(&mut c, "Tr0ub4dor-x").await;
    // A strong password's login is not held.
    let mut c = logged_in(&s, "olduser", PW).await;
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.json()["password_change_required"], false);
}

both_backends!(weak_login_must_change_password);
