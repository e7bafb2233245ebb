//! Avatars: upload (`POST /api/profile/avatar`) and serving (`GET /avatars/{name}`).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
