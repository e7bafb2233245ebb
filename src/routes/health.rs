//! `GET /health` (no database work) and `GET /health/deep` (database, migrations, TLS
//! certificate days left; 503 when one is unhealthy; the Calibre-Web library, degraded at
//! worst).

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde_json::json;
use utoipa::ToSchema;

use crate::{http::json, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/deep", get(health_deep))
}

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct Shallow {
    /// `ok`
    status: String,
}

/// The components' states; each has a `status` (`healthy`, `degraded` or `unhealthy`).
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
struct Components {
    calibre_web: serde_json::Map<String, serde_json::Value>,
    database: serde_json::Map<String, serde_json::Value>,
    migrations: serde_json::Map<String, serde_json::Value>,
    tls_certificate: serde_json::Map<String, serde_json::Value>,
}

#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
struct Deep {
    /// `healthy`, `degraded` or `unhealthy`.
    status: String,
    components: Components,
}

/// Liveness: no database work.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Up", body = Shallow)))]
pub(crate) async fn health() -> Response {
    json(StatusCode::OK, json!({"status": "ok"}))
}

/// A 503 of `/health/deep`: its own shape, or the stack's `{"error": …}` when the
/// session a cookie names cannot be loaded (`auth::guard`).
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Unhealthy {
    Deep(Deep),
    Error(crate::routes::api::openapi::ErrorBody),
}

/// Readiness: database, migrations, certificate, e-book library.
#[utoipa::path(get, path = "/health/deep", tag = "health",
    responses(
        (status = 200, description = "Healthy or degraded", body = Deep),
        (status = 503, description = "A component is unhealthy (same shape)", body = Unhealthy),
    ))]
pub(crate) async fn health_deep(State(state): State<AppState>) -> Response {
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
                let days = (t - crate::time::now()) / 86_400;
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
    // The e-books never fail the check: when Calibre-Web is down the last good copy is
    // served, so the component (and the whole, if otherwise healthy) is "degraded", 200.
    let lib = &state.ebooks;
    let ebooks_health = lib.health();
    let st = lib.status();
    let calibre = json!({
        "status": ebooks_health.as_str(),
        "last_success": st.last_success,
        "last_error": st.last_error,
        "books": st.books,
    });
    let overall = if !healthy {
        "unhealthy"
    } else if ebooks_health == crate::ebooks::Health::Degraded {
        "degraded"
    } else {
        "healthy"
    };
    json(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({
            "status": overall,
            "components": {
                "calibre_web": calibre,
                "database": {"status": status(db_ok)},
                "migrations": {"status": status(migrations_ok), "pending": pending.map(|p| p.len())},
                "tls_certificate": tls,
            }
        }),
    )
}
