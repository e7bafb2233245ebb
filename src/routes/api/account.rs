//! The signed-in user's account: `POST /api/profile/change-password`,
//! `DELETE /api/account`, and their own sessions (`GET /api/sessions`,
//! `DELETE /api/sessions/{id}`).

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::Response,
    routing::{delete, get, post},
};
use serde_json::json;

use crate::{
    auth::{
        CurrentUser,
        account::{self, PasswordChange},
        session,
    },
    http::{
        ApiError, ApiResult, Ctx, JsonObject, json,
        rejection::{FromJson, JsonBody},
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/profile/change-password", post(change_password))
        .route("/api/account", delete(delete_account))
        .route("/api/sessions", get(list_sessions))
        .route("/api/sessions/{id}", delete(revoke_session))
}

impl FromJson for PasswordChange {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        let field =
            |name| -> ApiResult<String> { Ok(body.opt_str(name)?.unwrap_or_default().to_string()) };
        Ok(PasswordChange {
            current: field("current_password")?,
            new: field("new_password")?,
            confirm: field("confirm_password")?,
        })
    }
}

/// `{current_password, new_password, confirm_password}`: every other session of the
/// account ends, and this one is replaced by a new one.
async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(s): CurrentUser,
    JsonBody(change): JsonBody<PasswordChange>,
) -> ApiResult<Response> {
    let cookie = account::change_password(&state, &ctx, &s, &change).await?;
    let mut res = json(
        StatusCode::OK,
        json!({"message": "Password changed successfully"}),
    );
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

/// `{password}`.
struct DeleteAccount {
    password: String,
}

impl FromJson for DeleteAccount {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        Ok(DeleteAccount {
            password: body.opt_str("password")?.unwrap_or_default().to_string(),
        })
    }
}

/// The user deletes their own account; requires the session, the CSRF token and the
/// password.
async fn delete_account(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<DeleteAccount>,
) -> ApiResult<Response> {
    account::delete(&state, &ctx, &s, &body.password).await?;
    Ok(session::logout_headers(
        &state.config,
        json(StatusCode::OK, json!({"message": "Account deleted."})),
    ))
}

async fn list_sessions(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Response> {
    let list = session::list_for_user(&state.db, s.user.id, &s.id_hash).await?;
    let items: Vec<_> = list
        .iter()
        .map(|l| {
            json!({"id": l.handle, "created_at": l.created_at, "last_seen_at": l.last_seen_at,
                   "ip": l.ip, "user_agent": l.user_agent, "current": l.current})
        })
        .collect();
    Ok(json(StatusCode::OK, json!({"sessions": items})))
}

async fn revoke_session(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    Path(handle): Path<String>,
) -> ApiResult<Response> {
    if !session::destroy_by_handle(&state.db, s.user.id, &handle).await? {
        return Err(ApiError::not_found());
    }
    tracing::info!(event = "session_revoked", user_id = s.user.id);
    Ok(json(StatusCode::OK, json!({"message": "Session revoked."})))
}
