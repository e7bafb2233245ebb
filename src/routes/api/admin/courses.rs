//! `GET get-courses`, `POST scan-courses`, `DELETE delete-course/<id>[?files=1]`,
//! `POST autocategorize`, `POST upload-course` (multipart `file`, `?replace=1`).
//! The upload route reads its body itself, as a stream (`catalog::upload`), so neither
//! the global body limit nor the stack's overall timeout applies to it
//! (`http::streamed`); `COURSE_UPLOAD_MAX_BYTES` and an idle timeout do.

use axum::{
    Router,
    body::Body,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{delete, get, post},
};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    admin::courses::{self, UploadRequest},
    auth::admin::AdminUser,
    http::{ApiError, ApiResult, Ctx, json, rejection::LenientQuery, streamed},
    routes::api::openapi::{Admin, ErrorBody, MessageBody},
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

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct CourseRow {
    id: i64,
    uid: String,
    title: String,
    has_thumbnail: bool,
    /// Comma-separated, `Uncategorized` when none.
    categories: String,
    created_at: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct CourseList {
    courses: Vec<CourseRow>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ScanReport {
    total: i64,
    new: i64,
    existing: i64,
    skipped: i64,
    message: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Categorized {
    updated: i64,
}

/// A multipart form with the course zip in its `file` part.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    #[schema(value_type = String, format = Binary, content_media_type = "application/zip")]
    file: Vec<u8>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Uploaded {
    message: String,
    filename: String,
    folder: String,
    new: bool,
    replaced: bool,
}

/// The catalog's courses.
#[utoipa::path(get, path = "/api/admin/get-courses", operation_id = "admin_list_courses", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The courses", body = CourseList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Response> {
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

/// Imports every package folder under `CONTENT_DIR/courses`.
#[utoipa::path(post, path = "/api/admin/scan-courses", tag = "admin", security(("session" = [], "csrf" = [])),
    responses(Admin,
        (status = 200, description = "Scanned", body = ScanReport),
        (status = 400, description = "`Courses directory not found`", body = ErrorBody),
    ))]
pub(crate) async fn scan(
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

/// `1`, `true`, `yes` or `on` turn a flag on; a malformed query string counts as none.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Flags {
    /// `DELETE delete-course`: also remove the package's files.
    #[serde(default)]
    files: Option<String>,
    /// `POST upload-course`: replace a package of the same name.
    #[serde(default)]
    replace: Option<String>,
}

/// Deletes a course (and, with `files=1`, its package).
#[utoipa::path(delete, path = "/api/admin/delete-course/{id}", tag = "admin",
    params(("id" = String, Path, description = "The course's id"), Flags), security(("session" = [], "csrf" = [])),
    responses(Admin,
        (status = 200, description = "Deleted", body = MessageBody),
        (status = 404, description = "`Course not found`", body = ErrorBody),
    ))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    id: Result<Path<String>, PathRejection>,
    LenientQuery(q): LenientQuery<Flags>,
) -> ApiResult<Response> {
    let Some(id) = id.ok().and_then(|Path(id)| id.parse::<i64>().ok()) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "Course not found"));
    };
    courses::delete(&state, &ctx, &s, id, courses::flag(&q.files)).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Course deleted successfully"}),
    ))
}

/// Gives the uncategorized courses subjects from their titles.
#[utoipa::path(post, path = "/api/admin/autocategorize", tag = "admin", security(("session" = [], "csrf" = [])),
    responses(Admin, (status = 200, description = "Done", body = Categorized)))]
pub(crate) async fn autocategorize(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    let n = courses::autocategorize(&state, &ctx, &s).await?;
    Ok(json(StatusCode::OK, json!({ "updated": n })))
}

/// Uploads a course package (a zip), streamed to disk, checked and extracted.
#[utoipa::path(post, path = "/api/admin/upload-course", operation_id = "admin_upload_course", tag = "admin", params(Flags),
    request_body(content = UploadForm, content_type = "multipart/form-data"), security(("session" = [], "csrf" = [])),
    responses(Admin,
        (status = 200, description = "Uploaded", body = Uploaded),
        (status = 400, description = "Not a multipart body, no zip, or a package the checks refuse", body = ErrorBody),
        (status = 408, description = "The body stopped arriving (idle timeout)", body = ErrorBody),
        (status = 413, description = "Over `COURSE_UPLOAD_MAX_BYTES`", body = ErrorBody),
    ))]
pub(crate) async fn upload(
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
