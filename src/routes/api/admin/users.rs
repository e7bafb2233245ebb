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

use super::user_id;
use crate::{
    admin::users,
    auth::{Session, admin::AdminUser},
    http::{ApiError, ApiResult, Ctx, JsonObject, json},
    state::AppState,
    time::iso8601,
};

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

async fn list(State(state): State<AppState>, AdminUser(_): AdminUser) -> ApiResult<Response> {
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

async fn create(
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

async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let user = users::delete(&state, &ctx, &s, user_id(&body)?).await?;
    let message = format!("User {} deleted successfully", user.username);
    Ok(json(StatusCode::OK, json!({ "message": message })))
}

async fn reset_password(
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

async fn disable(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    set_disabled(&state, &ctx, &s, &body, true).await
}

async fn enable(
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

async fn set_admin(
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
