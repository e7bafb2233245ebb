//! `GET users`, `POST create-user`, `delete-user`, `reset-password`, `disable-user`,
//! `enable-user`, `set-admin`.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::json;
use utoipa::ToSchema;

use super::user_id;
use crate::routes::api::openapi::{Admin, ErrorBody, JsonIn, MessageBody};
use crate::{
    admin::users,
    auth::{Session, admin::AdminUser},
    http::{ApiError, ApiResult, Ctx, JsonObject, json},
    state::AppState,
    time::iso8601,
};

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of bodies read from `JsonObject` and answers written with `json!`
struct UserRow {
    id: i64,
    username: String,
    is_admin: bool,
    created_at: String,
    disabled: bool,
    last_seen_at: Option<String>,
    live_sessions: i64,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct UserList {
    users: Vec<UserRow>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct CreateUser {
    /// The registration rules (`POST /api/register`).
    #[schema(pattern = "^[A-Za-z0-9_-]{3,64}$")]
    username: Option<String>,
    #[schema(min_length = 8, max_length = 1024)]
    password: Option<String>,
    is_admin: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Created {
    message: String,
    user_id: i64,
}

/// An account's id: a whole number, or a string of digits.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UserId {
    #[schema(value_type = i64)]
    user_id: serde_json::Value,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ResetPassword {
    #[schema(value_type = i64)]
    user_id: serde_json::Value,
    /// The password rules (`POST /api/register`).
    #[schema(min_length = 8, max_length = 1024)]
    new_password: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct SetAdmin {
    #[schema(value_type = i64)]
    user_id: serde_json::Value,
    is_admin: bool,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct AdminSet {
    message: String,
    is_admin: bool,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users", get(list))
        .route("/api/admin/create-user", post(create))
        .route("/api/admin/delete-user", post(delete))
        .route("/api/admin/reset-password", post(reset_password))
        .route("/api/admin/disable-user", post(disable))
        .route("/api/admin/enable-user", post(enable))
        .route("/api/admin/set-admin", post(set_admin))
}

/// Every account.
#[utoipa::path(get, path = "/api/admin/users", operation_id = "admin_list_users", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The accounts", body = UserList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Response> {
    let users: Vec<_> = users::list(&state)
        .await?
        .iter()
        .map(|l| {
            json!({"id": l.user.id, "username": l.user.username, "is_admin": l.user.is_admin,
                   "created_at": iso8601(l.user.created_at), "disabled": l.user.disabled,
                   "last_seen_at": l.last_seen_at.map(iso8601),
                   "live_sessions": l.live_sessions})
        })
        .collect();
    Ok(json(StatusCode::OK, json!({ "users": users })))
}

/// Creates an account under the registration rules.
#[utoipa::path(post, path = "/api/admin/create-user", tag = "admin", request_body = CreateUser, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Created", body = Created),
        (status = 409, description = "`Username already exists.`", body = ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let username = body.opt_str("username")?.unwrap_or_default();
    let password = body.opt_str("password")?.unwrap_or_default();
    let is_admin = body.opt_bool("is_admin")?.unwrap_or(false);
    let (id, message) = users::create(&state, &ctx, &s, username, password, is_admin).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": message, "user_id": id}),
    ))
}

/// Deletes an account (not one's own, not the last admin).
#[utoipa::path(post, path = "/api/admin/delete-user", tag = "admin", request_body = UserId, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Done", body = MessageBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let user = users::delete(&state, &ctx, &s, user_id(&body)?).await?;
    let message = format!("User {} deleted successfully", user.username);
    Ok(json(StatusCode::OK, json!({ "message": message })))
}

/// Sets a new password; the account must change it at its next login.
#[utoipa::path(post, path = "/api/admin/reset-password", tag = "admin", request_body = ResetPassword, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Done", body = MessageBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = user_id(&body)?;
    let pw = body.opt_str("new_password")?.unwrap_or_default();
    let user = users::reset_password(&state, &ctx, &s, id, pw).await?;
    let message = format!("Password reset for user {}", user.username);
    Ok(json(StatusCode::OK, json!({ "message": message })))
}

/// Disables an account and ends its sessions.
#[utoipa::path(post, path = "/api/admin/disable-user", tag = "admin", request_body = UserId, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Done", body = MessageBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    set_disabled(&state, &ctx, &s, &body, true).await
}

/// Enables an account.
#[utoipa::path(post, path = "/api/admin/enable-user", tag = "admin", request_body = UserId, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Done", body = MessageBody),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    set_disabled(&state, &ctx, &s, &body, false).await
}

async fn set_disabled(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    body: &JsonObject,
    disabled: bool,
) -> ApiResult<Response> {
    let user = users::set_disabled(state, ctx, s, user_id(body)?, disabled).await?;
    let what = if disabled { "disabled" } else { "enabled" };
    let message = format!("User {} {what}", user.username);
    Ok(json(StatusCode::OK, json!({ "message": message })))
}

/// Grants or removes the admin role.
#[utoipa::path(post, path = "/api/admin/set-admin", tag = "admin", request_body = SetAdmin, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Done", body = AdminSet),
        (status = 404, description = "`User not found`", body = ErrorBody),
    ))]
pub(crate) async fn set_admin(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = user_id(&body)?;
    let is_admin = body
        .opt_bool("is_admin")?
        .ok_or_else(|| ApiError::bad_request("is_admin is required."))?;
    let user = users::set_admin(&state, &ctx, &s, id, is_admin).await?;
    let message = if is_admin {
        format!("User {} is now an admin", user.username)
    } else {
        format!("User {} is no longer an admin", user.username)
    };
    Ok(json(
        StatusCode::OK,
        json!({"message": message, "is_admin": is_admin}),
    ))
}
