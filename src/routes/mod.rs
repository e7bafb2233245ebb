//! The route table, and the small routes that need no module of their own.

pub mod auth;
pub mod avatar;
pub mod courses;
pub mod learning;
pub mod pages;
pub mod profile;

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;

use crate::{
    catalog,
    http::{self, ApiError, ApiResult, guard::MaybeSession, json},
    state::AppState,
};

/// The route table; `http::stack::apply` wraps it in the middleware.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::index))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route(
            "/register",
            get(pages::register_page).post(pages::register_submit),
        )
        .route("/logout", post(pages::logout_submit))
        .route("/profile", get(pages::profile).post(pages::profile_submit))
        .route("/profile/password", post(pages::password_submit))
        .route(
            "/profile/avatar",
            post(pages::avatar_submit).layer(DefaultBodyLimit::max(avatar::UPLOAD_BODY_LIMIT)),
        )
        .route("/health", get(health))
        .route("/health/deep", get(health_deep))
        .route("/csrf-token", get(auth::csrf_token))
        .route("/api/content", get(content))
        .route("/api/register", post(auth::api_register))
        .route("/api/login", post(auth::api_login))
        .route("/api/logout", post(auth::api_logout))
        .route("/api/check_session", get(auth::check_session))
        .route(
            "/api/profile",
            get(profile::get_profile).post(profile::post_profile),
        )
        .route("/api/profile/change-password", post(auth::change_password))
        .route("/api/sessions", get(auth::list_sessions))
        .route("/api/account", axum::routing::delete(auth::delete_account))
        .route(
            "/api/sessions/{id}",
            axum::routing::delete(auth::revoke_session),
        )
        .route("/static/style.css", get(stylesheet))
        .route("/static/default-avatar.svg", get(avatar_svg))
        .merge(courses::router())
        .merge(learning::router())
        .merge(avatar::router())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.").into_response()
}

async fn health() -> Response {
    json(StatusCode::OK, json!({"status": "ok"}))
}

async fn health_deep(State(state): State<AppState>) -> Response {
    let db_ok = state.db.ping().await;
    let pending = if db_ok {
        state.db.pending().await.ok()
    } else {
        None
    };
    let migrations_ok = pending.as_ref().is_some_and(Vec::is_empty);
    let status = |ok: bool| if ok { "healthy" } else { "unhealthy" };
    // Days left on the served certificate: unhealthy when expired or unreadable.
    let (tls_ok, tls) = match &state.config.tls {
        None => (
            true,
            json!({"status": "healthy", "mode": "plain HTTP (TLS terminated by a proxy)"}),
        ),
        Some((cert, _)) => match crate::tls::not_after(cert) {
            Ok(t) => {
                let days = (t - crate::db::now()) / 86_400;
                (
                    days >= 0,
                    json!({"status": status(days >= 0), "days_left": days}),
                )
            }
            Err(_) => (
                false,
                json!({"status": "unhealthy", "error": "certificate unreadable"}),
            ),
        },
    };
    let healthy = db_ok && migrations_ok && tls_ok;
    json(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({
            "status": status(healthy),
            "components": {
                "database": {"status": status(db_ok)},
                "migrations": {"status": status(migrations_ok), "pending": pending.map(|p| p.len())},
                "tls_certificate": tls,
            }
        }),
    )
}

/// How long the anonymous catalog JSON is reused before it is rebuilt from the database
/// (other instances and `gleh courses import` change the catalog without telling us).
const ANONYMOUS_CONTENT_TTL: std::time::Duration = std::time::Duration::from_secs(2);

async fn content(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
) -> ApiResult<Response> {
    let user = s.map(|s| s.user.id);
    if user.is_none()
        && let Some(body) = state.content_cache.get(ANONYMOUS_CONTENT_TTL)
    {
        return Ok(http::json_bytes(StatusCode::OK, body));
    }
    let entries = catalog::list_for_user(&state.db, user).await?;
    let items: Vec<_> = entries
        .into_iter()
        .map(|e| {
            json!({
                "type": "course",
                "uid": e.course.uid,
                "title": e.course.title,
                "path": format!("/course/{}", e.course.uid),
                "description": e.course.description,
                "categories": e.course.category_list(),
                "thumbnail": e.course.thumbnail_url(),
                "user_progress": e.progress,
                "user_note": e.note,
            })
        })
        .collect();
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&json!({"content": items})).map_err(ApiError::internal)?,
    );
    if user.is_none() {
        state.content_cache.put(body.clone());
    }
    Ok(http::json_bytes(StatusCode::OK, body))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/style.css"),
    )
}

async fn avatar_svg() -> Response {
    asset(
        "image/svg+xml; charset=utf-8",
        include_str!("../../assets/default-avatar.svg"),
    )
}
