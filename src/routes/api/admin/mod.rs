//! The admin API under `/api/admin/` (docs/design.md "Admin panel"): every handler takes
//! `AdminUser`, so anonymous callers get 401 and signed-in non-admins 403 `{"error":"Admin
//! access required"}` before anything else; the guard has already applied the CSRF rules
//! to every POST and DELETE. The work is in `crate::admin` (and `catalog` for courses),
//! which audits it. One module per area: `users`, `sessions` (with re-authentication),
//! `audit`, `courses`, `system`. The original's `env-config`, `run-script`,
//! `seed-test-users`, `server/restart`, `generate-thumbnails` and `self-heal` are not
//! offered and answer 404 (docs/security.md "Admin panel").

pub(super) mod audit;
pub(super) mod courses;
pub(super) mod sessions;
pub(super) mod system;
pub(super) mod users;

use axum::Router;

use crate::{http::ApiError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(sessions::router())
        .merge(audit::router())
        .merge(courses::router())
        .merge(system::router())
}

/// The `user_id` field, required.
fn user_id(body: &crate::http::JsonObject) -> crate::http::ApiResult<i64> {
    body.opt_id("user_id")?
        .ok_or_else(|| ApiError::bad_request("user_id is required."))
}
