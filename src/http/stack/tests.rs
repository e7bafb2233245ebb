use axum::{
    body::Body,
    http::{Request, StatusCode},
    routing::get,
};
use serde_json::Value;
use tower::ServiceExt as _;

use super::*;
use crate::{
    http::security_headers::tests::{expected, pairs},
    logging::capture::{Buf, capture_async},
};

/// Serves one GET `path` through the stack around `routes`, capturing the logs.
async fn get_once(routes: Router<AppState>, path: &str) -> (Response, Vec<Value>) {
    let app = apply(routes, crate::state::for_tests().await);
    let req = Request::get(path).body(Body::empty()).unwrap();
    let (res, logs): (_, Buf) = capture_async(app.oneshot(req)).await;
    let events = logs
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (res.unwrap(), events)
}

#[tokio::test]
async fn a_panicking_handler_is_a_framed_json_500() {
    async fn boom() -> &'static str {
        panic!("handler bug")
    }
    let routes = Router::new().route("/boom", get(boom));
    let (res, events) = get_once(routes, "/boom").await;

    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = res.headers().clone();
    let rid = headers.remove("x-request-id").expect("x-request-id");
    let rid = rid.to_str().unwrap().to_string();
    assert_eq!(rid.len(), 24, "{rid}");
    assert_eq!(
        headers.remove("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
    headers.remove("content-length");
    let want: Vec<(String, String)> = expected(false)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(pairs(&headers), want);
    let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], br#"{"error":"Internal server error."}"#);

    let panic = events
        .iter()
        .find(|e| e["event"] == "panic")
        .expect("panic event");
    assert_eq!(panic["request_id"], rid.as_str(), "{panic}");
    assert_eq!(panic["route"], "/boom", "{panic}");
    assert_eq!(panic["ip"], "127.0.0.1", "{panic}");
    assert_eq!(panic["error"], "handler bug", "{panic}");
    let access = events
        .iter()
        .find(|e| e["event"] == "request")
        .expect("access line");
    assert_eq!(access["request_id"], rid.as_str(), "{access}");
    assert_eq!(access["status"], 500, "{access}");
    assert_eq!(access["path"], "/boom", "{access}");
    assert!(
        access.get("route").is_none(),
        "the access line keeps its fields: {access}"
    );
}

#[tokio::test]
async fn an_internal_error_is_logged_once_by_the_frame() {
    let routes = Router::new().route(
        "/fail",
        get(|| async { Err::<(), _>(ApiError::internal("disk on fire")) }),
    );
    let (res, events) = get_once(routes, "/fail").await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let errors: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "internal_error")
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_eq!(errors[0]["error"], "disk on fire");
    assert_eq!(errors[0]["request_id"], rid.as_str());
    assert_eq!(errors[0]["route"], "/fail");
}

#[tokio::test]
async fn an_unmatched_request_runs_in_the_span_too() {
    let routes = Router::new().fallback(|| async { ApiError::internal("no route") });
    let (res, events) = get_once(routes, "/nowhere").await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let e = events
        .iter()
        .find(|e| e["event"] == "internal_error")
        .expect("internal_error");
    assert_eq!(e["route"], "unmatched", "{e}");
}

/// Past `REQUEST_TIMEOUT` a request is answered 408 — except on the streamed upload
/// routes (`http::streamed`), which bound themselves by size and idle time.
#[tokio::test]
async fn the_overall_timeout_spares_only_the_streamed_uploads() {
    async fn slow() -> &'static str {
        tokio::time::sleep(REQUEST_TIMEOUT * 3).await;
        "done"
    }
    let routes = Router::new()
        .route("/slow", get(slow))
        .route(crate::http::streamed::COURSE_UPLOAD_API, get(slow))
        .route(crate::http::streamed::COURSE_UPLOAD_PAGE, get(slow));
    let app = apply(routes, crate::state::for_tests().await);
    // Virtual time from here on (the database is already open).
    tokio::time::pause();
    let call = |path: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::get(path).body(Body::empty()).unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(call("/slow").await, StatusCode::REQUEST_TIMEOUT);
    // Like every error, a JSON `{"error": …}` (docs/design.md "HTTP contract").
    let req = Request::get("/slow").body(Body::empty()).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, serde_json::json!({"error": "Request timed out."}));
    assert_eq!(
        call(crate::http::streamed::COURSE_UPLOAD_API).await,
        StatusCode::OK
    );
    assert_eq!(
        call(crate::http::streamed::COURSE_UPLOAD_PAGE).await,
        StatusCode::OK
    );
}
