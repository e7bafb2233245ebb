//! One avatar upload, as both `POST /api/profile/avatar` and the profile page's form run
//! it: a multipart body with one file part named `avatar`; the file name only supplies the
//! extension. The image is decoded and re-encoded on the blocking pool, stored under a new
//! name, and the user's previous file deleted.

use axum::{
    extract::{
        Multipart,
        multipart::{MultipartError, MultipartRejection},
    },
    http::StatusCode,
};

use super::{DECODE_PERMITS, Encoded, Invalid, Kind, MAX_BYTES, files, process};
use crate::{
    db::users,
    http::{ApiError, ApiResult},
    state::AppState,
};

fn invalid(user_id: i64, why: Invalid) -> ApiError {
    tracing::info!(
        event = "image_upload_rejected",
        user_id,
        reason = why.reason(),
    );
    ApiError::bad_request(why.message())
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::bad_request("Malformed multipart body.")
    }
}

/// What the `avatar` part held.
enum Upload {
    Missing,
    Rejected(Invalid),
    File(Kind, Vec<u8>),
}

/// Reads one file part's bytes while streaming; `None` when it exceeds `MAX_BYTES` (the
/// rest is read but not kept, so the client can finish sending and read the 400).
async fn read_file(field: &mut axum::extract::multipart::Field<'_>) -> ApiResult<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let mut too_large = false;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if too_large || bytes.len() + chunk.len() > MAX_BYTES {
            too_large = true;
            bytes = Vec::new();
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((!too_large).then_some(bytes))
}

/// Reads the multipart body up to the first `avatar` file part, applying the first checks
/// (file present, named, allowed extension, size) while streaming. A refused file is read
/// to the end of the body (the route's body limit bounds that).
async fn read_upload(mut mp: Multipart) -> ApiResult<Upload> {
    let outcome = loop {
        let Some(mut field) = mp.next_field().await.map_err(multipart_error)? else {
            return Ok(Upload::Missing);
        };
        if field.name() != Some("avatar") {
            continue;
        }
        // A part without a filename parameter is a plain form field, not a file.
        let Some(filename) = field.file_name().map(str::to_owned) else {
            break Upload::Missing;
        };
        if filename.is_empty() {
            break Upload::Rejected(Invalid::NoFileSelected);
        }
        let Some(kind) = Kind::from_filename(&filename) else {
            break Upload::Rejected(Invalid::FileType);
        };
        match read_file(&mut field).await? {
            Some(bytes) => return Ok(Upload::File(kind, bytes)),
            None => break Upload::Rejected(Invalid::TooLarge),
        }
    };
    // Drain the rest of the body; a malformed remainder changes nothing about the answer.
    while let Ok(Some(mut field)) = mp.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
    Ok(outcome)
}

/// Decodes, checks, re-encodes and writes the file on the blocking pool, a bounded number
/// at a time. Returns the stored name and the encoded image.
async fn store(
    state: &AppState,
    kind: Kind,
    bytes: Vec<u8>,
) -> ApiResult<Result<(String, Encoded), Invalid>> {
    let permit = DECODE_PERMITS.acquire().await.map_err(ApiError::internal)?;
    let dir = files::dir(&state.config.data_dir);
    let stored = tokio::task::spawn_blocking(
        move || -> Result<Result<(String, Encoded), Invalid>, std::io::Error> {
            let encoded = match process(&bytes, kind) {
                Ok(e) => e,
                Err(why) => return Ok(Err(why)),
            };
            let name = files::new_name(encoded.ext);
            files::store(&dir, &name, &encoded.bytes)?;
            Ok(Ok((name, encoded)))
        },
    )
    .await;
    drop(permit);
    match stored {
        Ok(Ok(done)) => Ok(done),
        // A full disk is a 507, a folder that cannot be written a 503: the client can
        // try again later, and nothing but uploads depends on DATA_DIR.
        Ok(Err(e)) => Err(ApiError::storage("storing an avatar", &e)),
        Err(e) => Err(ApiError::internal(format!("avatar task: {e}"))),
    }
}

/// The whole upload for the signed-in `user_id`; returns the new file's name. A refused
/// file is a 400 with the check's message; the user's previous file is deleted.
pub async fn receive(
    state: &AppState,
    user_id: i64,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<String> {
    // Not multipart at all: there is no file part.
    let Ok(mp) = mp else {
        return Err(invalid(user_id, Invalid::NoFile));
    };
    let (kind, bytes) = match read_upload(mp).await? {
        Upload::Missing => return Err(invalid(user_id, Invalid::NoFile)),
        Upload::Rejected(why) => return Err(invalid(user_id, why)),
        Upload::File(kind, bytes) => (kind, bytes),
    };
    let size = bytes.len();
    let (name, encoded) = match store(state, kind, bytes).await? {
        Ok(done) => done,
        Err(why) => return Err(invalid(user_id, why)),
    };
    let dir = files::dir(&state.config.data_dir);
    let previous = match users::set_avatar(&state.db, user_id, &name).await {
        Ok(p) => p,
        Err(e) => {
            files::discard(dir, name).await;
            return Err(e.into());
        }
    };
    let Some(previous) = previous else {
        // The account was deleted while the image was being processed.
        files::discard(dir, name).await;
        return Err(ApiError::unauthorized("Authentication required."));
    };
    if previous != name {
        files::discard(dir, previous).await;
    }
    tracing::info!(
        event = "avatar_uploaded",
        user_id,
        size,
        width = encoded.width,
        height = encoded.height,
        stored_bytes = encoded.bytes.len(),
    );
    Ok(name)
}

/// An avatar read from a file (`gleh import-gleh --avatars DIR`): the checks, decoding and
/// re-encoding of an upload, then stored under a new name unless `check_only`. The inner
/// `Err` is why the file was refused (the upload's message).
pub async fn from_file(
    data_dir: &std::path::Path,
    filename: &str,
    bytes: Vec<u8>,
    check_only: bool,
) -> anyhow::Result<Result<Option<String>, &'static str>> {
    let Some(kind) = Kind::from_filename(filename) else {
        return Ok(Err(Invalid::FileType.message()));
    };
    if bytes.len() > MAX_BYTES {
        return Ok(Err(Invalid::TooLarge.message()));
    }
    let _permit = DECODE_PERMITS.acquire().await?;
    let dir = files::dir(data_dir);
    let done = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let encoded = match process(&bytes, kind) {
            Ok(e) => e,
            Err(why) => return Ok(Err(why.message())),
        };
        if check_only {
            return Ok(Ok(None));
        }
        let name = files::new_name(encoded.ext);
        files::store(&dir, &name, &encoded.bytes)?;
        Ok(Ok(Some(name)))
    })
    .await??;
    Ok(done)
}
