//! Placeholder: the admin's users tab (filled by the users work).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
