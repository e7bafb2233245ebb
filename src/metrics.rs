//! Prometheus metrics, served on their own listener (`METRICS_BIND`, off by default) so
//! they are never public by accident. Without `METRICS_BIND` no recorder is installed and
//! every call here is a no-op.
//!
//! Names (see deploy/prometheus/gleh-rules.yml for the alerts built on them):
//! `gleh_http_requests_total{route,status}`, `gleh_http_request_duration_seconds{route}`,
//! `gleh_logins_total{outcome}`, `gleh_csrf_failures_total`, `gleh_rate_limit_hits_total`,
//! `gleh_sessions_live`, `gleh_tls_certificate_expiry_timestamp_seconds`,
//! `gleh_admin_actions_total{action,outcome}`.

use std::net::SocketAddr;

use axum::{Router, http::header, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Set once a recorder is installed; the hot per-request path skips all work otherwise.
static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn enabled() -> bool {
    ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn install() -> anyhow::Result<PrometheusHandle> {
    ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("gleh_http_request_duration_seconds".into()),
            &[
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ],
        )?
        .install_recorder()?)
}

/// Serves `/metrics` on `bind` until the process ends.
pub async fn serve(bind: &str, handle: PrometheusHandle) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(event = "metrics_listener_failed", error = %e);
        }
    });
    Ok(addr)
}

pub fn request(route: &str, status: u16, seconds: f64) {
    let route = route.to_string();
    metrics::counter!("gleh_http_requests_total", "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("gleh_http_request_duration_seconds", "route" => route).record(seconds);
}

pub fn login(success: bool) {
    let outcome = if success { "success" } else { "failure" };
    metrics::counter!("gleh_logins_total", "outcome" => outcome).increment(1);
}

pub fn csrf_failure(reason: &'static str) {
    metrics::counter!("gleh_csrf_failures_total", "reason" => reason).increment(1);
}

pub fn rate_limit_hit(scope: &'static str) {
    metrics::counter!("gleh_rate_limit_hits_total", "scope" => scope).increment(1);
}

pub fn set_sessions_live(n: i64) {
    metrics::gauge!("gleh_sessions_live").set(n as f64);
}

pub fn set_certificate_expiry(unix: i64) {
    metrics::gauge!("gleh_tls_certificate_expiry_timestamp_seconds").set(unix as f64);
}

/// An admin action or a refused admin attempt (`outcome`: success, refused or denied).
pub fn admin_action(action: &str, outcome: &'static str) {
    metrics::counter!("gleh_admin_actions_total", "action" => action.to_string(), "outcome" => outcome)
        .increment(1);
}
