//! Course pages (`/course/{uid}`) and course package files (`/courses/{*path}`, see
//! `files`; `range` decides what a `Range` header may have).

mod files;
mod range;

use askama::Template;
use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderMap, StatusCode, Uri},
    response::Response,
    routing::get,
};

use super::pages::{NavUser, not_found_answer};
use crate::{
    auth::MaybeUser,
    catalog::encode_path,
    db::catalog as stored,
    domain::ProgressStatus,
    http::{ApiError, Ctx, html},
    learning,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/course/{uid}", get(course_page))
        .route("/courses/{*path}", get(files::course_file))
}

struct StatusOption {
    name: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "course.html")]
struct CoursePage {
    user: Option<NavUser>,
    csrf_token: String,
    title: String,
    course_number: String,
    when: String,
    level: String,
    instructor: String,
    department: String,
    description: String,
    categories: Vec<String>,
    resources: Vec<String>,
    thumbnail: String,
    license: String,
    launch: String,
    /// The uid, percent-encoded for use in this page's URLs.
    uid_path: String,
    /// `/course/<uid>`, encoded for the login link's `next` parameter.
    login_next: String,
    logged_in: bool,
    status: String,
    statuses: Vec<StatusOption>,
    note: String,
    max_note: usize,
}

pub async fn course_page(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    uid: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(uid)) = uid else {
        return Ok(not_found_answer(&headers, &uri));
    };
    if uid.len() > 255 {
        return Ok(not_found_answer(&headers, &uri));
    }
    let Some((course_id, c)) = stored::find_by_uid(&state.db, &uid).await? else {
        return Ok(not_found_answer(&headers, &uri));
    };
    let (status, note) = match &s {
        Some(s) => learning::course_state(&state, s.user.id, course_id).await?,
        None => (
            ProgressStatus::NotStarted.as_str().to_string(),
            String::new(),
        ),
    };
    let page = CoursePage {
        user: s.as_ref().map(NavUser::of),
        csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
        when: format!("{} {}", c.term, c.year).trim().to_string(),
        categories: c.category_list(),
        resources: c.resource_types(),
        thumbnail: c.thumbnail_url(),
        license: c.license_link().unwrap_or_default().to_string(),
        launch: c.launch_url().unwrap_or_default(),
        uid_path: encode_path(&c.uid),
        login_next: encode_path(&format!("/course/{}", encode_path(&c.uid))),
        logged_in: s.is_some(),
        statuses: ProgressStatus::ALL
            .iter()
            .map(|p| StatusOption {
                name: p.as_str(),
                selected: p.as_str() == status,
            })
            .collect(),
        status,
        note,
        max_note: learning::MAX_NOTE_CHARS,
        title: c.title,
        course_number: c.course_number,
        level: c.level,
        instructor: c.instructor,
        department: c.department,
        description: c.description,
    };
    match page.render() {
        Ok(body) => Ok(html(StatusCode::OK, body)),
        Err(e) => Err(ApiError::internal(e)),
    }
}
