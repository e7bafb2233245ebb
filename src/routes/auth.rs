//! Registration, login, logout, session checks, CSRF tokens and the user's own sessions.
//! The login and registration logic here is shared by the JSON API and the HTML forms.

use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    csrf,
    db::now,
    http::{
        ApiError, ApiResult, Ctx, JsonObject,
        guard::{Authed, MaybeSession},
        json,
    },
    password::{self, MAX_PASSWORD_BYTES},
    ratelimit, session,
    state::AppState,
    users::{self, Created, MAX_USERNAME},
};

const RATE_LIMITED: &str = "Too many attempts. Please try again in a minute.";
const ACCOUNT_LOCKED: &str = "Too many failed attempts. Please try again later.";
const BAD_CREDENTIALS: &str = "Invalid username or password.";

fn check_lengths(username: &str, password: &str) -> ApiResult<()> {
    if username.chars().count() > MAX_USERNAME {
        return Err(ApiError::bad_request(
            "Username must not exceed 64 characters.",
        ));
    }
    if username.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "Username must not contain control characters.",
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(format!(
            "Password must not exceed {MAX_PASSWORD_BYTES} bytes."
        )));
    }
    Ok(())
}

pub async fn limit_ip(state: &AppState, ctx: &Ctx, endpoint: &str) -> ApiResult<()> {
    if let Some(retry) =
        ratelimit::hit_ip(&state.db, ctx.ip, state.config.auth_rate_limit, now()).await?
    {
        crate::metrics::rate_limit_hit("ip");
        tracing::warn!(
            event = "rate_limit_exceeded",
            request_id = %ctx.request_id,
            ip = %ctx.ip,
            endpoint,
            limit = state.config.auth_rate_limit,
            period_seconds = 60,
        );
        return Err(ApiError::too_many(RATE_LIMITED, retry));
    }
    Ok(())
}

/// Reads `username` and `password` from a JSON object.
fn credentials(body: &JsonObject) -> ApiResult<(String, String)> {
    match (body.opt_str("username")?, body.opt_str("password")?) {
        (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Ok((u.to_string(), p.to_string())),
        _ => Err(ApiError::bad_request("Username and password are required.")),
    }
}

pub struct LoggedIn {
    pub user_id: i64,
    pub username: String,
    pub cookie: HeaderValue,
}

/// The whole login: per-IP limit, per-account back-off, constant-time-ish verification
/// (unknown users verify against a dummy hash), session rotation.
pub async fn login(
    state: &AppState,
    ctx: &Ctx,
    previous: Option<&session::Session>,
    username: &str,
    password: &str,
) -> ApiResult<LoggedIn> {
    check_lengths(username, password)?;
    let key = users::username_key(username);
    let now = now();
    let (user, locked_until) = users::find_for_login(&state.db, username).await?;
    if let Some(until) = locked_until.filter(|u| *u > now) {
        let retry = (until - now) as u64;
        crate::metrics::rate_limit_hit("account");
        tracing::warn!(
            event = "rate_limit_exceeded",
            request_id = %ctx.request_id,
            ip = %ctx.ip,
            endpoint = "login_account",
            username = %username,
        );
        return Err(ApiError::too_many(ACCOUNT_LOCKED, retry));
    }
    let verified = match &user {
        Some(u) => {
            state
                .hasher
                .verify(password.to_string(), u.password_hash.clone())
                .await?
                && !u.disabled
        }
        None => {
            state.hasher.verify_dummy(password.to_string()).await?;
            false
        }
    };
    let user = match user {
        Some(u) if verified => u,
        _ => {
            ratelimit::record_failure(&state.db, &key, now).await?;
            crate::metrics::login(false);
            tracing::warn!(
                event = "login_failure",
                request_id = %ctx.request_id,
                username = %username,
                ip = %ctx.ip,
                reason = "invalid_credentials",
            );
            return Err(ApiError::unauthorized(BAD_CREDENTIALS));
        }
    };
    if locked_until.is_some() {
        ratelimit::clear_failures(&state.db, &key).await?;
    }
    crate::metrics::login(true);
    if let Some(old) = previous {
        session::destroy(&state.db, &old.id_hash).await?;
    }
    let (value, _) = session::create(
        &state.db,
        user.id,
        &ctx.ip.to_string(),
        &ctx.user_agent,
        now,
    )
    .await?;
    tracing::info!(
        event = "login_success",
        request_id = %ctx.request_id,
        user_id = user.id,
        username = %user.username,
        ip = %ctx.ip,
    );
    Ok(LoggedIn {
        user_id: user.id,
        username: user.username,
        cookie: session::set_cookie(&state.config, &value),
    })
}

/// Validates and creates an account (never logs in).
pub async fn register(
    state: &AppState,
    ctx: &Ctx,
    username: &str,
    password: &str,
) -> ApiResult<i64> {
    check_lengths(username, password)?;
    if let Some(msg) = users::username_violation(username) {
        return Err(ApiError::bad_request(msg));
    }
    if let Some(msg) =
        password::policy_violation(password, username, state.config.min_password_length)
    {
        return Err(ApiError::bad_request(msg));
    }
    if users::find_by_name(&state.db, username).await?.is_some() {
        return Err(ApiError::conflict("Username already exists."));
    }
    let hash = state.hasher.hash(password.to_string()).await?;
    match users::create(&state.db, username, &hash, false, now()).await? {
        Created::Taken => Err(ApiError::conflict("Username already exists.")),
        Created::Id(id) => {
            tracing::info!(
                event = "user_registered",
                request_id = %ctx.request_id,
                user_id = id,
                username = %username,
                ip = %ctx.ip,
            );
            Ok(id)
        }
    }
}

/// Ends the caller's session; the response clears the cookie and the browser's state.
pub async fn logout(state: &AppState, ctx: &Ctx, s: &session::Session) -> ApiResult<()> {
    session::destroy(&state.db, &s.id_hash).await?;
    tracing::info!(
        event = "user_logout",
        request_id = %ctx.request_id,
        user_id = s.user.id,
        username = %s.user.username,
        ip = %ctx.ip,
    );
    Ok(())
}

pub fn with_logout_headers(state: &AppState, mut res: Response) -> Response {
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, session::clear_cookie(&state.config));
    h.insert(
        "clear-site-data",
        HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""),
    );
    res
}

pub async fn api_login(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(previous): MaybeSession,
    body: Result<JsonObject, ApiError>,
) -> ApiResult<Response> {
    limit_ip(&state, &ctx, "/api/login").await?;
    let (username, password) = credentials(&body?)?;
    let done = login(&state, &ctx, previous.as_ref(), &username, &password).await?;
    let mut res = json(
        StatusCode::OK,
        json!({"message": "Login successful.", "user": {"id": done.user_id, "username": done.username}}),
    );
    res.headers_mut().append(header::SET_COOKIE, done.cookie);
    Ok(res)
}

pub async fn api_register(
    State(state): State<AppState>,
    ctx: Ctx,
    body: Result<JsonObject, ApiError>,
) -> ApiResult<Response> {
    limit_ip(&state, &ctx, "/api/register").await?;
    let (username, password) = credentials(&body?)?;
    register(&state, &ctx, &username, &password).await?;
    Ok(json(
        StatusCode::CREATED,
        json!({"message": "User registered successfully."}),
    ))
}

pub async fn api_logout(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
) -> ApiResult<Response> {
    let Some(s) = s else {
        return Err(ApiError::unauthorized("Not logged in."));
    };
    logout(&state, &ctx, &s).await?;
    Ok(with_logout_headers(
        &state,
        json(StatusCode::OK, json!({"message": "Logout successful."})),
    ))
}

pub async fn check_session(MaybeSession(s): MaybeSession) -> Response {
    match s {
        Some(s) => json(
            StatusCode::OK,
            json!({"is_authenticated": true, "user": {
                "id": s.user.id, "username": s.user.username, "is_admin": s.user.is_admin}}),
        ),
        None => json(StatusCode::UNAUTHORIZED, json!({"is_authenticated": false})),
    }
}

pub fn token_for(state: &AppState, ctx: &Ctx, s: Option<&session::Session>) -> String {
    csrf::issue(
        &state.keys.csrf,
        s.map(|s| s.id_hash.as_slice()),
        ctx.ip,
        &ctx.user_agent,
        now(),
    )
}

pub async fn csrf_token(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
) -> Response {
    json(
        StatusCode::OK,
        json!({"csrf_token": token_for(&state, &ctx, s.as_ref())}),
    )
}

pub async fn list_sessions(
    State(state): State<AppState>,
    Authed(s): Authed,
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

pub async fn revoke_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    Path(handle): Path<String>,
) -> ApiResult<Response> {
    if !session::destroy_by_handle(&state.db, s.user.id, &handle).await? {
        return Err(ApiError::not_found());
    }
    tracing::info!(event = "session_revoked", request_id = %ctx.request_id, user_id = s.user.id);
    Ok(json(StatusCode::OK, json!({"message": "Session revoked."})))
}

/// Re-authentication before a sensitive change (ASVS 7.5.1): the signed-in user, if
/// `password` is theirs; `None` (logged as `failure_event`) when it is not.
async fn reauthenticate(
    state: &AppState,
    ctx: &Ctx,
    s: &session::Session,
    password: &str,
    failure_event: &'static str,
) -> ApiResult<Option<users::User>> {
    let Some(user) = users::find_by_id(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let ok = password.len() <= MAX_PASSWORD_BYTES
        && state
            .hasher
            .verify(password.to_string(), user.password_hash.clone())
            .await?;
    if !ok {
        tracing::warn!(event = failure_event, request_id = %ctx.request_id, user_id = user.id, ip = %ctx.ip);
        return Ok(None);
    }
    Ok(Some(user))
}

/// `{current_password, new_password, confirm_password}`: verifies the current password,
/// applies the policy, ends every other session and rotates this one.
pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    body: JsonObject,
) -> ApiResult<Response> {
    let current = body.opt_str("current_password")?.unwrap_or_default();
    let new = body.opt_str("new_password")?.unwrap_or_default();
    let confirm = body.opt_str("confirm_password")?.unwrap_or_default();
    if current.is_empty() || new.is_empty() || confirm.is_empty() {
        return Err(ApiError::bad_request("Missing required fields"));
    }
    let Some(user) = reauthenticate(&state, &ctx, &s, current, "password_change_failed").await?
    else {
        return Err(ApiError::unauthorized("Current password is incorrect"));
    };
    if new != confirm {
        return Err(ApiError::bad_request("New passwords do not match"));
    }
    if new == current {
        return Err(ApiError::bad_request(
            "New password must be different from current password",
        ));
    }
    if let Some(msg) =
        password::policy_violation(new, &user.username, state.config.min_password_length)
    {
        return Err(ApiError::bad_request(msg));
    }
    let hash = state.hasher.hash(new.to_string()).await?;
    let ended = users::set_password_hash(&state.db, user.id, &hash).await?;
    let (value, _) = session::create(
        &state.db,
        user.id,
        &ctx.ip.to_string(),
        &ctx.user_agent,
        now(),
    )
    .await?;
    tracing::info!(
        event = "password_changed",
        request_id = %ctx.request_id,
        user_id = user.id,
        other_sessions_ended = ended.saturating_sub(1),
    );
    let mut res = json(
        StatusCode::OK,
        json!({"message": "Password changed successfully"}),
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&state.config, &value),
    );
    Ok(res.into_response())
}

/// `DELETE /api/account {password}`: the user deletes their own account (sessions,
/// progress and notes go with it). Requires the session, the CSRF token and the password.
pub async fn delete_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    body: JsonObject,
) -> ApiResult<Response> {
    let password = body.opt_str("password")?.unwrap_or_default();
    if password.is_empty() {
        return Err(ApiError::bad_request("Password is required."));
    }
    let Some(user) = reauthenticate(&state, &ctx, &s, password, "account_delete_failed").await?
    else {
        return Err(ApiError::unauthorized("Password is incorrect."));
    };
    users::delete(&state.db, user.id).await?;
    remove_avatar(&state.config.data_dir, &user.avatar).await;
    tracing::info!(
        event = "account_deleted",
        request_id = %ctx.request_id,
        user_id = user.id,
        username = %user.username,
        ip = %ctx.ip,
    );
    Ok(with_logout_headers(
        &state,
        json(StatusCode::OK, json!({"message": "Account deleted."})),
    ))
}

/// Deletes a user's stored avatar file, if any (after the account row is gone).
pub async fn remove_avatar(data_dir: &std::path::Path, avatar: &str) {
    let dir = crate::avatar::dir(data_dir);
    let name = avatar.to_string();
    let _ = tokio::task::spawn_blocking(move || crate::avatar::remove(&dir, &name)).await;
}
