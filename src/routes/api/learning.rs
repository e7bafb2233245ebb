//! Progress and notes as JSON (docs/original.md "Progress and notes"):
//! `POST /api/course/progress {course_uid, status}`, `GET /api/course/{uid}/note`,
//! `POST /api/course/note {course_uid, content}`. The rules are `crate::learning`'s.

use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::json;
use utoipa::ToSchema;

use super::openapi::{ErrorBody, JsonIn, MessageBody, SignedIn};

use crate::{
    auth::CurrentUser,
    http::{
        ApiError, ApiResult, JsonObject, json,
        rejection::{FromJson, JsonBody},
    },
    learning::{self, course_not_found},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/course/progress", post(set_progress))
        .route("/api/course/note", post(save_note))
        .route("/api/course/{uid}/note", get(get_note))
}

fn required(body: &JsonObject, name: &str) -> ApiResult<String> {
    body.opt_str(name)?
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required.")))
}

/// `{course_uid, status}`, both required.
#[derive(ToSchema)]
pub(crate) struct ProgressBody {
    course_uid: String,
    #[schema(value_type = crate::routes::api::openapi::ProgressStatusName)]
    status: String,
}

impl FromJson for ProgressBody {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        Ok(ProgressBody {
            course_uid: required(body, "course_uid")?,
            status: required(body, "status")?,
        })
    }
}

/// `{course_uid, content?}`; as in the original, a missing content is the empty note.
#[derive(ToSchema)]
pub(crate) struct NoteBody {
    course_uid: String,
    /// At most 20,000 characters (`learning::MAX_NOTE_CHARS`), no control characters but
    /// tab and line breaks.
    #[schema(required = false, max_length = 20000)]
    content: String,
}

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct NoteAnswer {
    /// `""` when there is none.
    content: String,
}

impl FromJson for NoteBody {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        Ok(NoteBody {
            course_uid: required(body, "course_uid")?,
            content: body.opt_str("content")?.unwrap_or("").to_string(),
        })
    }
}

/// Sets the caller's status on a course.
#[utoipa::path(post, path = "/api/course/progress", operation_id = "set_course_progress", tag = "learning", request_body = ProgressBody,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Saved", body = MessageBody),
        (status = 404, description = "`Course not found.`", body = ErrorBody),
    ))]
pub(crate) async fn set_progress(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<ProgressBody>,
) -> ApiResult<Response> {
    learning::set_progress(&state, s.user.id, &body.course_uid, &body.status).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Progress updated successfully."}),
    ))
}

/// Saves the caller's note on a course.
#[utoipa::path(post, path = "/api/course/note", operation_id = "save_course_note", tag = "learning", request_body = NoteBody,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Saved", body = MessageBody),
        (status = 404, description = "`Course not found.`", body = ErrorBody),
    ))]
pub(crate) async fn save_note(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<NoteBody>,
) -> ApiResult<Response> {
    learning::save_note(&state, s.user.id, &body.course_uid, &body.content).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Note saved successfully."}),
    ))
}

/// The caller's note on a course.
#[utoipa::path(get, path = "/api/course/{uid}/note", operation_id = "get_course_note", tag = "learning",
    params(("uid" = String, Path, description = "The course's uid")),
    security(("session" = [])),
    responses(SignedIn,
        (status = 200, description = "The note", body = NoteAnswer),
        (status = 404, description = "`Course not found.`", body = ErrorBody),
    ))]
pub(crate) async fn get_note(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    uid: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Ok(Path(uid)) = uid else {
        return Err(course_not_found());
    };
    let content = learning::note(&state, s.user.id, &uid).await?;
    Ok(json(StatusCode::OK, json!({"content": content})))
}
