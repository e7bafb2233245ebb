//! The signed-in user's account: `POST /api/profile/change-password`,
//! `DELETE /api/account`, and their own sessions (`GET /api/sessions`,
//! `DELETE /api/sessions/{id}`).

use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{StatusCode, header},
    response::Response,
    routing::{delete, get, post},
};
use serde_json::json;
use utoipa::ToSchema;

use super::openapi::{ErrorBody, JsonIn, MessageBody, SignedIn};
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

/// The body of `POST /api/profile/change-password` (read into `account::PasswordChange`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasswordChangeBody {
    current_password: Option<String>,
    /// The password rules (`POST /api/register`); equal to `confirm_password`.
    #[schema(min_length = 8, max_length = 1024)]
    new_password: Option<String>,
    #[schema(min_length = 8, max_length = 1024)]
    confirm_password: Option<String>,
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
#[utoipa::path(post, path = "/api/profile/change-password", tag = "account",
    request_body = PasswordChangeBody,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Changed; a new session cookie is set", body = MessageBody,
            headers(("set-cookie" = String, description = "The new session cookie"))),
        (status = 400, description = "A field missing, the new passwords differ, or a password the rules refuse", body = ErrorBody),
        (status = 401, description = "`Current password is incorrect`, or no session", body = ErrorBody),
    ))]
pub(crate) async fn change_password(
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
#[derive(ToSchema)]
pub(crate) struct DeleteAccount {
    password: Option<String>,
}

impl FromJson for DeleteAccount {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        Ok(DeleteAccount {
            password: body.opt_str("password")?.map(str::to_string),
        })
    }
}

/// The user deletes their own account; requires the session, the CSRF token and the
/// password.
#[utoipa::path(delete, path = "/api/account", tag = "account", request_body = DeleteAccount,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Deleted; the cookie is cleared", body = MessageBody),
        (status = 400, description = "`Password is required.`", body = ErrorBody),
        (status = 401, description = "`Password is incorrect.`, or no session", body = ErrorBody),
    ))]
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<DeleteAccount>,
) -> ApiResult<Response> {
    let password = body.password.unwrap_or_default();
    account::delete(&state, &ctx, &s, &password).await?;
    Ok(session::logout_headers(
        &state.config,
        json(StatusCode::OK, json!({"message": "Account deleted."})),
    ))
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct OwnSession {
    /// The handle `DELETE /api/sessions/{id}` takes.
    id: String,
    created_at: i64,
    last_seen_at: i64,
    ip: String,
    user_agent: String,
    current: bool,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct OwnSessions {
    sessions: Vec<OwnSession>,
}

/// The live sessions of the signed-in user.
#[utoipa::path(get, path = "/api/sessions", tag = "account",
    security(("session" = [])),
    responses(SignedIn, (status = 200, description = "The sessions", body = OwnSessions)))]
pub(crate) async fn list_sessions(
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

/// Ends one of the signed-in user's sessions.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "A handle from `GET /api/sessions`")),
    security(("session" = [], "csrf" = [])),
    responses(SignedIn,
        (status = 200, description = "Revoked", body = MessageBody),
        (status = 404, description = "`Not found.`: no such session of this user", body = ErrorBody),
    ))]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    handle: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    // A path that is not UTF-8 names no session either.
    let Ok(Path(handle)) = handle else {
        return Err(ApiError::not_found());
    };
    if !session::destroy_by_handle(&state.db, s.user.id, &handle).await? {
        return Err(ApiError::not_found());
    }
    tracing::info!(event = "session_revoked", user_id = s.user.id);
    Ok(json(StatusCode::OK, json!({"message": "Session revoked."})))
}
