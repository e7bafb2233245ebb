//! Placeholder: the admin's system routes (filled by the system work).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
