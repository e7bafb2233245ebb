//! The session and CSRF layer: loads the caller's session from its cookie, then, for
//! state-changing methods, applies the cross-origin check (Fetch Metadata, then Origin)
//! and the synchronizer-token check, in that order (docs/design.md "CSRF"). Handlers find
//! the session through the `MaybeUser`/`CurrentUser` extractors.

use axum::{
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    csrf::{self, Check},
    extract::MaybeUser,
    origin::cross_origin,
    session::{self, Loaded, Session},
    token_source,
};
use crate::{
    http::{ApiError, Ctx, is_json_content_type},
    state::AppState,
    time::now,
};

/// Routes that take no CSRF token (docs/checklist.md §14's curl commands send none) and are protected by
/// JSON-only bodies plus the cross-origin check instead.
pub fn token_exempt(path: &str) -> bool {
    matches!(path, "/api/login" | "/api/register" | "/api/logout")
}

/// What a session held to "password change required" may still reach: the password form
/// and its post (page and API), logout, the session probes, and the static files the form
/// page loads.
pub fn allowed_while_change_required(method: &Method, path: &str) -> bool {
    matches!(
        path,
        "/api/profile/change-password"
            | "/profile/password"
            | "/api/logout"
            | "/logout"
            | "/api/check_session"
            | "/csrf-token"
            | "/health"
            | "/health/deep"
    ) || (path == "/profile" && matches!(*method, Method::GET | Method::HEAD))
        || path.starts_with("/static/")
        || path.starts_with("/avatars/")
}

/// The answer to anything else while the password must change: 403 JSON for the API, 303
/// to the password form for a page.
fn change_required(path: &str) -> Response {
    if path.starts_with("/api/") {
        ApiError::new(StatusCode::FORBIDDEN, PASSWORD_CHANGE_REQUIRED).into_response()
    } else {
        axum::response::Redirect::to("/profile").into_response()
    }
}

pub const PASSWORD_CHANGE_REQUIRED: &str = "Password change required";

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_known(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET
            | Method::HEAD
            | Method::OPTIONS
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
    )
}

fn csrf_failure(ctx: &Ctx, reason: &'static str, status: StatusCode, message: &str) -> Response {
    crate::metrics::csrf_failure(reason);
    tracing::warn!(
        event = "csrf_failure",

        ip = %ctx.ip,
        reason,
    );
    ApiError::new(status, message).into_response()
}

/// The live session the request's cookie names, and whether the cookie should be cleared
/// (malformed, unknown or expired).
async fn load_session(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    now: i64,
) -> Result<(Option<Session>, bool), ApiError> {
    let config = &state.config;
    let Some(value) = session::cookie_value(headers, &config.cookie_name) else {
        return Ok((None, false));
    };
    let Some(id) = session::decode_cookie(value) else {
        return Ok((None, true));
    };
    match session::load(&state.db, config, &id, now).await? {
        Loaded::Valid(s) => Ok((Some(s), false)),
        Loaded::Expired { user_id } => {
            tracing::info!(
                event = "session_expired",

                user_id,
                ip = %ctx.ip,
            );
            Ok((None, true))
        }
        Loaded::Unknown => Ok((None, true)),
    }
}

/// The cross-origin and token checks of an unsafe request: `Err` is the answer that
/// refuses it; `Ok` hands on the request (whose body may have been buffered).
async fn check_unsafe(
    state: &AppState,
    ctx: &Ctx,
    session: Option<&Session>,
    req: Request,
    now: i64,
) -> Result<Request, Response> {
    let config = &state.config;
    let public_host = config
        .public_url
        .split_once("://")
        .map(|(_, h)| h)
        .unwrap_or("");
    if cross_origin(req.headers(), public_host) {
        return Err(csrf_failure(
            ctx,
            "cross_origin",
            StatusCode::FORBIDDEN,
            "Cross-origin request blocked.",
        ));
    }
    if token_exempt(req.uri().path()) {
        if req.headers().contains_key(header::CONTENT_TYPE) && !is_json_content_type(req.headers())
        {
            return Err(ApiError::unsupported_media_type().into_response());
        }
        return Ok(req);
    }
    let (token, req) = token_source::find(req, config.max_body_size)
        .await
        .map_err(IntoResponse::into_response)?;
    let Some(token) = token else {
        return Err(csrf_failure(
            ctx,
            "missing",
            StatusCode::BAD_REQUEST,
            "The CSRF token is missing.",
        ));
    };
    let bound = session.map(|s| s.id_hash.as_slice());
    match csrf::verify(
        &state.keys.csrf,
        &token,
        bound,
        ctx.ip,
        &ctx.user_agent,
        now,
    ) {
        Check::Valid => Ok(req),
        Check::Invalid => Err(csrf_failure(
            ctx,
            "invalid",
            StatusCode::BAD_REQUEST,
            "The CSRF token is invalid.",
        )),
        Check::Expired => Err(csrf_failure(
            ctx,
            "expired",
            StatusCode::BAD_REQUEST,
            "The CSRF token has expired.",
        )),
    }
}

/// The innermost step of `http::stack`: session, then method, then (for unsafe methods)
/// origin and token, then the one place "password change required" is enforced; `next` is
/// the route.
pub async fn guard(state: &AppState, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return ApiError::internal("request context missing").into_response();
    };
    let now = now();
    // The lookup and the checks of unsafe methods are boxed: their futures (the database's)
    // are large, and every request without a cookie, or with a safe method, would
    // otherwise carry and move them (docs/performance.md "Hot paths").
    let loaded = if req.headers().contains_key(header::COOKIE) {
        Box::pin(load_session(state, &ctx, req.headers(), now)).await
    } else {
        Ok((None, false))
    };
    let (session, clear_cookie) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return e.into_response(),
    };
    if !is_known(req.method()) {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
            .into_response();
    }
    let mut req = req;
    if is_unsafe(req.method()) {
        req = match Box::pin(check_unsafe(state, &ctx, session.as_ref(), req, now)).await {
            Ok(req) => req,
            Err(refused) => return refused,
        };
    }
    let held = session.as_ref().is_some_and(|s| s.password_change_required);
    if held && !allowed_while_change_required(req.method(), req.uri().path()) {
        return change_required(req.uri().path());
    }
    req.extensions_mut().insert(MaybeUser(session));
    let mut res = next.run(req).await;
    if clear_cookie && !res.headers().contains_key(header::SET_COOKIE) {
        res.headers_mut()
            .append(header::SET_COOKIE, session::clear_cookie(&state.config));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_session_reaches_only_the_password_change() {
        let ok = |m: Method, p: &str| allowed_while_change_required(&m, p);
        for p in [
            "/api/profile/change-password",
            "/profile/password",
            "/api/logout",
            "/logout",
            "/api/check_session",
            "/csrf-token",
            "/static/style.css",
        ] {
            assert!(ok(Method::POST, p) || ok(Method::GET, p), "{p}");
        }
        assert!(ok(Method::GET, "/profile"));
        assert!(!ok(Method::POST, "/profile"));
        for p in [
            "/",
            "/api/content",
            "/api/profile",
            "/admin",
            "/course/x",
            "/courses/x/index.html",
        ] {
            assert!(!ok(Method::GET, p), "{p}");
        }
        assert_eq!(
            change_required("/api/content").status(),
            StatusCode::FORBIDDEN
        );
        let page = change_required("/admin/users");
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(page.headers()[header::LOCATION], "/profile");
    }
}
