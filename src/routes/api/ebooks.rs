//! E-books as JSON (docs/design.md "E-books"): `GET /api/textbook/{id}/note`,
//! `POST /api/textbook/note {book_id, content}`, `POST /api/textbook/progress {book_id,
//! status}` (the rules are `ebooks::reading`'s), and `GET /api/calibre/cover/{n}` (the
//! cached cover of a book of the library; `n` digits only, so nothing a client sends
//! reaches Calibre-Web but a number).

use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;
use utoipa::ToSchema;

use super::openapi::{ErrorBody, JsonIn, MessageBody, SignedIn};

use crate::{
    auth::CurrentUser,
    ebooks::reading::{self, book_not_found},
    http::{
        ApiError, ApiResult, JsonObject, json,
        rejection::{FromJson, JsonBody},
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/textbook/note", post(save_note))
        .route("/api/textbook/progress", post(set_progress))
        .route("/api/textbook/{id}/note", get(get_note))
        .route("/api/calibre/cover/{n}", get(cover))
}

fn required(body: &JsonObject, name: &str) -> ApiResult<String> {
    body.opt_str(name)?
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required.")))
}

/// `{book_id, content?}`; a missing content is the empty note, as for courses.
#[derive(ToSchema)]
pub(crate) struct NoteBody {
    book_id: String,
    /// At most 20,000 characters, no control characters but tab and line breaks.
    #[schema(required = false, max_length = 20000)]
    content: String,
}

impl FromJson for NoteBody {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        Ok(NoteBody {
            book_id: required(body, "book_id")?,
            content: body.opt_str("content")?.unwrap_or("").to_string(),
        })
    }
}

/// A reading status (`ebooks::reading::STATUSES`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum BookStatus {
    InProgress,
    Completed,
}

/// `{book_id, status}`, both required.
#[derive(ToSchema)]
pub(crate) struct ProgressBody {
    book_id: String,
    #[schema(value_type = BookStatus)]
    status: String,
}

impl FromJson for ProgressBody {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        Ok(ProgressBody {
            book_id: required(body, "book_id")?,
            status: required(body, "status")?,
        })
    }
}

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct NoteAnswer {
    /// `""` when there is none.
    content: String,
}

/// Saves the caller's note on a book.
#[utoipa::path(post, path = "/api/textbook/note", operation_id = "save_book_note", tag = "ebooks", request_body = NoteBody,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Saved", body = MessageBody),
        (status = 404, description = "`Book not found.`", body = ErrorBody),
    ))]
pub(crate) async fn save_note(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<NoteBody>,
) -> ApiResult<Response> {
    reading::save_note(&state, s.user.id, &body.book_id, &body.content).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Note saved successfully."}),
    ))
}

/// Sets the caller's reading status of a book.
#[utoipa::path(post, path = "/api/textbook/progress", operation_id = "set_book_progress", tag = "ebooks", request_body = ProgressBody,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Saved", body = MessageBody),
        (status = 404, description = "`Book not found.`", body = ErrorBody),
    ))]
pub(crate) async fn set_progress(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<ProgressBody>,
) -> ApiResult<Response> {
    reading::set_status(&state, s.user.id, &body.book_id, &body.status).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Progress updated successfully."}),
    ))
}

/// The caller's note on a book.
#[utoipa::path(get, path = "/api/textbook/{id}/note", operation_id = "get_book_note", tag = "ebooks",
    params(("id" = String, Path, description = "The book's uid")),
    security(("session" = [])),
    responses(SignedIn,
        (status = 200, description = "The note", body = NoteAnswer),
        (status = 404, description = "`Book not found.`", body = ErrorBody),
    ))]
pub(crate) async fn get_note(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Ok(Path(id)) = id else {
        return Err(book_not_found());
    };
    let content = reading::note(&state, s.user.id, &id).await?;
    Ok(json(StatusCode::OK, json!({ "content": content })))
}

/// How long browsers may keep a cover without asking again.
const COVER_MAX_AGE: &str = "public, max-age=86400";

/// The cached cover of a book of the library.
#[utoipa::path(get, path = "/api/calibre/cover/{n}", tag = "ebooks",
    params(("n" = String, Path, description = "The book's number in the library (digits)")),
    responses(
        (status = 200, description = "The cover image", content_type = "image/*", body = Vec<u8>,
            headers(("etag" = String), ("cache-control" = String))),
        (status = 304, description = "The client's copy (`If-None-Match`) is current"),
        (status = 404, description = "`Cover not found.`", body = ErrorBody),
    ))]
pub(crate) async fn cover(
    State(state): State<AppState>,
    headers: HeaderMap,
    n: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "Cover not found.");
    let Ok(Path(n)) = n else {
        return Err(not_found());
    };
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_found());
    }
    let n: i64 = n.parse().map_err(|_| not_found())?;
    let Some(c) = state.ebooks.cover(&state.db, n).await? else {
        return Err(not_found());
    };
    let etag = HeaderValue::from_str(&c.etag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static(COVER_MAX_AGE);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == c.etag || t.trim() == "*"));
    if fresh {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let content_type = HeaderValue::from_str(&c.content_type).map_err(ApiError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        c.data,
    )
        .into_response())
}
