//! The Sessions tab: `/admin/sessions`, every live session, and
//! `POST /admin/sessions/revoke {handle}`.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{Admin, AdminForm, Done, answer};
use crate::{
    admin::sessions::{self, LiveSession},
    http::ApiError,
    routes::pages::{NavUser, render},
    state::AppState,
    time::iso8601,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sessions", get(page))
        .route("/admin/sessions/revoke", post(revoke))
}

struct Row {
    handle: String,
    username: String,
    created_at: String,
    last_seen_at: String,
    ip: String,
    user_agent: String,
    current: bool,
}

impl From<LiveSession> for Row {
    fn from(l: LiveSession) -> Row {
        Row {
            handle: l.handle,
            username: l.username,
            created_at: iso8601(l.created_at),
            last_seen_at: iso8601(l.last_seen_at),
            ip: l.ip,
            user_agent: l.user_agent,
            current: l.current,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/sessions.html")]
struct SessionsPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: &'static str,
    notice: String,
    error: String,
    sessions: Vec<Row>,
}

async fn render_page(
    state: &AppState,
    a: &Admin,
    notice: &str,
    error: Option<ApiError>,
) -> Response {
    let list = match sessions::list(state, &a.s).await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let (status, error) = match error {
        Some(e) => (e.status, e.message),
        None => (StatusCode::OK, String::new()),
    };
    render(
        status,
        &SessionsPage {
            user: a.user.clone(),
            csrf_token: a.csrf_token.clone(),
            tab: "/admin/sessions",
            notice: notice.to_string(),
            error,
            sessions: list.into_iter().map(Row::from).collect(),
        },
    )
}

async fn page(State(state): State<AppState>, a: Admin, Query(d): Query<Done>) -> Response {
    let notice = if d.done == "revoked" {
        "Session revoked."
    } else {
        ""
    };
    render_page(&state, &a, notice, None).await
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    handle: String,
}

async fn revoke(State(state): State<AppState>, a: Admin, form: AdminForm<RevokeForm>) -> Response {
    let result = sessions::revoke(&state, &a.ctx, &a.s, &form.value.handle).await;
    answer(
        &state,
        &a,
        "/admin/sessions/revoke",
        &form.fields,
        result,
        ("/admin/sessions", "revoked"),
        |e| render_page(&state, &a, "", Some(e)),
    )
    .await
}
