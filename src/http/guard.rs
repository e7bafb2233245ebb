//! The session and CSRF layer: loads the caller's session from its cookie, then, for
//! state-changing methods, applies the cross-origin check (Fetch Metadata, then Origin)
//! and the synchronizer-token check, in that order. See DESIGN.md "CSRF".

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use super::{ApiError, Ctx, is_json_content_type, read_body, wants_html};
use crate::{
    csrf::{self, Check},
    db::now,
    session::{self, Loaded, Session},
    state::AppState,
};

/// The caller's session, if the cookie named a live one.
#[derive(Clone)]
pub struct MaybeSession(pub Option<Session>);

/// A handler argument that requires a session: 401 JSON for API clients, 303 to the login
/// page for browsers asking for HTML.
pub struct Authed(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<MaybeSession>()
            .cloned()
            .unwrap_or(MaybeSession(None)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts
            .extensions
            .get::<MaybeSession>()
            .and_then(|s| s.0.clone())
        {
            Some(s) => Ok(Authed(s)),
            None if wants_html(&parts.headers) && parts.method == Method::GET => {
                let next = parts.uri.path();
                Err(Redirect::to(&format!("/login?next={}", urlencode(next))).into_response())
            }
            None => Err(ApiError::unauthorized("Authentication required.").into_response()),
        }
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Routes that take no CSRF token (the seed's curl commands send none) and are protected by
/// JSON-only bodies plus the cross-origin check instead.
pub fn token_exempt(path: &str) -> bool {
    matches!(path, "/api/login" | "/api/register" | "/api/logout")
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Go 1.25 CrossOriginProtection semantics: `Sec-Fetch-Site` decides when present; else a
/// present `Origin` must name this host; a request with neither is not from a browser.
pub fn cross_origin(headers: &HeaderMap, public_host: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        return !(site == "same-origin" || site == "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("");
    let host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    if host.is_empty() || host.contains('/') {
        return true;
    }
    let req_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    !(host.eq_ignore_ascii_case(req_host) || host.eq_ignore_ascii_case(public_host))
}

fn csrf_failure(ctx: &Ctx, reason: &'static str, status: StatusCode, message: &str) -> Response {
    crate::metrics::csrf_failure(reason);
    tracing::warn!(
        event = "csrf_failure",
        request_id = %ctx.request_id,
        ip = %ctx.ip,
        reason,
    );
    ApiError::new(status, message).into_response()
}

fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    ["x-csrftoken", "x-csrf-token"]
        .iter()
        .filter_map(|h| headers.get(*h))
        .filter_map(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
}

fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct
        .trim()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    multer::parse_boundary(ct).ok()
}

/// The `csrf_token` field of a buffered multipart body (an HTML upload form), if any.
async fn multipart_token(bytes: axum::body::Bytes, boundary: String) -> Option<String> {
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some("csrf_token") {
            return field
                .text()
                .await
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
        }
    }
    None
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return ApiError::internal("request context missing").into_response();
    };
    let config = &state.config;
    let now = now();

    // 1. The session, if the cookie names a live one.
    let mut clear_cookie = false;
    let mut session = None;
    if let Some(value) = session::cookie_value(req.headers(), &config.cookie_name) {
        match session::decode_cookie(value) {
            None => clear_cookie = true,
            Some(id) => match session::load(&state.db, config, &id, now).await {
                Ok(Loaded::Valid(s)) => session = Some(s),
                Ok(Loaded::Expired { user_id }) => {
                    tracing::info!(
                        event = "session_expired",
                        request_id = %ctx.request_id,
                        user_id,
                        ip = %ctx.ip,
                    );
                    clear_cookie = true;
                }
                Ok(Loaded::Unknown) => clear_cookie = true,
                Err(e) => return ApiError::from(e).into_response(),
            },
        }
    }

    // 2. CSRF, for state-changing methods only.
    let mut req = req;
    if !matches!(
        *req.method(),
        Method::GET
            | Method::HEAD
            | Method::OPTIONS
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
    ) {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
            .into_response();
    }
    if is_unsafe(req.method()) {
        let public_host = config
            .public_url
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or("");
        if cross_origin(req.headers(), public_host) {
            return csrf_failure(
                &ctx,
                "cross_origin",
                StatusCode::FORBIDDEN,
                "Cross-origin request blocked.",
            );
        }
        let path = req.uri().path();
        if token_exempt(path) {
            if req.headers().contains_key(header::CONTENT_TYPE)
                && !is_json_content_type(req.headers())
            {
                return ApiError::unsupported_media_type().into_response();
            }
        } else {
            let mut token = token_from_headers(req.headers());
            if token.is_none() && is_form(req.headers()) {
                let (parts, body) = req.into_parts();
                let bytes = match read_body(body, config.max_body_size).await {
                    Ok(b) => b,
                    Err(e) => return e.into_response(),
                };
                token = form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v.trim().to_string())
                    .filter(|v| !v.is_empty());
                req = Request::from_parts(parts, Body::from(bytes));
            } else if token.is_none()
                && let Some(boundary) = multipart_boundary(req.headers())
            {
                // HTML upload forms carry the token as a form field; buffer (bounded by the
                // upload limit) to find it, then hand the same bytes on.
                let (parts, body) = req.into_parts();
                let limit = config
                    .max_body_size
                    .max(crate::routes::avatar::UPLOAD_BODY_LIMIT);
                let bytes = match read_body(body, limit).await {
                    Ok(b) => b,
                    Err(e) => return e.into_response(),
                };
                token = multipart_token(bytes.clone(), boundary).await;
                req = Request::from_parts(parts, Body::from(bytes));
            }
            let Some(token) = token else {
                return csrf_failure(
                    &ctx,
                    "missing",
                    StatusCode::BAD_REQUEST,
                    "The CSRF token is missing.",
                );
            };
            let bound = session.as_ref().map(|s| s.id_hash.as_slice());
            match csrf::verify(
                &state.keys.csrf,
                &token,
                bound,
                ctx.ip,
                &ctx.user_agent,
                now,
            ) {
                Check::Valid => {}
                Check::Invalid => {
                    return csrf_failure(
                        &ctx,
                        "invalid",
                        StatusCode::BAD_REQUEST,
                        "The CSRF token is invalid.",
                    );
                }
                Check::Expired => {
                    return csrf_failure(
                        &ctx,
                        "expired",
                        StatusCode::BAD_REQUEST,
                        "The CSRF token has expired.",
                    );
                }
            }
        }
    }

    req.extensions_mut().insert(MaybeSession(session));
    let mut res = next.run(req).await;
    if clear_cookie && !res.headers().contains_key(header::SET_COOKIE) {
        res.headers_mut()
            .append(header::SET_COOKIE, session::clear_cookie(config));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn cross_origin_vectors() {
        let host = ("host", "platform.edu");
        assert!(!cross_origin(
            &h(&[host, ("sec-fetch-site", "same-origin")]),
            ""
        ));
        assert!(!cross_origin(&h(&[host, ("sec-fetch-site", "none")]), ""));
        assert!(cross_origin(
            &h(&[
                host,
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example")
            ]),
            ""
        ));
        assert!(cross_origin(
            &h(&[host, ("sec-fetch-site", "same-site")]),
            ""
        ));
        assert!(!cross_origin(
            &h(&[host, ("origin", "https://platform.edu")]),
            ""
        ));
        assert!(cross_origin(
            &h(&[host, ("origin", "https://evil.example")]),
            ""
        ));
        assert!(cross_origin(
            &h(&[host, ("origin", "https://platform.edu.evil.example")]),
            ""
        ));
        assert!(!cross_origin(&h(&[host]), ""));
        assert!(cross_origin(&h(&[host, ("origin", "null")]), ""));
        assert!(!cross_origin(
            &h(&[
                ("host", "127.0.0.1:8000"),
                ("origin", "https://platform.edu")
            ]),
            "platform.edu"
        ));
    }
}
