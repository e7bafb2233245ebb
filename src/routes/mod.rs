//! The route table: each area (`pages`, `api`, `courses`, `health`, `assets`) has its own
//! `router()`, merged here; the unknown-path and wrong-method answers.

mod api;
mod assets;
mod courses;
mod health;
mod pages;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
};
use tower_http::{catch_panic::CatchPanicLayer, timeout::TimeoutLayer};

use crate::{
    http::{self, ApiError},
    state::AppState,
};

/// Overall time a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_size;
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .merge(health::router())
        .merge(assets::router())
        .merge(courses::router())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::guard::guard,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), http::frame))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!(event = "panic");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
                .into_response()
        }))
        .with_state(state)
}

async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.").into_response()
}
