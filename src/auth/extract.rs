//! The extractors a handler names to state its authentication needs. The session itself is
//! loaded once per request by `auth::guard` and handed on in the request's extensions.

use axum::{
    extract::FromRequestParts,
    http::{Method, request::Parts},
    response::{IntoResponse, Redirect, Response},
};

use super::session::Session;
use crate::http::{ApiError, wants_html};

/// The caller's session, if the cookie named a live one.
#[derive(Clone)]
pub struct MaybeUser(pub Option<Session>);

/// A handler argument that requires a session: 401 JSON for API clients, 303 to the login
/// page for browsers asking for HTML.
pub struct CurrentUser(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<MaybeUser>()
            .cloned()
            .unwrap_or(MaybeUser(None)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts
            .extensions
            .get::<MaybeUser>()
            .and_then(|s| s.0.clone())
        {
            Some(s) => Ok(CurrentUser(s)),
            None => Err(anonymous_rejection(parts)),
        }
    }
}

/// The answer to an anonymous caller of a route that needs a session: 303 to the login
/// page (returning here) for a browser's GET, else 401 JSON.
pub(super) fn anonymous_rejection(parts: &Parts) -> Response {
    if wants_html(&parts.headers) && parts.method == Method::GET {
        let next = parts.uri.path();
        Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
    } else {
        ApiError::unauthorized("Authentication required.").into_response()
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
