//! Where a state-changing request carries its CSRF token: the `X-CSRFToken` or
//! `X-CSRF-Token` header, or a `csrf_token` field of an url-encoded or multipart form
//! (docs/design.md "CSRF"). Reading a form field buffers the body (bounded by the body
//! limit) and hands the same bytes on to the handler.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, header},
};

use crate::http::{ApiError, read_body};

/// The token the request carries, if any, and the request to pass on.
pub async fn find(req: Request, max_body: usize) -> Result<(Option<String>, Request), ApiError> {
    if let Some(token) = from_headers(req.headers()) {
        return Ok((Some(token), req));
    }
    if is_form(req.headers()) {
        let (parts, body) = req.into_parts();
        let bytes = read_body(body, max_body).await?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty());
        return Ok((token, Request::from_parts(parts, Body::from(bytes))));
    }
    if let Some(boundary) = multipart_boundary(req.headers()) {
        // HTML upload forms carry the token as a form field; buffer (bounded by the
        // upload limit) to find it, then hand the same bytes on.
        let (parts, body) = req.into_parts();
        let limit = max_body.max(crate::avatar::UPLOAD_BODY_LIMIT);
        let bytes = read_body(body, limit).await?;
        let token = multipart_token(bytes.clone(), boundary).await;
        return Ok((token, Request::from_parts(parts, Body::from(bytes))));
    }
    Ok((None, req))
}

fn from_headers(headers: &HeaderMap) -> Option<String> {
    ["x-csrftoken", "x-csrf-token"]
        .iter()
        .filter_map(|h| headers.get(*h))
        .filter_map(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
}

fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct
        .trim()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    multer::parse_boundary(ct).ok()
}

/// The `csrf_token` field of a buffered multipart body (an HTML upload form), if any.
async fn multipart_token(bytes: axum::body::Bytes, boundary: String) -> Option<String> {
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some("csrf_token") {
            return field
                .text()
                .await
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
        }
    }
    None
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}
