//! `GET /openapi.json` (issue 12 point 1; docs/design.md "HTTP contract"), and the answers
//! schemathesis's run (tests/schemathesis/run.sh) holds the server to: every error a JSON
//! `{"error": …}` the document lists. Every test runs on SQLite and on PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, PW, assert_error, logged_in, new_user_with_token, start};

both_backends!(
    the_document_is_served_with_the_configured_cookie,
    a_path_parameter_that_is_not_utf8_is_a_json_404,
);

async fn the_document_is_served_with_the_configured_cookie(backend: Backend) {
    let s = start(backend, &[("SESSION_COOKIE_NAME", "gleh_sid")]).await;
    let mut c = s.client();
    let r = c.get("/openapi.json").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    let doc: Value = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "gleh_sid");
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "X-CSRFToken");
    for (path, method) in [
        ("/api/login", "post"),
        ("/api/profile", "get"),
        ("/api/admin/users", "get"),
        ("/health/deep", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}

/// Found by reading the handlers for the document: axum's `Path<String>` refused a
/// percent-encoded parameter that is not UTF-8 with a plain-text 400, which no JSON client
/// (and no OpenAPI document) expects. Such a name names nothing: a JSON 404.
async fn a_path_parameter_that_is_not_utf8_is_a_json_404(backend: Backend) {
    let s = start(backend, &[]).await;
    let (mut c, token) = new_user_with_token(&s, "walker").await;
    let r = c
        .req(Method::DELETE, "/api/sessions/%FF%FE")
        .header("X-CSRFToken", &token)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "Not found.");
    let r = c.get("/avatars/%FF.png").send().await;
    assert_error(&r, StatusCode::NOT_FOUND, "Not found.");

    let out = s.cli(&["user", "create", "root", "--admin"], Some(PW));
    assert!(out.status.success(), "{out:?}");
    let mut admin = logged_in(&s, "root", PW).await;
    let token = admin.csrf().await;
    let r = admin
        .req(Method::DELETE, "/api/admin/delete-course/%FF")
        .header("X-CSRFToken", &token)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "Course not found");
}
