//! One avatar upload, as both `POST /api/profile/avatar` and the profile page's form run
//! it: a multipart body with one file part named `avatar`; the file name only supplies the
//! extension (`multipart.rs` reads it). The image is decoded and re-encoded on the blocking
//! pool and stored in the database under a new name, in the transaction that names it the
//! user's avatar and deletes the previous one.

use axum::{
    body::Bytes,
    extract::{
        Multipart,
        multipart::{Field, MultipartError, MultipartRejection},
    },
    http::StatusCode,
};

use super::{
    DECODE_PERMITS, Encoded, Invalid, Kind, MAX_BYTES,
    multipart::{self, Failure, Upload, read_upload},
    names::new_name,
    process,
};
use crate::{
    db::avatars,
    http::{ApiError, ApiResult},
    state::AppState,
    time::now,
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

/// Decodes, checks and re-encodes on the blocking pool, a bounded number at a time.
async fn encode(kind: Kind, bytes: Vec<u8>) -> ApiResult<Result<Encoded, Invalid>> {
    let permit = DECODE_PERMITS.acquire().await.map_err(ApiError::internal)?;
    let encoded = tokio::task::spawn_blocking(move || process(&bytes, kind)).await;
    drop(permit);
    encoded.map_err(|e| ApiError::internal(format!("avatar task: {e}")))
}

/// The whole upload for the signed-in `user_id`; returns the new avatar's name. A refused
/// file is a 400 with the check's message. The bytes, the account's new name and the
/// removal of its previous picture are one transaction (`db::avatars::replace`): a failure
/// or a kill leaves the previous avatar as it was, never a row no account names.
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
    let encoded = match encode(kind, bytes).await? {
        Ok(done) => done,
        Err(why) => return Err(invalid(user_id, why)),
    };
    let name = new_name(encoded.ext);
    if !avatars::replace(&state.db, user_id, &name, &encoded.bytes, now()).await? {
        // The account was deleted while the image was being processed.
        return Err(ApiError::unauthorized("Authentication required."));
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
/// re-encoding of an upload; `Some((name, bytes))` to store (`db::avatars::replace`) unless
/// `check_only`. The inner `Err` is why the file was refused (the upload's message).
pub async fn from_file(
    filename: &str,
    bytes: Vec<u8>,
    check_only: bool,
) -> anyhow::Result<Result<Option<(String, Vec<u8>)>, &'static str>> {
    let Some(kind) = Kind::from_filename(filename) else {
        return Ok(Err(Invalid::FileType.message()));
    };
    if bytes.len() > MAX_BYTES {
        return Ok(Err(Invalid::TooLarge.message()));
    }
    let _permit = DECODE_PERMITS.acquire().await?;
    let encoded = tokio::task::spawn_blocking(move || process(&bytes, kind)).await?;
    Ok(match encoded {
        Err(why) => Err(why.message()),
        Ok(_) if check_only => Ok(None),
        Ok(e) => Ok(Some((new_name(e.ext), e.bytes))),
    })
}
