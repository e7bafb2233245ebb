//! Placeholder: the admin's system tab (filled by the system work).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
