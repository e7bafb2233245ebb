//! `GET audit?limit=&before=`: the audit log, newest first (read-only; nothing edits it).

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    admin::audit,
    auth::admin::AdminUser,
    http::{ApiResult, json, rejection::LenientQuery},
    routes::api::openapi::Admin,
    state::AppState,
    time::iso8601,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/audit", get(list))
}

/// A malformed query string counts as none (`LenientQuery`).
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// At most this many entries (default 100).
    limit: Option<i64>,
    /// Entries with an id below this one.
    before: Option<i64>,
}

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct Entry {
    id: i64,
    at: String,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    ip: String,
    detail: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Entries {
    entries: Vec<Entry>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/admin/audit", operation_id = "admin_audit", tag = "admin", params(AuditQuery),
    security(("session" = [])),
    responses(Admin, (status = 200, description = "The entries", body = Entries)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    LenientQuery(q): LenientQuery<AuditQuery>,
) -> ApiResult<Response> {
    let entries: Vec<_> = audit::list(&state, q.before, q.limit.unwrap_or(100))
        .await?
        .iter()
        .map(|e| {
            json!({"id": e.id, "at": iso8601(e.at), "actor_id": e.actor_id, "actor": e.actor,
                   "action": e.action, "target": e.target, "outcome": e.outcome, "ip": e.ip,
                   "detail": e.detail})
        })
        .collect();
    Ok(json(StatusCode::OK, json!({ "entries": entries })))
}
