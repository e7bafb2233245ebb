//! One avatar upload, as both `POST /api/profile/avatar` and the profile page's form run
//! it: a multipart body with one file part named `avatar`; the file name only supplies the
//! extension (`multipart.rs` reads it). The image is decoded and re-encoded on the blocking pool, stored under a new
//! name, and the user's previous file deleted.

use axum::{
    body::Bytes,
    extract::{
        Multipart,
        multipart::{Field, MultipartError, MultipartRejection},
    },
    http::StatusCode,
};

use super::{
    DECODE_PERMITS, Encoded, Invalid, Kind, MAX_BYTES, files,
    multipart::{self, Failure, Upload, read_upload},
    process,
};
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

fn failure(e: MultipartError) -> Failure {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::TooLarge
    } else {
        Failure::Malformed
    }
}

fn multipart_error(f: Failure) -> ApiError {
    match f {
        Failure::TooLarge => ApiError::payload_too_large(),
        Failure::Malformed => ApiError::bad_request("Malformed multipart body."),
    }
}

/// axum's extractor as a `multipart::Form`.
struct Body(Multipart);

struct BodyPart<'a>(Field<'a>);

impl multipart::Form for Body {
    type Part<'a> = BodyPart<'a>;
    async fn next_part(&mut self) -> Result<Option<BodyPart<'_>>, Failure> {
        Ok(self.0.next_field().await.map_err(failure)?.map(BodyPart))
    }
}

impl multipart::Part for BodyPart<'_> {
    type Chunk = Bytes;
    fn name(&self) -> Option<&str> {
        self.0.name()
    }
    fn file_name(&self) -> Option<&str> {
        self.0.file_name()
    }
    async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        self.0.chunk().await.map_err(failure)
    }
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
    let (kind, bytes) = match read_upload(&mut Body(mp)).await.map_err(multipart_error)? {
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
