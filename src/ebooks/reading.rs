//! A user's note and reading progress on a book (docs/original.md "Progress and notes"),
//! always the signed-in user's own, with the rules of course notes (`learning::validate_note`).
//! A book id must be `calibre-<n>` of a book in the stored library, else 404: notes and
//! progress are checked against the library the hub has, never against Calibre-Web.

use axum::http::StatusCode;

use super::parse_book_id;
use crate::{
    db::ebooks::{self, Ebook},
    http::{ApiError, ApiResult},
    learning::validate_note,
    state::AppState,
    time::now,
};

/// Reading statuses a user may set.
pub const STATUSES: [&str; 2] = ["in_progress", "completed"];

pub fn book_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Book not found.")
}

/// The stored book with this id, or 404 (a malformed id is refused without a query).
pub async fn book(state: &AppState, id: &str) -> ApiResult<Ebook> {
    let n = parse_book_id(id).ok_or_else(book_not_found)?;
    if !state.ebooks.enabled() {
        return Err(book_not_found());
    }
    ebooks::find(&state.db, n).await?.ok_or_else(book_not_found)
}

/// The user's note on the book ('' when none).
pub async fn note(state: &AppState, user_id: i64, id: &str) -> ApiResult<String> {
    let b = book(state, id).await?;
    Ok(ebooks::note(&state.db, user_id, &b.uid())
        .await?
        .unwrap_or_default())
}

pub async fn save_note(state: &AppState, user_id: i64, id: &str, content: &str) -> ApiResult<()> {
    validate_note(content)?;
    let b = book(state, id).await?;
    ebooks::upsert_note(&state.db, user_id, &b.uid(), content, now()).await?;
    tracing::info!(event = "ebook_note_saved", user_id, book_id = %b.uid(),
                   chars = content.chars().count());
    Ok(())
}

/// Records that the user opens the book (the Read button): the reader URL to go to.
pub async fn open(state: &AppState, user_id: i64, id: &str) -> ApiResult<String> {
    let b = book(state, id).await?;
    ebooks::record_read(&state.db, user_id, &b.uid(), now()).await?;
    tracing::info!(event = "ebook_opened", user_id, book_id = %b.uid());
    Ok(b.reader_url(state.ebooks.external_url()))
}

/// Sets the user's status on the book (`in_progress` or `completed`).
pub async fn set_status(state: &AppState, user_id: i64, id: &str, status: &str) -> ApiResult<()> {
    if !STATUSES.contains(&status) {
        return Err(ApiError::bad_request(
            "status must be in_progress or completed.",
        ));
    }
    let b = book(state, id).await?;
    ebooks::set_status(&state.db, user_id, &b.uid(), status, now()).await?;
    Ok(())
}
