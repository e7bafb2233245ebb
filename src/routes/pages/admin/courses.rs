//! Placeholder: the admin's courses tab (filled by the courses work).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
