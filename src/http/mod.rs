//! HTTP plumbing shared by every route: the request context (request id, real client IP,
//! scheme), the outer middleware (security headers, access log), the JSON body extractor
//! and response helpers.

pub mod error;
pub mod rejection;

use std::{
    net::{IpAddr, SocketAddr},
    time::Instant,
};

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use ipnet::IpNet;
use serde_json::{Map, Value};

pub use error::{ApiError, ApiResult};

use crate::state::AppState;

/// Per-request facts every handler and log line may need.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub request_id: String,
    pub ip: IpAddr,
    pub https: bool,
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| ApiError::internal("request context missing"))
    }
}

pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

const JSON_TYPE: &str = "application/json; charset=utf-8";

pub fn json_response(status: StatusCode, value: &Value) -> Response {
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

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case
/// the right-most `X-Forwarded-For` hop that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    while let Some(ip) = hops.pop() {
        if !is_trusted(&ip) || hops.is_empty() {
            return ip;
        }
    }
    peer
}

fn forwarded_https(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&peer))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().eq_ignore_ascii_case("https"))
            .unwrap_or(false)
}

/// Marker put on requests that arrived over direct TLS.
#[derive(Clone, Copy)]
pub struct DirectTls;

/// Outermost layer: builds the `Ctx`, sets the security headers on every response and
/// writes one access line per request.
pub async fn frame(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let trusted = &state.config.trusted_proxies;
    let mut id = [0u8; 12];
    rand::fill(&mut id[..]);
    let ctx = Ctx {
        request_id: hex::encode(id),
        ip: client_ip(peer, req.headers(), trusted),
        https: req.extensions().get::<DirectTls>().is_some()
            || forwarded_https(peer, req.headers(), trusted),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect())
            .unwrap_or_default(),
    };
    let route = crate::metrics::enabled().then(|| {
        req.extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| "unmatched".to_string())
    });
    // The access line's fields, only when that line will be written.
    let access = tracing::enabled!(target: "gleh::access", tracing::Level::INFO)
        .then(|| (req.method().clone(), req.uri().path().to_string()));
    req.extensions_mut().insert(ctx.clone());

    let mut res = next.run(req).await;

    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    // A route may set a stricter policy of its own (course packages use `sandbox`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, header::CONTENT_SECURITY_POLICY, CSP);
    }
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    // Course package files set their own (see routes::courses); everything else is same-origin.
    for name in ["cross-origin-opener-policy", "cross-origin-resource-policy"] {
        h.entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static("same-origin"));
    }
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if ctx.https {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    // Dynamic answers, and any answer that sets or clears a cookie, are never cached.
    if !h.contains_key(header::CACHE_CONTROL) || h.contains_key(header::SET_COOKIE) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
    let status = res.status().as_u16();
    if let Some(route) = route {
        crate::metrics::request(&route, status, started.elapsed().as_secs_f64());
    }
    if let Some((method, path)) = access {
        let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
        tracing::info!(
            target: "gleh::access",
            event = "request",
            request_id = %ctx.request_id,
            method = %method,
            path = %path,
            status,
            latency_ms,
            ip = %ctx.ip,
        );
    }
    res
}

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
}

/// Does the client prefer an HTML answer (a browser navigating)?
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.contains("text/html"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn client_ip_trusts_only_configured_proxies() {
        let trusted = nets(&["127.0.0.1/32"]);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            client_ip(peer, &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let untrusted: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(untrusted, &h, &trusted), untrusted);
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
    }
}
