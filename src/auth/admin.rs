//! Admin access (docs/design.md "Admin panel"): the `AdminUser` extractor, and recent
//! re-authentication ("sudo mode"): actions that change accounts or delete data need the
//! admin to have entered their password within `ADMIN_REAUTH_WINDOW` (a login counts).
//! Refused attempts by signed-in non-admins, and actions refused for want of a recent
//! password, are audited (`admin::audit`); anonymous requests are not (they would let
//! anyone fill the table; the access log has them).

use axum::{
    extract::{FromRequestParts, MatchedPath},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};

use super::{MaybeUser, extract::anonymous_rejection, rate_limit, session::Session};
use crate::{
    admin::audit::{self, Action, Outcome},
    db::{sessions, users},
    domain::{MAX_PASSWORD_BYTES, username_key},
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

pub const ADMIN_REQUIRED: &str = "Admin access required";
pub const REAUTH_REQUIRED: &str = "Re-authentication required";

/// Why a caller is not let into the admin area.
pub enum Refusal {
    Anonymous,
    /// Signed in, not an admin (already audited).
    NotAdmin(Session),
}

/// The caller's session if it is an admin's; a signed-in non-admin's attempt on `action`
/// (the matched route) is audited as denied.
pub async fn check(
    state: &AppState,
    ctx: &Ctx,
    session: Option<Session>,
    action: &str,
) -> ApiResult<Result<Session, Refusal>> {
    match session {
        None => Ok(Err(Refusal::Anonymous)),
        Some(s) if s.user.is_admin => Ok(Ok(s)),
        Some(s) => {
            audit::record(
                state,
                ctx,
                &Action {
                    actor: Some(&s.user),
                    action,
                    target: "",
                    outcome: Outcome::Denied,
                    detail: "not an admin",
                },
            )
            .await?;
            Ok(Err(Refusal::NotAdmin(s)))
        }
    }
}

/// A handler argument that requires an admin: 401 (or 303 to the login page for a
/// browser's GET) when anonymous, 403 `{"error":"Admin access required"}` otherwise.
pub struct AdminUser(pub Session);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match check_request(parts, state).await?.1 {
            Ok(s) => Ok(AdminUser(s)),
            Err(Refusal::Anonymous) => Err(anonymous_rejection(parts)),
            Err(Refusal::NotAdmin(_)) => {
                Err(ApiError::new(StatusCode::FORBIDDEN, ADMIN_REQUIRED).into_response())
            }
        }
    }
}

/// [`check`] for a request (its session, on its matched route): the request's context,
/// and the admin's session or why not.
pub async fn check_request(
    parts: &mut Parts,
    state: &AppState,
) -> Result<(Ctx, Result<Session, Refusal>), Response> {
    let session = parts
        .extensions
        .get::<MaybeUser>()
        .and_then(|m| m.0.clone());
    let ctx = Ctx::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let action = route_of(parts);
    let outcome = check(state, &ctx, session, &action)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((ctx, outcome))
}

/// The matched route template (`/api/admin/users`), else the path, as an audit action.
pub fn route_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().chars().take(200).collect())
}

/// Whether the session's password was entered within the re-authentication window.
pub fn is_recent(state: &AppState, s: &Session) -> bool {
    now() - s.reauth_at < state.config.admin_reauth_window.as_secs() as i64
}

/// Seconds left before the session needs its password again (0 when it already does).
pub fn seconds_left(state: &AppState, s: &Session) -> i64 {
    (s.reauth_at + state.config.admin_reauth_window.as_secs() as i64 - now()).max(0)
}

/// Refuses `action` on `target` with 403 `{"error":"Re-authentication required"}` (and an
/// audit row) unless the admin entered their password recently.
pub async fn require_recent(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    action: &str,
    target: &str,
) -> ApiResult<()> {
    if is_recent(state, s) {
        return Ok(());
    }
    audit::record(
        state,
        ctx,
        &Action {
            actor: Some(&s.user),
            action,
            target,
            outcome: Outcome::Denied,
            detail: "re-authentication required",
        },
    )
    .await?;
    Err(ApiError::new(StatusCode::FORBIDDEN, REAUTH_REQUIRED))
}

/// The admin enters their password again: limited as a login is (the per-IP
/// `AUTH_RATE_LIMIT` and the per-account back-off), audited, and on success the session
/// may change accounts for the next `ADMIN_REAUTH_WINDOW`. Returns the seconds granted.
pub async fn reauthenticate(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    password: &str,
) -> ApiResult<i64> {
    rate_limit::check_ip(state, ctx, "reauth").await?;
    if password.is_empty() {
        return Err(ApiError::bad_request("Password is required."));
    }
    let key = username_key(&s.user.username);
    let now = now();
    let (user, locked_until) = users::find_for_login(&state.db, &key).await?;
    if let Some(until) = locked_until.filter(|u| *u > now) {
        crate::metrics::rate_limit_hit("account");
        return Err(ApiError::too_many(
            "Too many failed attempts. Please try again later.",
            (until - now) as u64,
        ));
    }
    let Some(user) = user.filter(|u| u.id == s.user.id) else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let ok = password.len() <= MAX_PASSWORD_BYTES
        && state
            .hasher
            .verify(password.to_string(), user.password_hash.clone())
            .await?;
    let (outcome, detail) = if ok {
        (Outcome::Success, "")
    } else {
        (Outcome::Refused, "wrong password")
    };
    audit::record(
        state,
        ctx,
        &Action {
            actor: Some(&s.user),
            action: "reauthenticate",
            target: "",
            outcome,
            detail,
        },
    )
    .await?;
    if !ok {
        rate_limit::record_failure(&state.db, &key, now).await?;
        return Err(ApiError::unauthorized("Password is incorrect."));
    }
    if locked_until.is_some() {
        rate_limit::clear_failures(&state.db, &key).await?;
    }
    sessions::set_reauth(&state.db, &s.id_hash, now).await?;
    Ok(state.config.admin_reauth_window.as_secs() as i64)
}
