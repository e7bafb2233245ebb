//! Course pages (`/course/{uid}`) and course package files (`/courses/{*path}`).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
