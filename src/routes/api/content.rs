//! `GET /api/content`: the catalog as JSON, with the caller's progress and notes, then the
//! e-books of the stored Calibre-Web library (the original's shape).

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    auth::MaybeUser,
    db::{catalog, ebooks},
    http::{self, ApiError, ApiResult},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/content", get(content))
}

/// How long the anonymous catalog JSON is reused before it is rebuilt from the database
/// (other instances and `gleh courses import` change the catalog without telling us).
const ANONYMOUS_CONTENT_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// A course of the catalog (docs/original.md "Catalog JSON").
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct CourseItem {
    /// `course`
    r#type: String,
    uid: String,
    title: String,
    path: String,
    description: String,
    categories: Vec<String>,
    thumbnail: String,
    /// The caller's status, `""` when none or anonymous.
    user_progress: String,
    user_note: String,
}

/// A book of the Calibre-Web library.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
struct EbookItem {
    /// `ebook`
    r#type: String,
    uid: String,
    title: String,
    author: String,
    path: String,
    reader_url: String,
    cover_path: String,
    categories: Vec<String>,
}

/// One of the two, told apart by `type`.
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum ContentItem {
    Course(CourseItem),
    Ebook(EbookItem),
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Content {
    content: Vec<ContentItem>,
}

/// The catalog, with the caller's progress and notes, then the e-books.
#[utoipa::path(get, path = "/api/content", tag = "learning",
    security((), ("session" = [])),
    responses((status = 200, description = "The catalog", body = Content)))]
pub(crate) async fn content(
    State(state): State<AppState>,
    MaybeUser(s): MaybeUser,
) -> ApiResult<Response> {
    let user = s.map(|s| s.user.id);
    if user.is_none()
        && let Some(body) = state.content_cache.get(ANONYMOUS_CONTENT_TTL)
    {
        return Ok(http::json_bytes(StatusCode::OK, body));
    }
    let entries = catalog::list_for_user(&state.db, user).await?;
    let books = if state.ebooks.enabled() {
        ebooks::list(&state.db).await?
    } else {
        Vec::new()
    };
    let external = state.ebooks.external_url();
    let mut items: Vec<_> = entries
        .into_iter()
        .map(|e| {
            json!({
                "type": "course",
                "uid": e.course.uid,
                "title": e.course.title,
                "path": format!("/course/{}", e.course.uid),
                "description": e.course.description,
                "categories": e.course.category_list(),
                "thumbnail": e.course.thumbnail_url(),
                "user_progress": e.progress,
                "user_note": e.note,
            })
        })
        .collect();
    items.extend(books.into_iter().map(|b| {
        json!({
            "type": "ebook",
            "uid": b.uid(),
            "title": b.title,
            "author": b.authors,
            "path": format!("/textbook/{}", b.uid()),
            "reader_url": b.reader_url(external),
            "cover_path": b.cover_path(),
            "categories": b.category_list(),
        })
    }));
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&json!({"content": items})).map_err(ApiError::internal)?,
    );
    if user.is_none() {
        state.content_cache.put(body.clone());
    }
    Ok(http::json_bytes(StatusCode::OK, body))
}
