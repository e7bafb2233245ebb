//! Reading requests: the JSON object body extractor and the content negotiation helpers.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Request},
    http::{HeaderMap, header},
};
use serde_json::{Map, Value};

use super::{ApiError, ApiResult};
use crate::state::AppState;

/// A JSON object body. Other content types are a 415, bodies over the limit a 413,
/// anything unparsable or not an object a 400.
pub struct JsonObject(pub Map<String, Value>);

pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(_) => Err(ApiError::payload_too_large()),
    }
}

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = read_body(req.into_body(), state.config.max_body_size).await?;
        parse_object(&bytes).map(JsonObject)
    }
}

pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object.")),
        Err(_) => Err(ApiError::bad_request("Malformed JSON.")),
    }
}

impl JsonObject {
    /// A string field: `Ok(None)` when absent or null, 400 when of another type.
    pub fn opt_str(&self, name: &str) -> ApiResult<Option<&str>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ApiError::bad_request(format!(
                "Field '{name}' must be a string."
            ))),
        }
    }

    /// An id field: a whole number, or a string of digits as the original's forms sent;
    /// `Ok(None)` when absent or null, 400 otherwise.
    pub fn opt_id(&self, name: &str) -> ApiResult<Option<i64>> {
        let bad = || ApiError::bad_request(format!("Field '{name}' must be a whole number."));
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 18 => {
                s.parse::<i64>().map(Some).map_err(|_| bad())
            }
            Some(_) => Err(bad()),
        }
    }

    /// A boolean field: `Ok(None)` when absent or null, 400 when of another type.
    pub fn opt_bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad_request(format!(
                "Field '{name}' must be true or false."
            ))),
        }
    }
}

/// Does the client prefer an HTML answer (a browser navigating)?
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.contains("text/html"))
        .unwrap_or(false)
}
