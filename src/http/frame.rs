//! The outer middleware: builds the request's `Ctx`, runs the request inside a `request`
//! tracing span (request id, matched route, client IP), logs the causes of internal
//! errors once, sets the security headers and `x-request-id` on every answer, counts the
//! request in the metrics and writes its access line (docs/design.md "Logs and metrics");
//! while the instance shuts down, it makes every answer its connection's last (`closing`).

use std::{cell::RefCell, future::Future, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue, Method, request::Parts},
    response::Response,
};
use tracing::Instrument as _;

use super::{Ctx, closing, security_headers};
use crate::{
    logging::{ACCESS_TARGET, access},
    state::AppState,
};

tokio::task_local! {
    /// The causes of the internal errors built while serving the current request.
    static INTERNAL: RefCell<Vec<String>>;
}

/// Hands the cause of an internal error to the current request's frame, which logs it
/// once, inside the request span. Outside a request it is logged at once.
pub(super) fn report_internal(text: String) {
    let mut text = Some(text);
    let _ = INTERNAL.try_with(|causes| {
        if let Some(t) = text.take() {
            causes.borrow_mut().push(t);
        }
    });
    if let Some(text) = text {
        tracing::error!(event = "internal_error", error = %text);
    }
}

/// The route template the request matched (`/api/sessions/{id}`), if any.
fn matched_route(parts: &Parts) -> Option<MatchedPath> {
    parts.extensions.get::<MatchedPath>().cloned()
}

/// See the module comment; `http::stack` runs it first (after lending the body), with
/// `inner` the rest of the stack.
pub async fn frame<F>(state: &AppState, req: Request, inner: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let ctx = Ctx::new(
        &parts,
        &state.config.trusted_proxies,
        state.config.tls.is_some(),
    );
    let matched = matched_route(&parts);
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    // ERROR level, so the span (and the request id on every event) stays whatever
    // LOG_LEVEL lets through.
    let span = tracing::error_span!(
        "request",
        request_id = ctx.request_id.as_str(),
        route,
        ip = ctx.ip_text.as_str(),
    );
    // The access line's fields, only when that line will be written.
    let access = tracing::enabled!(target: ACCESS_TARGET, tracing::Level::INFO)
        .then(|| (parts.method.clone(), parts.uri.clone()));
    parts.extensions.insert(ctx.clone());
    let version = parts.version;
    let conn = parts.extensions.remove::<axum_server::ConnectionShutdown>();
    let req = Request::from_parts(parts, body);

    let served = async {
        let res = inner(req).await;
        (res, INTERNAL.try_with(RefCell::take).unwrap_or_default())
    };
    let (mut res, causes) = INTERNAL
        .scope(RefCell::default(), served)
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        for cause in causes {
            tracing::error!(event = "internal_error", error = %cause);
        }
    });

    security_headers::apply(res.headers_mut(), ctx.https);
    closing::apply(version, conn.as_ref(), res.headers_mut());
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    let status = res.status().as_u16();
    if crate::metrics::enabled() {
        crate::metrics::request(route, status, started.elapsed().as_secs_f64());
    }
    if let Some((method, uri)) = access {
        access_line(&ctx, &method, uri.path(), status, started);
    }
    res
}

/// One line per request, outside the request span: its fields are exactly these.
fn access_line(ctx: &Ctx, method: &Method, path: &str, status: u16, started: Instant) {
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let line = access::Line {
        request_id: &ctx.request_id,
        method: method.as_str(),
        path,
        status,
        latency_ms,
        ip: &ctx.ip_text,
    };
    if access::write(&line) {
        return;
    }
    tracing::info!(
        target: ACCESS_TARGET,
        event = "request",
        request_id = %ctx.request_id,
        method = %method,
        path = %path,
        status,
        latency_ms,
        ip = %ctx.ip,
    );
}
