//! `GET status`, `GET diagnostics`, `GET logs?lines=&level=&event=`, `GET/POST
//! about-content`, `POST sync-ebooks` (docs/design.md "Admin panel").

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    admin::{
        diagnostics,
        logs::{self, Filter, Tail},
        system,
    },
    auth::admin::AdminUser,
    http::{ApiError, ApiResult, Ctx, JsonObject, json, rejection::LenientQuery},
    routes::api::openapi::{Admin, ErrorBody, JsonIn, MessageBody},
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

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of bodies read from `JsonObject` and answers written with `json!`
struct Status {
    courses_count: i64,
    ebooks_count: i64,
    users_count: i64,
    sessions_live: i64,
    server_status: String,
    version: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Logs {
    /// The lines of `app.log`, newest last, redacted.
    logs: Vec<serde_json::Value>,
    message: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct About {
    /// Markdown.
    content: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Synced {
    message: String,
    ebooks_count: i64,
}

/// Counts of the hub.
#[utoipa::path(get, path = "/api/admin/status", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The counts", body = Status)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Response> {
    let s = system::status(&state).await?;
    Ok(json(
        StatusCode::OK,
        json!({"courses_count": s.courses, "ebooks_count": s.ebooks, "users_count": s.users,
               "sessions_live": s.sessions, "server_status": "running",
               "version": env!("CARGO_PKG_VERSION")}),
    ))
}

/// Database, migrations, content folder, certificate, log disk and doctor's local checks.
#[utoipa::path(get, path = "/api/admin/diagnostics", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The checks", body = Object)))]
pub(crate) async fn diagnostics(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Response> {
    let d = diagnostics::gather(&state).await?;
    let body = serde_json::to_value(&d).map_err(ApiError::internal)?;
    Ok(json(StatusCode::OK, body))
}

/// A malformed query string counts as none (`LenientQuery`).
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogsQuery {
    /// How many lines (1–1000, default 100).
    lines: Option<String>,
    /// The lowest level shown: `error`, `warn`, `info`, `debug` or `trace`.
    level: Option<String>,
    /// Only the lines of this event.
    event: Option<String>,
}

/// The tail of `app.log`, filtered and redacted.
#[utoipa::path(get, path = "/api/admin/logs", tag = "admin", params(LogsQuery),
    security(("session" = [])),
    responses(Admin,
        (status = 200, description = "The lines", body = Logs),
        (status = 400, description = "A `lines` or `level` out of range", body = ErrorBody),
    ))]
pub(crate) async fn logs(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
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

/// The About page's text.
#[utoipa::path(get, path = "/api/admin/about-content", tag = "admin", security(("session" = [])),
    responses(Admin, (status = 200, description = "The text", body = About)))]
pub(crate) async fn about(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Response> {
    let content = system::about(&state).await?;
    Ok(json(StatusCode::OK, json!({ "content": content })))
}

/// Replaces the About page's text (at most 64 KiB).
#[utoipa::path(post, path = "/api/admin/about-content", tag = "admin", request_body = About, security(("session" = [], "csrf" = [])),
    responses(Admin, JsonIn, (status = 200, description = "Saved", body = MessageBody)))]
pub(crate) async fn set_about(
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

/// Synchronises the e-book library now.
#[utoipa::path(post, path = "/api/admin/sync-ebooks", tag = "admin", security(("session" = [], "csrf" = [])),
    responses(Admin,
        (status = 200, description = "Synchronised", body = Synced),
        (status = 400, description = "E-books are not configured", body = ErrorBody),
        (status = 502, description = "Calibre-Web is out of reach or its feed unusable", body = ErrorBody),
    ))]
pub(crate) async fn sync_ebooks(
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
