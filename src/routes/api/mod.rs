//! The JSON API under `/api/` (and `/csrf-token`, `/auth/check`, `/avatars/`,
//! `/openapi.json`): one module per area, each with its own `router()`; `openapi` assembles
//! their document.

mod account;
mod admin;
mod auth;
mod avatar;
mod content;
mod ebooks;
mod learning;
pub(super) mod openapi;
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
        .merge(openapi::router())
}
