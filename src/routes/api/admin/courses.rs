//! `GET get-courses`, `POST scan-courses`, `DELETE delete-course/<id>[?files=1]`,
//! `POST autocategorize`, `POST upload-course` (multipart `file`, `?replace=1`).
//! The upload route reads its body itself, as a stream (`catalog::upload`), so neither
//! the global body limit nor the stack's overall timeout applies to it
//! (`http::streamed`); `COURSE_UPLOAD_MAX_BYTES` and an idle timeout do.

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{delete, get, post},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    admin::courses::{self, UploadRequest},
    auth::admin::AdminUser,
    http::{ApiError, ApiResult, Ctx, json, rejection::LenientQuery, streamed},
    state::AppState,
    time::iso8601,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/get-courses", get(list))
        .route("/api/admin/scan-courses", post(scan))
        .route("/api/admin/delete-course/{id}", delete(remove))
        .route("/api/admin/autocategorize", post(autocategorize))
        .route(streamed::COURSE_UPLOAD_API, post(upload))
}

async fn list(State(state): State<AppState>, AdminUser(_): AdminUser) -> ApiResult<Response> {
    let items: Vec<_> = courses::list(&state)
        .await?
        .iter()
        .map(|l| {
            let cats = l.course.category_list();
            let categories = if cats.is_empty() {
                "Uncategorized".to_string()
            } else {
                cats.join(", ")
            };
            json!({"id": l.id, "uid": l.course.uid, "title": l.course.title,
                   "has_thumbnail": !l.course.thumbnail_url().is_empty(),
                   "categories": categories, "created_at": iso8601(l.created_at)})
        })
        .collect();
    Ok(json(StatusCode::OK, json!({ "courses": items })))
}

async fn scan(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    let r = courses::scan(&state, &ctx, &s).await?;
    Ok(json(
        StatusCode::OK,
        json!({"total": r.total(), "new": r.new, "existing": r.existing,
               "skipped": r.skipped, "message": r.message()}),
    ))
}

#[derive(Deserialize, Default)]
struct Flags {
    #[serde(default)]
    files: Option<String>,
    #[serde(default)]
    replace: Option<String>,
}

async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    Path(id): Path<String>,
    LenientQuery(q): LenientQuery<Flags>,
) -> ApiResult<Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "Course not found"));
    };
    courses::delete(&state, &ctx, &s, id, courses::flag(&q.files)).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Course deleted successfully"}),
    ))
}

async fn autocategorize(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    let n = courses::autocategorize(&state, &ctx, &s).await?;
    Ok(json(StatusCode::OK, json!({ "updated": n })))
}

async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    LenientQuery(q): LenientQuery<Flags>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let req = UploadRequest::new(&headers, body, courses::flag(&q.replace));
    let done = courses::upload(&state, &ctx, &s, req).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Course uploaded successfully", "filename": done.folder,
               "folder": done.folder, "new": done.new, "replaced": done.replaced}),
    ))
}
