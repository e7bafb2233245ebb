//! The upload's multipart body, streamed chunk by chunk into a hidden temporary file in
//! `CONTENT_DIR/courses` (never held in memory): the `file` part (a `.zip`), and an
//! optional `replace` field. The file is limited to `COURSE_UPLOAD_MAX_BYTES` (413, also
//! refused up front from `Content-Length`), each wait for data to `IDLE_TIMEOUT` (408).
//! The file is removed when the returned value is dropped, whatever happens next.

use std::{
    io,
    path::{Path, PathBuf},
};

use axum::{body::Body, http::StatusCode};
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use super::{IDLE_TIMEOUT, too_large};
use crate::http::{ApiError, ApiResult};

/// Room for the form's other fields and the multipart framing around the file.
const FRAMING: u64 = 64 * 1024;
/// Text fields (`replace`, `csrf_token`) are short.
const MAX_FIELD: usize = 1024;
/// A form has few fields.
const MAX_FIELDS: usize = 16;
/// After a refusal, at most this much of the rest of the body is read (and thrown away)
/// so that the client, still sending, reads the answer rather than a reset connection.
const DRAIN: u64 = 16 * 1024 * 1024;

/// An uploaded zip on disk, removed when dropped.
#[derive(Debug)]
pub struct Spooled {
    path: PathBuf,
    pub len: u64,
    /// The file name the client gave (only its last segment matters).
    pub file_name: String,
    /// The form's `replace` field was `1` (or `true`, `on`).
    pub replace: bool,
}

impl Spooled {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::error!(event = "course_upload_cleanup_failed", error = %e);
        }
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "on" | "yes")
}

fn stalled() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "The upload stalled: no data for {} seconds.",
            IDLE_TIMEOUT.as_secs()
        ),
    )
}

fn malformed() -> ApiError {
    ApiError::bad_request("Malformed multipart body.")
}

/// Streams the body to `root/.upload-…` (`root` is created if missing). `content_type`
/// and `content_length` are the request's headers.
pub async fn spool(
    root: &Path,
    body: Body,
    content_type: Option<&str>,
    content_length: Option<u64>,
    max: u64,
) -> ApiResult<Spooled> {
    let mut data = body.into_data_stream();
    let result = receive(root, &mut data, content_type, content_length, max).await;
    if result.is_err() {
        // Read a bounded rest of the body so the client sees the answer.
        let mut drained = 0u64;
        while drained < DRAIN {
            match tokio::time::timeout(std::time::Duration::from_secs(2), data.next()).await {
                Ok(Some(Ok(chunk))) => drained += chunk.len() as u64,
                _ => break,
            }
        }
    }
    result
}

async fn receive(
    root: &Path,
    data: &mut axum::body::BodyDataStream,
    content_type: Option<&str>,
    content_length: Option<u64>,
    max: u64,
) -> ApiResult<Spooled> {
    let Some(boundary) = content_type.and_then(|ct| multer::parse_boundary(ct).ok()) else {
        return Err(ApiError::bad_request(
            "Send the zip as a multipart/form-data body with a file field named file.",
        ));
    };
    if content_length.is_some_and(|n| n > max.saturating_add(FRAMING)) {
        return Err(too_large(max));
    }
    tokio::fs::create_dir_all(root)
        .await
        .map_err(|e| ApiError::internal(format!("courses folder: {e}")))?;
    let mut mp = multer::Multipart::new(data, boundary);
    let mut file: Option<Spooled> = None;
    let mut replace = false;
    for _ in 0..MAX_FIELDS {
        let next = tokio::time::timeout(IDLE_TIMEOUT, mp.next_field()).await;
        let Some(mut field) = next.map_err(|_| stalled())?.map_err(|_| malformed())? else {
            break;
        };
        match (field.name(), field.file_name()) {
            (Some("file"), Some(name)) => {
                if file.is_some() {
                    return Err(ApiError::bad_request("Upload one zip at a time."));
                }
                let name = name.to_string();
                if name.is_empty() {
                    return Err(ApiError::bad_request("No file selected"));
                }
                if !name.to_ascii_lowercase().ends_with(".zip") {
                    return Err(ApiError::bad_request("Only .zip files can be uploaded."));
                }
                file = Some(write_file(root, &mut field, name, max).await?);
            }
            (Some("replace"), None) => {
                let mut text = Vec::new();
                read_small(&mut field, &mut text).await?;
                replace = truthy(&String::from_utf8_lossy(&text));
            }
            _ => read_small(&mut field, &mut Vec::new()).await?,
        }
    }
    let Some(mut file) = file else {
        return Err(ApiError::bad_request("No file uploaded"));
    };
    file.replace = replace;
    Ok(file)
}

/// A short text field, whole.
async fn read_small(field: &mut multer::Field<'_>, into: &mut Vec<u8>) -> ApiResult<()> {
    loop {
        let chunk = tokio::time::timeout(IDLE_TIMEOUT, field.chunk()).await;
        let Some(chunk) = chunk.map_err(|_| stalled())?.map_err(|_| malformed())? else {
            return Ok(());
        };
        if into.len() + chunk.len() > MAX_FIELD {
            return Err(ApiError::bad_request("A form field is too long."));
        }
        into.extend_from_slice(&chunk);
    }
}

async fn write_file(
    root: &Path,
    field: &mut multer::Field<'_>,
    file_name: String,
    max: u64,
) -> ApiResult<Spooled> {
    let path = root.join(format!(".upload-{:016x}.zip", rand::random::<u64>()));
    let io_err = |e: io::Error| ApiError::internal(format!("course upload file: {e}"));
    let f = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .map_err(io_err)?;
    // From here on, dropping `spooled` removes the file.
    let mut spooled = Spooled {
        path,
        len: 0,
        file_name,
        replace: false,
    };
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, f);
    loop {
        let chunk = tokio::time::timeout(IDLE_TIMEOUT, field.chunk()).await;
        let Some(chunk) = chunk.map_err(|_| stalled())?.map_err(|_| malformed())? else {
            break;
        };
        spooled.len += chunk.len() as u64;
        if spooled.len > max {
            return Err(too_large(max));
        }
        out.write_all(&chunk).await.map_err(io_err)?;
    }
    out.flush().await.map_err(io_err)?;
    if spooled.len == 0 {
        return Err(ApiError::bad_request("The uploaded file is empty."));
    }
    Ok(spooled)
}
