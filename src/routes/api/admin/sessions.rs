//! `GET sessions`, `POST revoke-session {handle}`, and re-authentication:
//! `GET reauth` (is this session's password recent?) and `POST reauth {password}`.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    admin::sessions,
    auth::admin::{self, AdminUser},
    http::{ApiResult, Ctx, JsonObject, json},
    routes::api::openapi::{Admin, ErrorBody, JsonIn, MessageBody},
    state::AppState,
};

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of bodies read from `JsonObject` and answers written with `json!`
struct LiveSession {
    handle: String,
    user_id: i64,
    username: String,
    created_at: i64,
    last_seen_at: i64,
    ip: String,
    user_agent: String,
    current: bool,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct LiveSessions {
    sessions: Vec<LiveSession>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Handle {
    /// 16 hexadecimal digits, from `GET /api/admin/sessions`.
    #[schema(pattern = "^[0-9a-fA-F]{16}$")]
    handle: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ReauthStatus {
    recent: bool,
    seconds_left: i64,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Password {
    password: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Reauthenticated {
    message: String,
    seconds_left: i64,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/sessions", get(list))
        .route("/api/admin/revoke-session", post(revoke))
        .route("/api/admin/reauth", get(reauth_status).post(reauth))
}

/// Every live session of the hub.
#[utoipa::path(get, path = "/api/admin/sessions", operation_id = "admin_list_sessions", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The sessions", body = LiveSessions)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    let items: Vec<_> = sessions::list(&state, &s)
        .await?
        .iter()
        .map(|l| {
            json!({"handle": l.handle, "user_id": l.user_id, "username": l.username,
                   "created_at": l.created_at, "last_seen_at": l.last_seen_at, "ip": l.ip,
                   "user_agent": l.user_agent, "current": l.current})
        })
        .collect();
    Ok(json(StatusCode::OK, json!({ "sessions": items })))
}

/// Ends a session by its handle.
#[utoipa::path(post, path = "/api/admin/revoke-session", tag = "admin", request_body = Handle, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Revoked", body = MessageBody),
        (status = 404, description = "`Session not found`", body = ErrorBody),
    ))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let handle = body.opt_str("handle")?.unwrap_or_default();
    sessions::revoke(&state, &ctx, &s, handle).await?;
    Ok(json(StatusCode::OK, json!({"message": "Session revoked."})))
}

/// Whether this session's password is recent enough for admin changes.
#[utoipa::path(get, path = "/api/admin/reauth", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The window", body = ReauthStatus)))]
pub(crate) async fn reauth_status(
    State(state): State<AppState>,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    Ok(json(
        StatusCode::OK,
        json!({"recent": admin::is_recent(&state, &s),
               "seconds_left": admin::seconds_left(&state, &s)}),
    ))
}

/// Re-authenticates: the admin enters their password again.
#[utoipa::path(post, path = "/api/admin/reauth", tag = "admin", request_body = Password, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn,
        (status = 200, description = "Granted", body = Reauthenticated),
        (status = 401, description = "`Password is incorrect.`", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds"))),
    ))]
pub(crate) async fn reauth(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let password = body.opt_str("password")?.unwrap_or_default();
    let granted = admin::reauthenticate(&state, &ctx, &s, password).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Re-authenticated.", "seconds_left": granted}),
    ))
}
