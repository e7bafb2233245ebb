//! The middleware every request goes through, assembled in one place.

use std::time::Duration;

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::catch_panic::CatchPanicLayer;

use super::{ApiError, DirectTls, drain::early_answers, frame::frame, streamed::is_streamed};
use crate::auth::guard::guard;
use crate::state::AppState;

/// Overall time a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps the route table `routes` in the layer stack. From the outside in:
///
/// 0. `early_answers` (`http::drain`): the part of a request body that no inner layer
///    read is read and discarded after the answer, within bounds, so that an early answer
///    (413, 400, 401, 403, 415, 429) reaches a client that is still sending, instead of an
///    HTTP/2 stream reset or an HTTP/1.1 connection reset that clients turn into a network
///    error. Outermost, so that whichever layer answers early — `frame`, `deadline`, the
///    guard, an extractor — is covered.
/// 1. `Extension(DirectTls)`, only when this process terminates TLS itself: tells
///    `frame` the request came over https (HSTS, secure cookies).
/// 2. `frame` (`http::frame`): the request id, `Ctx`, the `request` span, the security
///    headers, `x-request-id`, metrics and the access line. Outermost of the layers that
///    answer, so every answer — a refusal by the guard, a timeout's 408, a panic's 500 —
///    carries them.
/// 3. `CatchPanicLayer`: a panicking handler becomes `{"error":"Internal server error."}`.
///    Inside `frame`, so that 500 still gets the headers, the id and an access line, and
///    its `panic` event is logged inside the request span.
/// 4. `deadline`: 408 after `REQUEST_TIMEOUT`, the guard's session lookup included —
///    except on the routes that stream a large body (`http::streamed`: the course zip
///    upload), which a fixed overall deadline would cut off on a slow link; they bound
///    themselves by size and by an idle timeout on each read of the body instead.
/// 5. `guard` (`auth::guard`): the session and the CSRF check, before any handler.
/// 6. `DefaultBodyLimit`: `MAX_BODY_SIZE` for every body extractor. The avatar upload
///    routes set their own larger limit on the route itself (`avatar::UPLOAD_BODY_LIMIT`), which,
///    being closer to the handler, wins.
///
/// `Router::layer` wraps each route, so `MatchedPath` is known to every layer here.
pub fn apply(routes: Router<AppState>, state: AppState) -> Router {
    let direct_tls = state.config.tls.is_some();
    let app = routes
        .layer(DefaultBodyLimit::max(state.config.max_body_size))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::from_fn(deadline))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), frame))
        .with_state(state);
    let app = if direct_tls {
        app.layer(Extension(DirectTls))
    } else {
        app
    };
    app.layer(middleware::from_fn(early_answers))
}

/// The overall request timeout (see `apply`): a 408 `{"error": …}` like every other error
/// (docs/design.md "HTTP contract"), for every route but the streamed uploads.
async fn deadline(req: Request, next: Next) -> Response {
    let streamed = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| is_streamed(p.as_str()));
    if streamed {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "Request timed out.").into_response(),
    }
}

/// Runs inside the request span (see `apply`), so the event carries the request id.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(event = "panic", error = %message);
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.").into_response()
}

#[cfg(test)]
mod tests;
