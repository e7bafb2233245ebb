//! The book page `GET /textbook/{id}` (cover, title, authors, description, subjects, the
//! user's note and progress; no write on GET) and its forms: `POST /textbook/{id}/read`
//! (records the reading and answers 303 to Calibre-Web's reader under
//! CALIBRE_WEB_EXTERNAL_URL), `POST /textbook/{id}/note` and `POST /textbook/{id}/progress`
//! (303 back to the page). An id not shaped `calibre-<n>`, or of no stored book, is 404.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{NavUser, not_found_answer, render};
use crate::{
    auth::{CurrentUser, MaybeUser},
    catalog::encode_path,
    db::ebooks,
    ebooks::reading::{self, book_not_found},
    http::{ApiError, ApiResult, Ctx, rejection::Form},
    learning,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/textbook/{id}", get(page))
        .route("/textbook/{id}/read", post(read))
        .route("/textbook/{id}/note", post(note))
        .route("/textbook/{id}/progress", post(progress))
}

#[derive(Template)]
#[template(path = "textbook.html")]
struct TextbookPage {
    user: Option<NavUser>,
    csrf_token: String,
    uid: String,
    title: String,
    authors: String,
    description: String,
    categories: Vec<String>,
    cover: String,
    published: String,
    language: String,
    login_next: String,
    logged_in: bool,
    /// '' (never opened), `in_progress` or `completed`.
    status: String,
    note: String,
    max_note: usize,
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = id else {
        return Ok(not_found_answer(&headers, &uri));
    };
    let b = match reading::book(&state, &id).await {
        Ok(b) => b,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return Ok(not_found_answer(&headers, &uri));
        }
        Err(e) => return Err(e),
    };
    let uid = b.uid();
    let (status, note) = match &s {
        Some(s) => (
            ebooks::status(&state.db, s.user.id, &uid)
                .await?
                .unwrap_or_default(),
            ebooks::note(&state.db, s.user.id, &uid)
                .await?
                .unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    };
    Ok(render(
        StatusCode::OK,
        &TextbookPage {
            user: s.as_ref().map(NavUser::of),
            csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
            login_next: encode_path(&format!("/textbook/{uid}")),
            logged_in: s.is_some(),
            categories: b.category_list(),
            cover: b.cover_path(),
            title: b.title,
            authors: b.authors,
            description: b.summary,
            published: b.published.chars().take(10).collect(),
            language: b.language,
            uid,
            status,
            note,
            max_note: learning::MAX_NOTE_CHARS,
        },
    ))
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

fn path_id(id: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    id.map(|Path(id)| id).map_err(|_| book_not_found())
}

#[derive(Deserialize)]
struct Empty {}

async fn read(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    id: Result<Path<String>, PathRejection>,
    Form(_): Form<Empty>,
) -> ApiResult<Response> {
    let id = path_id(id)?;
    let reader = reading::open(&state, s.user.id, &id).await?;
    Ok(see_other(&reader))
}

#[derive(Deserialize)]
struct NoteForm {
    content: Option<String>,
}

async fn note(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    id: Result<Path<String>, PathRejection>,
    Form(form): Form<NoteForm>,
) -> ApiResult<Response> {
    let id = path_id(id)?;
    let content = form.content.unwrap_or_default().replace("\r\n", "\n");
    reading::save_note(&state, s.user.id, &id, &content).await?;
    Ok(see_other(&format!("/textbook/{}", encode_path(&id))))
}

#[derive(Deserialize)]
struct ProgressForm {
    status: Option<String>,
}

async fn progress(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    id: Result<Path<String>, PathRejection>,
    Form(form): Form<ProgressForm>,
) -> ApiResult<Response> {
    let id = path_id(id)?;
    let Some(status) = form.status else {
        return Err(ApiError::bad_request("status is required."));
    };
    reading::set_status(&state, s.user.id, &id, &status).await?;
    Ok(see_other(&format!("/textbook/{}", encode_path(&id))))
}
