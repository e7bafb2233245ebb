//! Progress and notes: `/api/course/progress`, `/api/course/{uid}/note`, `/api/course/note`.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
