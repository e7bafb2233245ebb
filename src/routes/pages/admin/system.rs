//! The admin's system pages: `/admin` (the dashboard: counts, the tabs, a notice when the
//! password is not recent), `/admin/diagnostics`, `/admin/logs` (a GET filter form) and
//! `/admin/about` (the About text, `POST /admin/about` → 303). They call the operations
//! of `/api/admin/` (`crate::admin::{system, diagnostics, logs}`).

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::{Admin, AdminForm, Done, TABS, done, is_reauth, reauth_prompt};
use crate::{
    admin::{
        diagnostics::{self, Diagnostics},
        logs::{self, DEFAULT_LINES, Filter, Tail},
        system::{self, ABOUT_MAX_BYTES},
    },
    auth::admin as sudo,
    http::{ApiError, rejection::LenientQuery},
    routes::pages::{NavUser, render},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route(
            "/admin/sync-ebooks",
            axum::routing::post(sync_ebooks_submit),
        )
        .route("/admin/diagnostics", get(diagnostics_page))
        .route("/admin/logs", get(logs_page))
        .route("/admin/about", get(about_page).post(about_submit))
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: String,
    notice: String,
    error: String,
    courses: i64,
    ebooks: i64,
    users: i64,
    sessions: i64,
    version: &'static str,
    /// Minutes of re-authentication left; 0 when the password is not recent.
    reauth_minutes: i64,
    window_minutes: u64,
    /// The other tabs (path, label), for the dashboard's links.
    links: Vec<(&'static str, &'static str)>,
    /// Whether e-books are configured (the "Synchronise" button).
    calibre: bool,
}

async fn dashboard(
    State(state): State<AppState>,
    a: Admin,
    LenientQuery(d): LenientQuery<Done>,
) -> Response {
    let notice = if d.done == "ebooks-synced" {
        "E-books synchronised."
    } else {
        ""
    };
    dashboard_page(&state, a, notice, String::new(), StatusCode::OK).await
}

/// `POST /admin/sync-ebooks`: 303 to the dashboard, or the dashboard with the reason.
async fn sync_ebooks_submit(
    State(state): State<AppState>,
    a: Admin,
    _form: AdminForm<serde::de::IgnoredAny>,
) -> Response {
    match system::sync_ebooks(&state, &a.ctx, &a.s).await {
        Ok(_) => done("/admin", "ebooks-synced"),
        Err(e) if e.status.is_client_error() || e.status == StatusCode::BAD_GATEWAY => {
            let status = e.status;
            dashboard_page(&state, a, "", e.message, status).await
        }
        Err(e) => e.into_response(),
    }
}

async fn dashboard_page(
    state: &AppState,
    a: Admin,
    notice: &str,
    error: String,
    code: StatusCode,
) -> Response {
    let state = state.clone();
    let s = match system::status(&state).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let left = sudo::seconds_left(&state, &a.s);
    render(
        code,
        &DashboardPage {
            user: a.user,
            csrf_token: a.csrf_token,
            tab: "/admin".into(),
            notice: notice.to_string(),
            error,
            calibre: state.ebooks.enabled(),
            courses: s.courses,
            ebooks: s.ebooks,
            users: s.users,
            sessions: s.sessions,
            version: env!("CARGO_PKG_VERSION"),
            reauth_minutes: (left + 59) / 60,
            window_minutes: state.config.admin_reauth_window.as_secs().div_ceil(60),
            links: TABS.iter().skip(1).copied().collect(),
        },
    )
}

#[derive(Template)]
#[template(path = "admin/diagnostics.html")]
struct DiagnosticsPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: String,
    notice: String,
    error: String,
    d: Diagnostics,
}

impl DiagnosticsPage {
    /// "12.3 GB" for a byte count.
    fn gb(&self, bytes: &u64) -> String {
        format!("{:.1} GB", *bytes as f64 / 1e9)
    }
}

async fn diagnostics_page(State(state): State<AppState>, a: Admin) -> Response {
    match diagnostics::gather(&state).await {
        Ok(d) => render(
            StatusCode::OK,
            &DiagnosticsPage {
                user: a.user,
                csrf_token: a.csrf_token,
                tab: "/admin/diagnostics".into(),
                notice: String::new(),
                error: String::new(),
                d,
            },
        ),
        Err(e) => e.into_response(),
    }
}

/// One log line as the page shows it: time, level, event, the other fields as JSON.
struct LogRow {
    timestamp: String,
    level: String,
    event: String,
    rest: String,
}

#[derive(Template)]
#[template(path = "admin/logs.html")]
struct LogsPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: String,
    notice: String,
    error: String,
    lines: String,
    level: String,
    event: String,
    rows: Vec<LogRow>,
    /// Why there are no rows or not all of them ("" when none to say).
    message: String,
}

#[derive(Deserialize, Default)]
struct LogsQuery {
    lines: Option<String>,
    level: Option<String>,
    event: Option<String>,
}

const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

async fn logs_page(
    State(state): State<AppState>,
    a: Admin,
    LenientQuery(q): LenientQuery<LogsQuery>,
) -> Response {
    let mut page = LogsPage {
        user: a.user,
        csrf_token: a.csrf_token,
        tab: "/admin/logs".into(),
        notice: String::new(),
        error: String::new(),
        lines: q.lines.clone().unwrap_or_else(|| DEFAULT_LINES.to_string()),
        level: q.level.clone().unwrap_or_default().to_ascii_lowercase(),
        event: q.event.clone().unwrap_or_default(),
        rows: Vec::new(),
        message: String::new(),
    };
    let filter = match Filter::parse(q.lines.as_deref(), q.level.as_deref(), q.event.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            page.error = e.message;
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    match logs::tail(&state, filter).await {
        Ok(Tail::NoLogDir) => {
            page.message = "LOG_DIR is not set: logs go to standard error.".into();
        }
        Ok(Tail::Lines { lines, cut_short }) => {
            if cut_short {
                page.message = "Only the last 32 MiB of app.log were searched.".into();
            } else if lines.is_empty() {
                page.message = "No log line matches.".into();
            }
            // Newest first on the page.
            page.rows = lines.into_iter().rev().map(row).collect();
        }
        Err(e) => return e.into_response(),
    }
    render(StatusCode::OK, &page)
}

fn row(mut v: serde_json::Value) -> LogRow {
    let mut take = |k: &str| match v.as_object_mut().and_then(|m| m.remove(k)) {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let timestamp = take("timestamp");
    let level = take("level");
    let event = take("event");
    LogRow {
        timestamp,
        level,
        event,
        rest: v.to_string(),
    }
}

#[derive(Template)]
#[template(path = "admin/about.html")]
struct AboutPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: String,
    notice: String,
    error: String,
    content: String,
    max_bytes: usize,
}

async fn about_page(State(state): State<AppState>, a: Admin, Query(d): Query<Done>) -> Response {
    let content = match system::about(&state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let notice = if d.done == "about-saved" {
        "The About page is saved."
    } else {
        ""
    };
    about_answer(a, StatusCode::OK, content, notice, "")
}

fn about_answer(
    a: Admin,
    status: StatusCode,
    content: String,
    notice: &str,
    error: &str,
) -> Response {
    render(
        status,
        &AboutPage {
            user: a.user,
            csrf_token: a.csrf_token,
            tab: "/admin/about".into(),
            notice: notice.into(),
            error: error.into(),
            content,
            max_bytes: ABOUT_MAX_BYTES,
        },
    )
}

#[derive(Deserialize)]
struct AboutForm {
    #[serde(default)]
    content: String,
}

async fn about_submit(
    State(state): State<AppState>,
    a: Admin,
    form: AdminForm<AboutForm>,
) -> Response {
    // Browsers send a textarea's line breaks as CR LF.
    let content = form.value.content.replace("\r\n", "\n");
    match system::set_about(&state, &a.ctx, &a.s, &content).await {
        Ok(()) => done("/admin/about", "about-saved"),
        // Not asked today (the About text needs no recent password); kept so the form
        // stays right if that changes.
        Err(e) if is_reauth(&e) => {
            reauth_prompt(&state, &a, "/admin/about", &form.fields, true, "")
        }
        Err(e) if e.status.is_client_error() => {
            let message = e.message.clone();
            about_answer(a, e.status, content, "", &message)
        }
        Err(e) => ApiError::into_response(e),
    }
}
