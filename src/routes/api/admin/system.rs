//! `GET status`, `GET diagnostics`, `GET logs?lines=&level=&event=`, `GET/POST
//! about-content`, `POST sync-ebooks` (docs/design.md "Admin panel").

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde::Deserialize;
use serde_json::json;

use crate::{
    admin::{
        diagnostics,
        logs::{self, Filter, Tail},
        system,
    },
    auth::admin::AdminUser,
    http::{ApiError, ApiResult, Ctx, JsonObject, json, rejection::LenientQuery},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/status", get(status))
        .route("/api/admin/diagnostics", get(diagnostics))
        .route("/api/admin/logs", get(logs))
        .route("/api/admin/about-content", get(about).post(set_about))
        .route("/api/admin/sync-ebooks", axum::routing::post(sync_ebooks))
}

async fn status(State(state): State<AppState>, AdminUser(_): AdminUser) -> ApiResult<Response> {
    let s = system::status(&state).await?;
    Ok(json(
        StatusCode::OK,
        json!({"courses_count": s.courses, "ebooks_count": s.ebooks, "users_count": s.users,
               "sessions_live": s.sessions, "server_status": "running",
               "version": env!("CARGO_PKG_VERSION")}),
    ))
}

async fn diagnostics(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> ApiResult<Response> {
    let d = diagnostics::gather(&state).await?;
    let body = serde_json::to_value(&d).map_err(ApiError::internal)?;
    Ok(json(StatusCode::OK, body))
}

#[derive(Deserialize, Default)]
struct LogsQuery {
    lines: Option<String>,
    level: Option<String>,
    event: Option<String>,
}

async fn logs(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    LenientQuery(q): LenientQuery<LogsQuery>,
) -> ApiResult<Response> {
    let filter = Filter::parse(q.lines.as_deref(), q.level.as_deref(), q.event.as_deref())?;
    let body = match logs::tail(&state, filter).await? {
        Tail::NoLogDir => {
            json!({"logs": [], "message": "LOG_DIR is not set: logs go to standard error"})
        }
        Tail::Lines {
            lines,
            cut_short: true,
        } => json!({"logs": lines,
                    "message": "Only the last 32 MiB of app.log were searched."}),
        Tail::Lines { lines, .. } => json!({ "logs": lines }),
    };
    Ok(json(StatusCode::OK, body))
}

async fn about(State(state): State<AppState>, AdminUser(_): AdminUser) -> ApiResult<Response> {
    let content = system::about(&state).await?;
    Ok(json(StatusCode::OK, json!({ "content": content })))
}

async fn set_about(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
    body: JsonObject,
) -> ApiResult<Response> {
    let content = body
        .opt_str("content")?
        .ok_or_else(|| ApiError::bad_request("content is required."))?;
    system::set_about(&state, &ctx, &s, content).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "About content updated successfully"}),
    ))
}

async fn sync_ebooks(
    State(state): State<AppState>,
    ctx: Ctx,
    AdminUser(s): AdminUser,
) -> ApiResult<Response> {
    let books = system::sync_ebooks(&state, &ctx, &s).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "E-books synchronised.", "ebooks_count": books}),
    ))
}
