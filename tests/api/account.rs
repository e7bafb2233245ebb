//! Self-service account deletion: `DELETE /api/account {password}`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, Server};

async fn delete_own_account(backend: Backend) {
    let s = Server::start(backend, &[("AUTH_RATE_LIMIT", "100")]).await;
    let mut c = s.client();
    assert_eq!(
        c.register("leaver", "correct-horse-battery-1").await.status,
        StatusCode::CREATED
    );
    c.login("leaver", "correct-horse-battery-1").await;
    let copy = c.cookies.clone();
    let token = c.csrf().await;

    // Anonymous, no token, wrong password: refused and nothing deleted.
    let mut anon = s.client();
    let r = anon
        .req(Method::DELETE, "/api/account")
        .header("X-CSRFToken", &token)
        .json(&json!({"password": "x"}))
        .send()
        .await;
    assert!(
        r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNAUTHORIZED,
        "{}",
        r.status
    );
    let r = c
        .req(Method::DELETE, "/api/account")
        .json(&json!({"password": "correct-horse-battery-1"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "The CSRF token is missing.");
    let r = c
        .req(Method::DELETE, "/api/account")
        .header("X-CSRFToken", &token)
        .json(&json!({"password": "wrong-password-1"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "Password is incorrect.");
    let r = c
        .req(Method::DELETE, "/api/account")
        .header("X-CSRFToken", &token)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.db.count("users").await, 1);

    let r = c
        .req(Method::DELETE, "/api/account")
        .header("X-CSRFToken", &token)
        .json(&json!({"password": "correct-horse-battery-1"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["message"], "Account deleted.");
    assert!(r.header("clear-site-data").is_some());
    assert_eq!(s.db.count("users").await, 0);
    assert_eq!(s.db.count("sessions").await, 0);
    c.cookies = copy;
    assert_eq!(
        c.get("/api/check_session").send().await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        c.login("leaver", "correct-horse-battery-1").await.status,
        StatusCode::UNAUTHORIZED
    );
    s.wait_event("account_deleted").await;
}

both_backends!(delete_own_account);
