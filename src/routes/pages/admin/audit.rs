//! Placeholder: the admin's audit tab (filled by the audit work).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
