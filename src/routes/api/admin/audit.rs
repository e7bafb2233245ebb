//! `GET audit?limit=&before=`: the audit log, newest first (read-only; nothing edits it).

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde::Deserialize;
use serde_json::json;

use crate::{
    admin::audit,
    auth::admin::AdminUser,
    http::{ApiResult, json, rejection::LenientQuery},
    state::AppState,
    time::iso8601,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/audit", get(list))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    limit: Option<i64>,
    before: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
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
