//! The Courses tab: `GET /admin/courses` (the catalog with a Delete form per course, Scan,
//! Auto-categorize and the upload form) and its form posts `POST /admin/courses/delete`,
//! `/scan`, `/autocategorize` and `/upload` (multipart). Each calls the operation of
//! `admin::courses` and answers 303 to the tab with a notice, or the tab again with the
//! error. This page alone allows a script (`script-src 'self'`,
//! `security_headers::ADMIN_COURSES_CSP`): `/static/admin-upload.js` shows the upload's
//! progress; without it the form posts as it is.

use askama::Template;
use axum::{
    Router,
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{Admin, AdminForm, Done, done, is_reauth, reauth_prompt};
use crate::{
    admin::courses::{self, UploadRequest},
    http::{ApiError, security_headers::ADMIN_COURSES_CSP, streamed},
    routes::pages::{NavUser, render},
    state::AppState,
    time::iso8601,
};

const TAB: &str = "/admin/courses";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(TAB, get(page))
        .route("/admin/courses/delete", post(delete_submit))
        .route("/admin/courses/scan", post(scan_submit))
        .route("/admin/courses/autocategorize", post(autocategorize_submit))
        .route(streamed::COURSE_UPLOAD_PAGE, post(upload_submit))
}

/// One row of the table.
struct Row {
    id: i64,
    uid: String,
    title: String,
    categories: String,
    created_at: String,
    launch_url: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/courses.html")]
struct CoursesPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: String,
    notice: String,
    error: String,
    courses: Vec<Row>,
    max_upload: String,
    upload_action: &'static str,
}

/// `1 GiB`, `300 MiB`, `512 KiB` or bytes.
fn human(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

fn notice_for(code: &str) -> &'static str {
    match code {
        "deleted" => "Course deleted.",
        "deleted-files" => "Course and its package folder deleted.",
        "scanned" => "Scan complete: the catalog matches the courses folder.",
        "categorized" => "Auto-categorize done.",
        "uploaded" => "Course uploaded and imported.",
        "replaced" => "Course replaced and imported again.",
        _ => "",
    }
}

/// The tab, with `notice` or `error`, under its own CSP (the upload script).
async fn show(
    state: &AppState,
    a: &Admin,
    status: StatusCode,
    notice: &str,
    error: &str,
) -> Response {
    let listed = match courses::list(state).await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let rows = listed
        .into_iter()
        .map(|l| Row {
            id: l.id,
            categories: l.course.category_list().join(", "),
            created_at: iso8601(l.created_at),
            launch_url: l.course.launch_url(),
            uid: l.course.uid,
            title: l.course.title,
        })
        .collect();
    let page = CoursesPage {
        user: a.user.as_ref().map(|u| NavUser {
            name: u.name.clone(),
            is_admin: u.is_admin,
        }),
        csrf_token: a.csrf_token.clone(),
        tab: TAB.to_string(),
        notice: notice.to_string(),
        error: error.to_string(),
        courses: rows,
        max_upload: human(state.config.course_upload_max_bytes),
        upload_action: streamed::COURSE_UPLOAD_PAGE,
    };
    let mut res = render(status, &page);
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ADMIN_COURSES_CSP),
    );
    res
}

async fn page(State(state): State<AppState>, a: Admin, Query(q): Query<Done>) -> Response {
    show(&state, &a, StatusCode::OK, notice_for(&q.done), "").await
}

/// A refused action: the re-authentication prompt, or the tab with the error.
async fn failed(
    state: &AppState,
    a: &Admin,
    e: ApiError,
    action: &str,
    fields: &[(String, String)],
    repost: bool,
) -> Response {
    if is_reauth(&e) {
        return reauth_prompt(state, a, action, fields, repost, "");
    }
    if e.status.is_client_error() {
        return show(state, a, e.status, "", &e.message).await;
    }
    e.into_response()
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    course_id: String,
    #[serde(default)]
    files: Option<String>,
}

async fn delete_submit(
    State(state): State<AppState>,
    a: Admin,
    form: AdminForm<DeleteForm>,
) -> Response {
    let f = &form.value;
    let Ok(id) = f.course_id.trim().parse::<i64>() else {
        return show(
            &state,
            &a,
            StatusCode::BAD_REQUEST,
            "",
            "Choose a course to delete.",
        )
        .await;
    };
    let files = courses::flag(&f.files);
    match courses::delete(&state, &a.ctx, &a.s, id, files).await {
        Ok(d) if d.files => done(TAB, "deleted-files"),
        Ok(_) => done(TAB, "deleted"),
        Err(e) => failed(&state, &a, e, "/admin/courses/delete", &form.fields, true).await,
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn scan_submit(State(state): State<AppState>, a: Admin, form: AdminForm<Empty>) -> Response {
    match courses::scan(&state, &a.ctx, &a.s).await {
        Ok(_) => done(TAB, "scanned"),
        Err(e) => failed(&state, &a, e, "/admin/courses/scan", &form.fields, true).await,
    }
}

async fn autocategorize_submit(
    State(state): State<AppState>,
    a: Admin,
    form: AdminForm<Empty>,
) -> Response {
    match courses::autocategorize(&state, &a.ctx, &a.s).await {
        Ok(_) => done(TAB, "categorized"),
        Err(e) => {
            failed(
                &state,
                &a,
                e,
                "/admin/courses/autocategorize",
                &form.fields,
                true,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
struct UploadQuery {
    #[serde(default)]
    replace: Option<String>,
}

/// The multipart upload form (the token is its first field, so the body streams). A
/// replacement refused for want of a recent password cannot be re-posted (a file cannot
/// be carried through the prompt): the prompt returns to the tab to upload again.
async fn upload_submit(
    State(state): State<AppState>,
    a: Admin,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let replace = courses::flag(&q.replace);
    let req = UploadRequest::new(&headers, body, replace);
    match courses::upload(&state, &a.ctx, &a.s, req).await {
        Ok(d) if d.replaced => done(TAB, "replaced"),
        Ok(_) => done(TAB, "uploaded"),
        Err(e) => failed(&state, &a, e, TAB, &[], false).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(human(2 << 30), "2 GiB");
        assert_eq!(human(300 << 20), "300 MiB");
        assert_eq!(human(1000), "1000 bytes");
        assert_eq!(notice_for("<script>"), "");
    }
}
