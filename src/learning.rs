//! Progress and notes (docs/original.md "Progress and notes"), always the signed-in user's
//! own: every call takes the user id from the session, and nothing in a request can name
//! another user. The JSON API and the course page's forms both call these.
//!
//! Status must be exactly `Not Started`, `In Progress` or `Completed` (`ProgressStatus`);
//! a note is at most 20,000 characters without control characters other than tab and line
//! breaks (the empty note clears it).

use axum::http::StatusCode;

use crate::{
    db::{catalog, learning},
    domain::ProgressStatus,
    http::{ApiError, ApiResult},
    state::AppState,
    time::now,
};

pub const MAX_NOTE_CHARS: usize = 20_000;
/// Longest course uid looked up; longer ones cannot exist.
const MAX_UID: usize = 255;

pub fn course_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Course not found.")
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
/// Whether `uid` could name a course at all (else it is not looked up).
fn valid_uid(uid: &str) -> bool {
    !uid.is_empty() && uid.len() <= MAX_UID && !uid.chars().any(char::is_control)
}

pub async fn course_id(state: &AppState, uid: &str) -> ApiResult<i64> {
    if !valid_uid(uid) {
        return Err(course_not_found());
    }
    catalog::id_by_uid(&state.db, uid)
        .await?
        .ok_or_else(course_not_found)
}

pub async fn set_progress(
    state: &AppState,
    user_id: i64,
    uid: &str,
    status: &str,
) -> ApiResult<()> {
    let status = ProgressStatus::parse(status).map_err(ApiError::bad_request)?;
    if !valid_uid(uid)
        || !learning::upsert_progress(&state.db, user_id, uid, status.as_str(), now()).await?
    {
        return Err(course_not_found());
    }
    tracing::info!(event = "progress_updated", user_id,
                   course_uid = %uid, status = status.as_str());
    Ok(())
}

pub async fn save_note(state: &AppState, user_id: i64, uid: &str, content: &str) -> ApiResult<()> {
    validate_note(content)?;
    if !valid_uid(uid) || !learning::upsert_note(&state.db, user_id, uid, content, now()).await? {
        return Err(course_not_found());
    }
    tracing::info!(event = "note_saved", user_id,
                   course_uid = %uid, chars = content.chars().count());
    Ok(())
}

/// The user's note on the course ('' when none).
pub async fn note(state: &AppState, user_id: i64, uid: &str) -> ApiResult<String> {
    let course = course_id(state, uid).await?;
    Ok(learning::note(&state.db, user_id, course)
        .await?
        .unwrap_or_default())
}

/// The user's status (`Not Started` when none) and note ('' when none) on a course.
pub async fn course_state(
    state: &AppState,
    user_id: i64,
    course_id: i64,
) -> ApiResult<(String, String)> {
    let status = learning::progress(&state.db, user_id, course_id)
        .await?
        .unwrap_or_else(|| ProgressStatus::NotStarted.as_str().to_string());
    let note = learning::note(&state.db, user_id, course_id)
        .await?
        .unwrap_or_default();
    Ok((status, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes() {
        assert!(validate_note("").is_ok());
        assert!(validate_note("line one\r\nline two\ttabbed").is_ok());
        assert!(validate_note(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
        assert!(validate_note(&"a".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(validate_note("nul\0byte").is_err());
        assert!(validate_note("escape\x1b[31m").is_err());
    }
}
