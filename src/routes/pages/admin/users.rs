//! The Users tab: `/admin/users` (the create form and the table, with per-user forms) and
//! its posts `/admin/users/{create,delete,reset-password,disable,enable,set-admin}`, each
//! calling `admin::users` as `/api/admin/` does.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{Admin, AdminForm, Done, answer, form_id};
use crate::{
    admin::users,
    http::ApiError,
    routes::pages::{NavUser, render},
    state::AppState,
    time::iso8601,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(page))
        .route("/admin/users/create", post(create))
        .route("/admin/users/delete", post(delete))
        .route("/admin/users/reset-password", post(reset_password))
        .route("/admin/users/disable", post(disable))
        .route("/admin/users/enable", post(enable))
        .route("/admin/users/set-admin", post(set_admin))
}

struct Row {
    id: i64,
    username: String,
    is_admin: bool,
    disabled: bool,
    is_self: bool,
    created_at: String,
    last_seen: String,
    live_sessions: i64,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: &'static str,
    notice: String,
    error: String,
    users: Vec<Row>,
    form_username: String,
    min_password: usize,
}

fn notice(code: &str) -> &'static str {
    match code {
        "created" => "User created.",
        "deleted" => "User deleted, with their sessions, progress, notes and picture.",
        "password-reset" => "Password reset; every session of that user has ended.",
        "disabled" => "User disabled; their sessions have ended.",
        "enabled" => "User enabled.",
        "admin-granted" => "User is now an admin; their sessions have ended.",
        "admin-removed" => "User is no longer an admin; their sessions have ended.",
        _ => "",
    }
}

async fn render_page(
    state: &AppState,
    a: &Admin,
    notice: &str,
    error: Option<ApiError>,
    form_username: &str,
) -> Response {
    let list = match users::list(state).await {
        Ok(l) => l,
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let rows = list
        .into_iter()
        .map(|l| Row {
            id: l.user.id,
            is_self: l.user.id == a.s.user.id,
            username: l.user.username,
            is_admin: l.user.is_admin,
            disabled: l.user.disabled,
            created_at: iso8601(l.user.created_at),
            last_seen: l.last_seen_at.map(iso8601).unwrap_or_default(),
            live_sessions: l.live_sessions,
        })
        .collect();
    let (status, error) = match error {
        Some(e) => (e.status, e.message),
        None => (StatusCode::OK, String::new()),
    };
    render(
        status,
        &UsersPage {
            user: a.user.clone(),
            csrf_token: a.csrf_token.clone(),
            tab: "/admin/users",
            notice: notice.to_string(),
            error,
            users: rows,
            form_username: form_username.to_string(),
            min_password: state.config.min_password_length,
        },
    )
}

async fn page(State(state): State<AppState>, a: Admin, Query(d): Query<Done>) -> Response {
    render_page(&state, &a, notice(&d.done), None, "").await
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    is_admin: Option<String>,
}

async fn create(State(state): State<AppState>, a: Admin, form: AdminForm<CreateForm>) -> Response {
    let f = &form.value;
    let is_admin = f.is_admin.as_deref() == Some("1");
    let result = users::create(&state, &a.ctx, &a.s, &f.username, &f.password, is_admin)
        .await
        .map(|_| ());
    answer(
        &state,
        &a,
        "/admin/users/create",
        &form.fields,
        result,
        ("/admin/users", "created"),
        |e| render_page(&state, &a, "", Some(e), &f.username),
    )
    .await
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    is_admin: String,
}

/// What a per-user form asks for.
#[derive(Clone, Copy)]
enum Change {
    Delete,
    ResetPassword,
    Disable,
    Enable,
    SetAdmin,
}

async fn change(state: &AppState, a: &Admin, form: &AdminForm<UserForm>, c: Change) -> Response {
    let f = &form.value;
    let (path, mut code) = match c {
        Change::Delete => ("/admin/users/delete", "deleted"),
        Change::ResetPassword => ("/admin/users/reset-password", "password-reset"),
        Change::Disable => ("/admin/users/disable", "disabled"),
        Change::Enable => ("/admin/users/enable", "enabled"),
        Change::SetAdmin => ("/admin/users/set-admin", "admin-granted"),
    };
    let result = async {
        let id = form_id(&f.user_id, "user_id")?;
        match c {
            Change::Delete => users::delete(state, &a.ctx, &a.s, id).await?,
            Change::ResetPassword => {
                users::reset_password(state, &a.ctx, &a.s, id, &f.new_password).await?
            }
            Change::Disable => users::set_disabled(state, &a.ctx, &a.s, id, true).await?,
            Change::Enable => users::set_disabled(state, &a.ctx, &a.s, id, false).await?,
            Change::SetAdmin => {
                let grant = match f.is_admin.as_str() {
                    "1" => true,
                    "0" => false,
                    _ => return Err(ApiError::bad_request("is_admin must be 1 or 0.")),
                };
                if !grant {
                    code = "admin-removed";
                }
                users::set_admin(state, &a.ctx, &a.s, id, grant).await?
            }
        };
        Ok(())
    }
    .await;
    answer(
        state,
        a,
        path,
        &form.fields,
        result,
        ("/admin/users", code),
        |e| render_page(state, a, "", Some(e), ""),
    )
    .await
}

async fn delete(State(state): State<AppState>, a: Admin, form: AdminForm<UserForm>) -> Response {
    change(&state, &a, &form, Change::Delete).await
}

async fn reset_password(
    State(state): State<AppState>,
    a: Admin,
    form: AdminForm<UserForm>,
) -> Response {
    change(&state, &a, &form, Change::ResetPassword).await
}

async fn disable(State(state): State<AppState>, a: Admin, form: AdminForm<UserForm>) -> Response {
    change(&state, &a, &form, Change::Disable).await
}

async fn enable(State(state): State<AppState>, a: Admin, form: AdminForm<UserForm>) -> Response {
    change(&state, &a, &form, Change::Enable).await
}

async fn set_admin(State(state): State<AppState>, a: Admin, form: AdminForm<UserForm>) -> Response {
    change(&state, &a, &form, Change::SetAdmin).await
}
