//! The route table: each area (`pages`, `api`, `courses`, `health`, `assets`) has its own
//! `router()`, merged here; the unknown-path and wrong-method answers.

mod api;
mod assets;
mod courses;
mod health;
mod pages;

use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::{http::ApiError, state::AppState};

/// The route table; `http::stack::apply` wraps it in the middleware.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .merge(health::router())
        .merge(assets::router())
        .merge(courses::router())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.").into_response()
}
