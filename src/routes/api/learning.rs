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
struct ProgressBody {
    course_uid: String,
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
struct NoteBody {
    course_uid: String,
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

async fn set_progress(
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

async fn save_note(
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

async fn get_note(
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
