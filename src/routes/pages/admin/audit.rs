//! The Audit tab: `/admin/audit?before=ID`, the audit log newest first, 100 a page.

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::Admin;
use crate::{
    admin::audit,
    http::rejection::LenientQuery,
    routes::pages::{NavUser, render},
    state::AppState,
    time::iso8601,
};

const PAGE: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(page))
}

struct Row {
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: &'static str,
    notice: String,
    error: String,
    entries: Vec<Row>,
    older: Option<i64>,
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    before: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    a: Admin,
    LenientQuery(q): LenientQuery<AuditQuery>,
) -> Response {
    let entries = match audit::list(&state, q.before, PAGE).await {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    render(
        StatusCode::OK,
        &AuditPage {
            user: a.user.clone(),
            csrf_token: a.csrf_token.clone(),
            tab: "/admin/audit",
            notice: String::new(),
            error: String::new(),
            entries: entries
                .into_iter()
                .map(|e| Row {
                    at: iso8601(e.at),
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    outcome: e.outcome,
                    ip: e.ip,
                    detail: e.detail,
                })
                .collect(),
            older,
        },
    )
}
