//! Response builders: every JSON answer goes out with the same content type.

use axum::{
    body::Bytes,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

const JSON_TYPE: &str = "application/json; charset=utf-8";

pub fn json_response<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    json_bytes(status, Bytes::from(body))
}

/// A JSON answer from already serialized bytes (e.g. a cached body).
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_TYPE))],
        body,
    )
        .into_response()
}

/// `200 {"message": …}`-style answers.
pub fn json(status: StatusCode, value: Value) -> Response {
    json_response(status, &value)
}

pub fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
