//! The one error type handlers return: every client mistake is a 4xx `{"error": "…"}`;
//! anything unexpected is answered with a generic 500/503/507 that names nothing internal,
//! and its cause is logged once, by the request's frame, with the request id
//! (`http::frame`).

use std::error::Error;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    frame, json_response,
    unavailable::{is_storage_full, is_unavailable},
};

/// The message of a 507: the database has no space left.
pub const STORAGE_FULL: &str = "The server is out of storage space; try again later.";

/// What kind of failure an unexpected error is, chosen from its type (`http::unavailable`).
#[derive(Clone, Copy)]
enum Cause {
    Bug,
    Unavailable,
    Full,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, for 429 answers.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found.")
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn too_many(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: message.into(),
            retry_after: Some(retry_after.max(1)),
        }
    }
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json.",
        )
    }
    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
    }
    /// A 500 for an unexpected failure whose cause is not typed (use `ApiError::from` for
    /// a `sqlx::Error` or an `anyhow::Error`, which may be a 503). The cause is never shown
    /// to the client; it is handed to the request's frame to be logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::from_cause(cause.to_string(), Cause::Bug)
    }

    /// 503 when the database or a peer could not be reached, 507 when the storage is
    /// full, else 500.
    fn from_cause(text: String, cause: Cause) -> Self {
        frame::report_internal(text);
        match cause {
            Cause::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable.",
            ),
            Cause::Full => Self::new(StatusCode::INSUFFICIENT_STORAGE, STORAGE_FULL),
            Cause::Bug => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error."),
        }
    }
}

fn classify(e: &(dyn Error + 'static)) -> Cause {
    if is_unavailable(e) {
        Cause::Unavailable
    } else if is_storage_full(e) {
        Cause::Full
    } else {
        Cause::Bug
    }
}

/// 503 when the database could not be reached in time, 507 when it has no space left
/// (see `http::unavailable`), else 500.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        let cause = classify(&e);
        ApiError::from_cause(e.to_string(), cause)
    }
}

/// Classified like a `sqlx::Error`, by the first cause in the chain that says anything.
impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let cause = classify(e.as_ref());
        ApiError::from_cause(format!("{e:#}"), cause)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = json_response(self.status, &serde_json::json!({ "error": self.message }));
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}
