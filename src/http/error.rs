//! The one error type handlers return: every client mistake is a 4xx `{"error": "…"}`;
//! anything unexpected is answered with a generic 500/503 that names nothing internal,
//! and its cause is logged once, by the request's frame, with the request id
//! (`http::frame`).

use std::error::Error;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{frame, json_response, unavailable::is_unavailable};

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
        Self::from_cause(cause.to_string(), false)
    }

    /// A 503 when `unavailable` (the database or a peer could not be reached), else 500.
    fn from_cause(text: String, unavailable: bool) -> Self {
        frame::report_internal(text);
        if unavailable {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable.",
            )
        } else {
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
        }
    }
}

/// 503 when the database could not be reached in time (see `http::unavailable`), else 500.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        let unavailable = is_unavailable(&e);
        ApiError::from_cause(e.to_string(), unavailable)
    }
}

/// Classified like a `sqlx::Error`, by the first cause in the chain that says anything.
impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let cause: &(dyn Error + 'static) = e.as_ref();
        let unavailable = is_unavailable(cause);
        ApiError::from_cause(format!("{e:#}"), unavailable)
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
