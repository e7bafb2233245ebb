//! Where a state-changing request carries its CSRF token: the `X-CSRFToken` or
//! `X-CSRF-Token` header, or a `csrf_token` field of an url-encoded or multipart form
//! (docs/design.md "CSRF"). Reading a form field buffers the body (bounded by the body
//! limit) and hands the same bytes on to the handler; a multipart body is read only up to
//! the token's field.

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, header},
};

use futures_util::StreamExt as _;

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
        // HTML upload forms carry the token as a form field. The body is read only until
        // that field (bounded by the upload limit); what was read is handed on, followed
        // by the rest of the body unread, so a form that puts the token first (every form
        // here does) is never buffered whole: the course upload streams to disk.
        let (parts, body) = req.into_parts();
        let limit = max_body.max(crate::avatar::UPLOAD_BODY_LIMIT);
        let (token, body) = multipart_token(body, boundary, limit).await?;
        return Ok((token, Request::from_parts(parts, body)));
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

/// The `csrf_token` field of a multipart body, read up to that field, and the same body
/// again (the bytes read, then the rest). More than `limit` bytes before the field: 413.
async fn multipart_token(
    body: Body,
    boundary: String,
    limit: usize,
) -> Result<(Option<String>, Body), ApiError> {
    let mut data = body.into_data_stream();
    let mut seen: Vec<Bytes> = Vec::new();
    let mut read = 0usize;
    let mut over = false;
    let token = {
        let recorded = (&mut data).map(|chunk| {
            let c = chunk?;
            read += c.len();
            if read > limit {
                // Stops the parser; the body is not handed on.
                over = true;
                return Err(axum::Error::new("multipart body over the limit"));
            }
            seen.push(c.clone());
            Ok(c)
        });
        let mut parts = multer::Multipart::new(recorded, boundary);
        let mut token = None;
        while let Ok(Some(field)) = parts.next_field().await {
            if field.name() == Some("csrf_token") {
                token = field
                    .text()
                    .await
                    .ok()
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty());
                break;
            }
        }
        token
    };
    if token.is_none() && over {
        return Err(ApiError::payload_too_large());
    }
    let replay = futures_util::stream::iter(seen.into_iter().map(Ok::<_, axum::Error>));
    Ok((token, Body::from_stream(replay.chain(data))))
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
