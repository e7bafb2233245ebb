//! Progress and notes, always the signed-in user's own (every query is keyed by the session's
//! user id; nothing in a request can name another user):
//! - JSON: `POST /api/course/progress {course_uid, status}`, `GET /api/course/{uid}/note`,
//!   `POST /api/course/note {course_uid, content}` (gleh-spec.md §1.3);
//! - HTML forms on the course page: `POST /course/{uid}/progress` (`status`) and
//!   `POST /course/{uid}/note` (`content`, its CRLF line breaks stored as LF), answering
//!   303 back to `/course/{uid}`; a validation failure is the same 4xx JSON as the API.
//!
//! Status must be exactly `Not Started`, `In Progress` or `Completed`; a note is at most
//! 20,000 characters without control characters other than tab and line breaks (the empty
//! note clears it).

use axum::{
    Form, Router,
    extract::{
        Path, State,
        rejection::{FormRejection, PathRejection},
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row as _;

use crate::{
    db::{Db, now},
    http::{ApiError, ApiResult, Ctx, JsonObject, guard::Authed, json},
    state::AppState,
};

pub const STATUSES: [&str; 3] = ["Not Started", "In Progress", "Completed"];
pub const MAX_NOTE_CHARS: usize = 20_000;
/// Longest course uid looked up; longer ones cannot exist.
const MAX_UID: usize = 255;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/course/progress", post(api_progress))
        .route("/api/course/note", post(api_save_note))
        .route("/api/course/{uid}/note", get(api_get_note))
        .route("/course/{uid}/progress", post(form_progress))
        .route("/course/{uid}/note", post(form_note))
}

fn course_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Course not found.")
}

pub fn validate_status(status: &str) -> ApiResult<()> {
    if STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Status must be one of: Not Started, In Progress, Completed.",
        ))
    }
}

pub fn validate_note(content: &str) -> ApiResult<()> {
    if content.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::bad_request(format!(
            "Note must not exceed {MAX_NOTE_CHARS} characters."
        )));
    }
    if content
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::bad_request(
            "Note must not contain control characters.",
        ));
    }
    Ok(())
}

/// The course's row id, or 404. Uids that cannot exist are refused without a query.
async fn course_id(db: &Db, uid: &str) -> ApiResult<i64> {
    if uid.is_empty() || uid.len() > MAX_UID || uid.chars().any(char::is_control) {
        return Err(course_not_found());
    }
    let row = sqlx::query("SELECT id FROM courses WHERE uid = $1")
        .bind(uid)
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(r) => Ok(r.try_get(0)?),
        None => Err(course_not_found()),
    }
}

async fn set_progress(
    state: &AppState,
    ctx: &Ctx,
    user_id: i64,
    uid: &str,
    status: &str,
) -> ApiResult<()> {
    validate_status(status)?;
    let course = course_id(&state.db, uid).await?;
    sqlx::query(
        "INSERT INTO course_progress (user_id, course_id, status, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, course_id) DO UPDATE SET status = excluded.status, \
           updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(course)
    .bind(status)
    .bind(now())
    .execute(&state.db.pool)
    .await?;
    tracing::info!(event = "progress_updated", request_id = %ctx.request_id, user_id,
                   course_uid = %uid, status);
    Ok(())
}

async fn save_note(
    state: &AppState,
    ctx: &Ctx,
    user_id: i64,
    uid: &str,
    content: &str,
) -> ApiResult<()> {
    validate_note(content)?;
    let course = course_id(&state.db, uid).await?;
    sqlx::query(
        "INSERT INTO course_notes (user_id, course_id, content, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, course_id) DO UPDATE SET content = excluded.content, \
           updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(course)
    .bind(content)
    .bind(now())
    .execute(&state.db.pool)
    .await?;
    tracing::info!(event = "note_saved", request_id = %ctx.request_id, user_id,
                   course_uid = %uid, chars = content.chars().count());
    Ok(())
}

fn required<'a>(body: &'a JsonObject, name: &str, label: &str) -> ApiResult<&'a str> {
    body.opt_str(name)?
        .ok_or_else(|| ApiError::bad_request(format!("{label} is required.")))
}

pub async fn api_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    body: JsonObject,
) -> ApiResult<Response> {
    let uid = required(&body, "course_uid", "course_uid")?;
    let status = required(&body, "status", "status")?;
    set_progress(&state, &ctx, s.user.id, uid, status).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Progress updated successfully."}),
    ))
}

pub async fn api_save_note(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    body: JsonObject,
) -> ApiResult<Response> {
    let uid = required(&body, "course_uid", "course_uid")?;
    // As in the original, a missing content is the empty note.
    let content = body.opt_str("content")?.unwrap_or("");
    save_note(&state, &ctx, s.user.id, uid, content).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Note saved successfully."}),
    ))
}

pub async fn api_get_note(
    State(state): State<AppState>,
    Authed(s): Authed,
    uid: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Ok(Path(uid)) = uid else {
        return Err(course_not_found());
    };
    let course = course_id(&state.db, &uid).await?;
    let content: String =
        match sqlx::query("SELECT content FROM course_notes WHERE user_id = $1 AND course_id = $2")
            .bind(s.user.id)
            .bind(course)
            .fetch_optional(&state.db.pool)
            .await?
        {
            Some(r) => r.try_get(0)?,
            None => String::new(),
        };
    Ok(json(StatusCode::OK, json!({"content": content})))
}

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 303 back to the course page.
fn back_to_course(uid: &str) -> Response {
    let location = format!("/course/{}", encode_segment(uid));
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct ProgressForm {
    status: Option<String>,
}

#[derive(Deserialize)]
pub struct NoteForm {
    content: Option<String>,
}

pub async fn form_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    uid: Result<Path<String>, PathRejection>,
    form: Result<Form<ProgressForm>, FormRejection>,
) -> ApiResult<Response> {
    let Ok(Path(uid)) = uid else {
        return Err(course_not_found());
    };
    let Ok(Form(form)) = form else {
        return Err(ApiError::bad_request("Malformed form."));
    };
    let Some(status) = form.status else {
        return Err(ApiError::bad_request("status is required."));
    };
    set_progress(&state, &ctx, s.user.id, &uid, &status).await?;
    Ok(back_to_course(&uid))
}

pub async fn form_note(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    uid: Result<Path<String>, PathRejection>,
    form: Result<Form<NoteForm>, FormRejection>,
) -> ApiResult<Response> {
    let Ok(Path(uid)) = uid else {
        return Err(course_not_found());
    };
    let Ok(Form(form)) = form else {
        return Err(ApiError::bad_request("Malformed form."));
    };
    // Browsers submit a textarea's line breaks as CRLF but count them as one character
    // for `maxlength`; store them as LF so the page's limit and this one agree.
    let content = form.content.unwrap_or_default().replace("\r\n", "\n");
    save_note(&state, &ctx, s.user.id, &uid, &content).await?;
    Ok(back_to_course(&uid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for ok in STATUSES {
            assert!(validate_status(ok).is_ok());
        }
        for bad in [
            "",
            "completed",
            "Completed ",
            "Done",
            "In progress",
            "NOT STARTED",
        ] {
            assert!(validate_status(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn notes() {
        assert!(validate_note("").is_ok());
        assert!(validate_note("line one\r\nline two\ttabbed").is_ok());
        assert!(validate_note(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
        assert!(validate_note(&"a".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(validate_note("nul\0byte").is_err());
        assert!(validate_note("escape\x1b[31m").is_err());
    }

    #[test]
    fn segments() {
        assert_eq!(encode_segment("6-0001-fall_2016.x~"), "6-0001-fall_2016.x~");
        assert_eq!(encode_segment("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }
}
