//! The course page's forms: `POST /course/{uid}/progress` (`status`) and
//! `POST /course/{uid}/note` (`content`, its CRLF line breaks stored as LF), answering 303
//! back to `/course/{uid}`; a validation failure is the same 4xx JSON as the API's.

use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::Deserialize;

use crate::{
    auth::CurrentUser,
    http::{ApiError, ApiResult, rejection::Form},
    learning::{self, course_not_found},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/course/{uid}/progress", post(progress))
        .route("/course/{uid}/note", post(note))
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
struct ProgressForm {
    status: Option<String>,
}

#[derive(Deserialize)]
struct NoteForm {
    content: Option<String>,
}

async fn progress(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    uid: Result<Path<String>, PathRejection>,
    Form(form): Form<ProgressForm>,
) -> ApiResult<Response> {
    let Ok(Path(uid)) = uid else {
        return Err(course_not_found());
    };
    let Some(status) = form.status else {
        return Err(ApiError::bad_request("status is required."));
    };
    learning::set_progress(&state, s.user.id, &uid, &status).await?;
    Ok(back_to_course(&uid))
}

async fn note(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    uid: Result<Path<String>, PathRejection>,
    Form(form): Form<NoteForm>,
) -> ApiResult<Response> {
    let Ok(Path(uid)) = uid else {
        return Err(course_not_found());
    };
    // Browsers submit a textarea's line breaks as CRLF but count them as one character
    // for `maxlength`; store them as LF so the page's limit and this one agree.
    let content = form.content.unwrap_or_default().replace("\r\n", "\n");
    learning::save_note(&state, s.user.id, &uid, &content).await?;
    Ok(back_to_course(&uid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(encode_segment("6-0001-fall_2016.x~"), "6-0001-fall_2016.x~");
        assert_eq!(encode_segment("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }
}
