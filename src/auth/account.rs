//! The account operations the JSON API and the HTML forms share: login, registration,
//! logout, password change and account deletion. Handlers turn their request (JSON or
//! form) into these calls and their results into their own kind of answer.

use axum::http::HeaderValue;

use super::{
    password::Format,
    session::{self, Session},
};
use crate::{
    db::{
        sessions::NewSession,
        users::{self, Created, User},
    },
    domain::{
        MAX_PASSWORD_BYTES, MAX_USERNAME, NewPassword, Username, is_weak_password, username_key,
    },
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

const ACCOUNT_LOCKED: &str = "Too many failed attempts. Please try again later.";
const BAD_CREDENTIALS: &str = "Invalid username or password.";

/// Bounds checked on any username and password a client sends, before any work.
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

/// A successful login: the account and the `Set-Cookie` value of its new session.
pub struct LoggedIn {
    pub user_id: i64,
    pub username: String,
    pub cookie: HeaderValue,
}

/// Verifies a password against the account, or against a dummy hash when there is none, so
/// an unknown name costs the same time as a wrong password.
async fn verify(state: &AppState, user: Option<&User>, password: &str) -> ApiResult<bool> {
    Ok(match user {
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
    })
}

/// The whole login: per-account back-off, constant-time-ish verification, session
/// rotation (the caller applies the per-IP limit first).
pub async fn login(
    state: &AppState,
    ctx: &Ctx,
    previous: Option<&Session>,
    username: &str,
    password: &str,
) -> ApiResult<LoggedIn> {
    check_lengths(username, password)?;
    let key = username_key(username);
    let now = now();
    let (user, locked_until) = users::find_for_login(&state.db, &key).await?;
    if let Some(until) = locked_until.filter(|u| *u > now) {
        crate::metrics::rate_limit_hit("account");
        tracing::warn!(
            event = "rate_limit_exceeded",

            ip = %ctx.ip,
            endpoint = "login_account",
            username = %username,
        );
        return Err(ApiError::too_many(ACCOUNT_LOCKED, (until - now) as u64));
    }
    let verified = verify(state, user.as_ref(), password).await?;
    let user = match user {
        Some(u) if verified => u,
        _ => {
            super::rate_limit::record_failure(&state.db, &key, now).await?;
            crate::metrics::login(false);
            tracing::warn!(
                event = "login_failure",

                username = %username,
                ip = %ctx.ip,
                reason = "invalid_credentials",
            );
            return Err(ApiError::unauthorized(BAD_CREDENTIALS));
        }
    };
    if locked_until.is_some() {
        super::rate_limit::clear_failures(&state.db, &key).await?;
    }
    crate::metrics::login(true);
    // The original's hash (Werkzeug) is replaced by Argon2id at the first login it opens.
    if Format::of(&user.password_hash) == Format::Werkzeug {
        let hash = state.hasher.hash(password.to_string()).await?;
        if users::upgrade_password_hash(&state.db, user.id, &user.password_hash, &hash).await? {
            tracing::info!(
                event = "password_rehashed",
                user_id = user.id,
                from = "werkzeug"
            );
        }
    }
    let weak = is_weak_password(password, state.config.min_password_length);
    // A new id at login, and the browser's previous session (if any) ends with it.
    let old = previous.map(|s| s.id_hash.as_slice());
    let ip = ctx.ip.to_string();
    let peer = (ip.as_str(), ctx.user_agent.as_str());
    let value = session::open(&state.db, old, user.id, peer, now, weak).await?;
    if weak {
        tracing::info!(event = "password_change_required", user_id = user.id);
    }
    let cookie = session::set_cookie(&state.config, &value);
    tracing::info!(
        event = "login_success",

        user_id = user.id,
        username = %user.username,
        ip = %ctx.ip,
    );
    Ok(LoggedIn {
        user_id: user.id,
        username: user.username,
        cookie,
    })
}

/// Validates and creates an account (never logs in). Returns its id.
pub async fn register(
    state: &AppState,
    ctx: &Ctx,
    username: &str,
    password: &str,
) -> ApiResult<i64> {
    let id = create(state, username, password, false).await?;
    tracing::info!(
        event = "user_registered",
        user_id = id,
        username = %username,
        ip = %ctx.ip,
    );
    Ok(id)
}

/// Creates an account under the registration rules (name, password policy, 409 on a name
/// taken in any case): registration and the admin's create-user. Returns its id.
pub async fn create(
    state: &AppState,
    username: &str,
    password: &str,
    is_admin: bool,
) -> ApiResult<i64> {
    check_lengths(username, password)?;
    let name = Username::parse(username).map_err(ApiError::bad_request)?;
    let password = NewPassword::parse(password, username, state.config.min_password_length)
        .map_err(ApiError::bad_request)?;
    if users::find_by_key(&state.db, &name.key()).await?.is_some() {
        return Err(ApiError::conflict("Username already exists."));
    }
    let hash = state.hasher.hash(password.into_inner()).await?;
    match users::insert(
        &state.db,
        name.as_ref(),
        &name.key(),
        &hash,
        is_admin,
        now(),
    )
    .await?
    {
        Created::Taken => Err(ApiError::conflict("Username already exists.")),
        Created::Id(id) => Ok(id),
    }
}

/// Ends the caller's session (the answer should also clear the cookie; see
/// `session::logout_headers`).
pub async fn logout(state: &AppState, ctx: &Ctx, s: &Session) -> ApiResult<()> {
    session::destroy(&state.db, &s.id_hash).await?;
    tracing::info!(
        event = "user_logout",

        user_id = s.user.id,
        username = %s.user.username,
        ip = %ctx.ip,
    );
    Ok(())
}

/// Re-authentication before a sensitive change (ASVS 7.5.1): the signed-in user, if
/// `password` is theirs; `None` (logged as `failure_event`) when it is not.
async fn reauthenticate(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    password: &str,
    failure_event: &'static str,
) -> ApiResult<Option<User>> {
    let Some(user) = users::find_by_id(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let ok = password.len() <= MAX_PASSWORD_BYTES
        && state
            .hasher
            .verify(password.to_string(), user.password_hash.clone())
            .await?;
    if !ok {
        tracing::warn!(event = failure_event, user_id = user.id, ip = %ctx.ip);
        return Ok(None);
    }
    Ok(Some(user))
}

/// A password change as a form or JSON body states it (absent fields are empty).
#[derive(Default)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub confirm: String,
}

/// Verifies the current password, applies the policy, ends every session of the account
/// and opens a new one for this caller. Returns the new session's `Set-Cookie`.
pub async fn change_password(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    change: &PasswordChange,
) -> ApiResult<HeaderValue> {
    let PasswordChange {
        current,
        new,
        confirm,
    } = change;
    if current.is_empty() || new.is_empty() || confirm.is_empty() {
        return Err(ApiError::bad_request("Missing required fields"));
    }
    let Some(user) = reauthenticate(state, ctx, s, current, "password_change_failed").await? else {
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
    let new = NewPassword::parse(new, &user.username, state.config.min_password_length)
        .map_err(ApiError::bad_request)?;
    let hash = state.hasher.hash(new.into_inner()).await?;
    // The new hash, the end of every session and this caller's new one: one transaction.
    let (value, id_hash) = session::new_id();
    let ip = ctx.ip.to_string();
    let new = NewSession {
        id_hash: &id_hash,
        user_id: user.id,
        ip: &ip,
        user_agent: &ctx.user_agent,
        now: now(),
        password_change_required: false,
    };
    let ended = users::set_password_hash(&state.db, user.id, &hash, Some(&new)).await?;
    let cookie = session::set_cookie(&state.config, &value);
    tracing::info!(
        event = "password_changed",
        user_id = user.id,
        other_sessions_ended = ended.saturating_sub(1),
    );
    Ok(cookie)
}

/// The user deletes their own account after giving its password: sessions, progress,
/// notes and the avatar go with it (one transaction, `db::users::delete`).
pub async fn delete(state: &AppState, ctx: &Ctx, s: &Session, password: &str) -> ApiResult<()> {
    if password.is_empty() {
        return Err(ApiError::bad_request("Password is required."));
    }
    let Some(user) = reauthenticate(state, ctx, s, password, "account_delete_failed").await? else {
        return Err(ApiError::unauthorized("Password is incorrect."));
    };
    users::delete(&state.db, user.id).await?;
    tracing::info!(
        event = "account_deleted",

        user_id = user.id,
        username = %user.username,
        ip = %ctx.ip,
    );
    Ok(())
}
