//! The JSON API under `/api/` (and `/csrf-token`, `/avatars/`): one module per area, each
//! with its own `router()`.

mod account;
mod admin;
mod auth;
mod avatar;
mod content;
mod ebooks;
mod learning;
mod profile;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(account::router())
        .merge(profile::router())
        .merge(avatar::router())
        .merge(content::router())
        .merge(ebooks::router())
        .merge(learning::router())
        .merge(admin::router())
}
