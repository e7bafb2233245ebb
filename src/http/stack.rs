//! The middleware every request goes through, assembled in one place.

use std::{panic::AssertUnwindSafe, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use futures_util::FutureExt as _;

use super::{ApiError, drain::early_answers, frame::frame, streamed::is_streamed};
use crate::auth::guard::guard;
use crate::state::AppState;

/// Overall time a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps the route table `routes` in the layer stack: one middleware, `layers`, whose
/// steps are, from the outside in:
///
/// 1. `early_answers` (`http::drain`): the part of a request body that no inner step
///    read is read and discarded after the answer, within bounds, so that an early answer
///    (413, 400, 401, 403, 415, 429) reaches a client that is still sending, instead of an
///    HTTP/2 stream reset or an HTTP/1.1 connection reset that clients turn into a network
///    error. First, so that whichever step answers early — `frame`, the deadline, the
///    guard, an extractor — is covered.
/// 2. `frame` (`http::frame`): the request id, `Ctx` (https when this process terminates
///    TLS itself, or through a trusted proxy's header), the `request` span, the security
///    headers, `x-request-id`, metrics and the access line. Outermost of the steps that
///    answer, so every answer — a refusal by the guard, a timeout's 408, a panic's 500 —
///    carries them.
/// 3. panics caught: a panicking handler becomes `{"error":"Internal server error."}`.
///    Inside `frame`, so that 500 still gets the headers, the id and an access line, and
///    its `panic` event is logged inside the request span.
/// 4. the deadline: 408 after `REQUEST_TIMEOUT`, the guard's session lookup included —
///    except on the routes that stream a large body (`http::streamed`: the course zip
///    upload), which a fixed overall deadline would cut off on a slow link; they bound
///    themselves by size and by an idle timeout on each read of the body instead.
/// 5. `guard` (`auth::guard`): the session and the CSRF check, before any handler.
///
/// Then `DefaultBodyLimit`: `MAX_BODY_SIZE` for every body extractor. The avatar upload
/// routes set their own larger limit on the route itself (`avatar::UPLOAD_BODY_LIMIT`),
/// which, being closer to the handler, wins.
///
/// `Router::layer` wraps each route, so `MatchedPath` is known to every step. The steps
/// are one middleware rather than a layer each because axum clones a route's whole
/// service chain for every request, and a chain of five layers cost more instructions
/// than the session check itself (docs/performance.md "Hot paths").
pub fn apply(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(DefaultBodyLimit::max(state.config.max_body_size))
        .layer(middleware::from_fn_with_state(state.clone(), layers))
        .with_state(state)
}

/// The steps of `apply`, in order.
async fn layers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let state = &state;
    frame(state, early_answers(req), |req| async move {
        let streamed = req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| is_streamed(p.as_str()));
        let guarded = AssertUnwindSafe(guard(state, req, next)).catch_unwind();
        let answer = if streamed {
            guarded.await
        } else {
            match tokio::time::timeout(REQUEST_TIMEOUT, guarded).await {
                Ok(answer) => answer,
                Err(_) => {
                    return ApiError::new(StatusCode::REQUEST_TIMEOUT, "Request timed out.")
                        .into_response();
                }
            }
        };
        answer.unwrap_or_else(panic_response)
    })
    .await
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
