//! The embedded static assets: the stylesheet, the default avatar, and the admin's
//! upload progress script (allowed by the CSP of `/admin/courses` only).

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/static/style.css", get(stylesheet))
        .route("/static/default-avatar.svg", get(avatar_svg))
        .route("/static/admin-upload.js", get(upload_js))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/style.css"),
    )
}

async fn avatar_svg() -> Response {
    asset(
        "image/svg+xml; charset=utf-8",
        include_str!("../../assets/default-avatar.svg"),
    )
}

async fn upload_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin-upload.js"),
    )
}
