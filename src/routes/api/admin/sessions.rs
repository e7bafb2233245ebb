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

use crate::{
    admin::sessions,
    auth::admin::{self, AdminUser},
    http::{ApiResult, Ctx, JsonObject, json},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/sessions", get(list))
        .route("/api/admin/revoke-session", post(revoke))
        .route("/api/admin/reauth", get(reauth_status).post(reauth))
}

async fn list(State(state): State<AppState>, AdminUser(s): AdminUser) -> ApiResult<Response> {
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

async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let handle = body.opt_str("handle")?.unwrap_or_default();
    sessions::revoke(&state, &ctx, &s, handle).await?;
    Ok(json(StatusCode::OK, json!({"message": "Session revoked."})))
}

async fn reauth_status(
    State(state): State<AppState>,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    Ok(json(
        StatusCode::OK,
        json!({"recent": admin::is_recent(&state, &s),
               "seconds_left": admin::seconds_left(&state, &s)}),
    ))
}

async fn reauth(
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
