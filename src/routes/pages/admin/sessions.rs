//! Placeholder: the admin's sessions tab (filled by the sessions work).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
