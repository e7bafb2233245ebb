//! `GET /api/content`: the catalog as JSON, with the caller's progress and notes, then the
//! e-books of the stored Calibre-Web library (the original's shape). The catalog part is
//! serialised once and shared (`state::CatalogJson`); each caller's progress and notes are
//! one small query, spliced in.

use std::{collections::HashMap, sync::Arc};

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    auth::MaybeUser,
    db::{catalog, ebooks, learning},
    http::{self, ApiError, ApiResult},
    state::{AppState, CatalogJson},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/content", get(content))
}

/// How long the catalog's JSON is reused before it is rebuilt from the database (other
/// instances and `gleh courses import` change the catalog without telling us; the admin
/// panel's course actions clear it at once). A caller's own progress and notes are read
/// fresh on every request.
const CATALOG_TTL: std::time::Duration = std::time::Duration::from_secs(2);

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
    let catalog = match state.content_cache.get(CATALOG_TTL) {
        Some(c) => c,
        None => {
            let c = Arc::new(build(&state).await?);
            state.content_cache.put(c.clone());
            c
        }
    };
    let Some(user) = s.map(|s| s.user.id) else {
        return Ok(http::json_bytes(StatusCode::OK, catalog.anonymous.clone()));
    };
    let marks = learning::marks_for_user(&state.db, user).await?;
    let mine: HashMap<&str, (&str, &str)> = marks
        .iter()
        .map(|m| (m.uid.as_str(), (m.progress.as_str(), m.note.as_str())))
        .collect();
    let body = assemble(&catalog, |uid| mine.get(uid).copied())?;
    Ok(http::json_bytes(StatusCode::OK, body.into()))
}

/// The body: every course with the caller's values (`Not Started`, `""` when none), then
/// the e-books.
fn assemble<'a>(
    c: &CatalogJson,
    mark: impl Fn(&str) -> Option<(&'a str, &'a str)>,
) -> ApiResult<Vec<u8>> {
    let size = c.courses.iter().map(|(_, p)| p.len() + 48).sum::<usize>() + c.books.len();
    let mut out = Vec::with_capacity(size + 16);
    out.extend_from_slice(b"{\"content\":[");
    for (i, (uid, prefix)) in c.courses.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (progress, note) = mark(uid).unwrap_or(("Not Started", ""));
        out.extend_from_slice(prefix);
        out.extend_from_slice(b"\"user_progress\":");
        serde_json::to_writer(&mut out, progress).map_err(ApiError::internal)?;
        out.extend_from_slice(b",\"user_note\":");
        serde_json::to_writer(&mut out, note).map_err(ApiError::internal)?;
        out.push(b'}');
    }
    if !c.books.is_empty() {
        if !c.courses.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(&c.books);
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// Reads the catalog and the stored e-books and serialises everything but the caller's
/// own values.
async fn build(state: &AppState) -> ApiResult<CatalogJson> {
    let entries = catalog::list_for_user(&state.db, None).await?;
    let books = if state.ebooks.enabled() {
        ebooks::list(&state.db).await?
    } else {
        Vec::new()
    };
    let external = state.ebooks.external_url();
    let mut courses = Vec::with_capacity(entries.len());
    for e in entries {
        let c = e.course;
        let mut o = json!({
            "type": "course",
            "uid": c.uid,
            "title": c.title,
            "path": format!("/course/{}", c.uid),
            "description": c.description,
            "categories": c.category_list(),
            "thumbnail": c.thumbnail_url(),
        })
        .to_string()
        .into_bytes();
        // `{…}` → `{…,` for the caller's two fields.
        o.pop();
        o.push(b',');
        courses.push((c.uid, o));
    }
    let mut list = Vec::new();
    for (i, b) in books.into_iter().enumerate() {
        if i > 0 {
            list.push(b',');
        }
        let item = json!({
            "type": "ebook",
            "uid": b.uid(),
            "title": b.title,
            "author": b.authors,
            "path": format!("/textbook/{}", b.uid()),
            "reader_url": b.reader_url(external),
            "cover_path": b.cover_path(),
            "categories": b.category_list(),
        });
        serde_json::to_writer(&mut list, &item).map_err(ApiError::internal)?;
    }
    let mut c = CatalogJson {
        courses,
        books: list,
        anonymous: Default::default(),
    };
    c.anonymous = assemble(&c, |_| None)?.into();
    Ok(c)
}
