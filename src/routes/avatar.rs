//! Avatars: upload (`POST /api/profile/avatar`) and serving (`GET /avatars/{name}`).
//!
//! The upload is a multipart body with one file part named `avatar`. The checks run in
//! gleh-spec.md §3.2's order with its messages (all 400); the file name only supplies the
//! extension. The image is decoded and re-encoded on the blocking pool (see `crate::avatar`),
//! stored under a random name in `DATA_DIR/avatars/`, and the user's previous file deleted.
//! The answer is `200 {"message","avatar_url"}`, or a 303 to `/profile` when the client asks
//! for HTML (a plain browser form).

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Multipart, Path, Request, State, multipart::MultipartError},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde_json::json;
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

use crate::{
    avatar::{self, Invalid, Kind},
    http::{ApiError, ApiResult, Ctx, guard::Authed, json, wants_html},
    state::AppState,
};

/// Request bodies this route accepts: a 5 MiB image plus room, so that a file somewhat over
/// the limit gets the clear 400 "File too large" rather than a bare 413. Larger bodies 413.
pub const UPLOAD_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Where a missing avatar file sends the browser.
pub const DEFAULT_AVATAR: &str = "/static/default-avatar.svg";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/profile/avatar",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/avatars/{name}", get(serve))
}

fn invalid(ctx: &Ctx, user_id: i64, why: Invalid) -> ApiError {
    tracing::info!(
        event = "image_upload_rejected",
        request_id = %ctx.request_id,
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

/// Reads the multipart body up to the first `avatar` file part, applying steps 1–3 of the
/// spec (file present, named, allowed extension, size) while streaming. A refused or
/// oversized file is read to the end of the body (the route's body limit bounds that) but
/// not kept, so the client can finish sending and read the 400.
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
        let mut bytes = Vec::new();
        let mut too_large = false;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if too_large || bytes.len() + chunk.len() > avatar::MAX_BYTES {
                too_large = true;
                bytes = Vec::new();
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        if too_large {
            break Upload::Rejected(Invalid::TooLarge);
        }
        return Ok(Upload::File(kind, bytes));
    };
    // Drain the rest of the body; a malformed remainder changes nothing about the answer.
    while let Ok(Some(mut field)) = mp.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
    Ok(outcome)
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    headers: HeaderMap,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let user_id = s.user.id;
    // Not multipart at all: there is no file part.
    let Ok(mp) = mp else {
        return Err(invalid(&ctx, user_id, Invalid::NoFile));
    };
    let (kind, bytes) = match read_upload(mp).await? {
        Upload::Missing => return Err(invalid(&ctx, user_id, Invalid::NoFile)),
        Upload::Rejected(why) => return Err(invalid(&ctx, user_id, why)),
        Upload::File(kind, bytes) => (kind, bytes),
    };
    let size = bytes.len();

    // Decode, check, re-encode and write the file on the blocking pool, a bounded number
    // at a time.
    let permit = avatar::DECODE_PERMITS
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let dir = avatar::dir(&state.config.data_dir);
    let stored = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || -> Result<Result<(String, avatar::Encoded), Invalid>, std::io::Error> {
            let encoded = match avatar::process(&bytes, kind) {
                Ok(e) => e,
                Err(why) => return Ok(Err(why)),
            };
            let name = avatar::new_name(encoded.ext);
            avatar::store(&dir, &name, &encoded.bytes)?;
            Ok(Ok((name, encoded)))
        }
    })
    .await;
    drop(permit);
    let (name, encoded) = match stored {
        Ok(Ok(Ok(done))) => done,
        Ok(Ok(Err(why))) => return Err(invalid(&ctx, user_id, why)),
        Ok(Err(e)) => return Err(ApiError::internal(format!("storing an avatar: {e}"))),
        Err(e) => return Err(ApiError::internal(format!("avatar task: {e}"))),
    };

    let previous = match crate::users::set_avatar(&state.db, user_id, &name).await {
        Ok(p) => p,
        Err(e) => {
            remove_later(dir, name);
            return Err(e.into());
        }
    };
    let Some(previous) = previous else {
        // The account was deleted while the image was being processed.
        remove_later(dir, name);
        return Err(ApiError::unauthorized("Authentication required."));
    };
    if previous != name {
        remove_later(dir, previous);
    }
    tracing::info!(
        event = "avatar_uploaded",
        request_id = %ctx.request_id,
        user_id,
        size,
        width = encoded.width,
        height = encoded.height,
        stored_bytes = encoded.bytes.len(),
    );
    // A browser's plain form post goes back to the profile page.
    if wants_html(&headers) {
        return Ok(Redirect::to("/profile?saved=1").into_response());
    }
    Ok(json(
        StatusCode::OK,
        json!({
            "message": "Avatar uploaded successfully",
            "avatar_url": format!("/avatars/{name}"),
        }),
    ))
}

/// Deletes a stored avatar off the request path; failures are logged, never shown.
fn remove_later(dir: std::path::PathBuf, name: String) {
    tokio::task::spawn_blocking(move || {
        if let Err(e) = avatar::remove(&dir, &name) {
            tracing::warn!(event = "avatar_remove_failed", file = %name, error = %e);
        }
    });
}

/// `GET /avatars/{name}`: only generated names are served (anything else is a 404); a
/// generated name whose file is gone redirects to the default avatar.
pub async fn serve(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    if !avatar::is_stored_name(&name) {
        return ApiError::not_found().into_response();
    }
    let path = avatar::dir(&state.config.data_dir).join(&name);
    let Ok(res) = ServeFile::new(path).oneshot(req).await;
    match res.status() {
        StatusCode::NOT_FOUND => Redirect::temporary(DEFAULT_AVATAR).into_response(),
        status if status.is_server_error() => {
            ApiError::internal(format!("serving avatar {name}: {status}")).into_response()
        }
        _ => {
            let mut res = res.map(Body::new);
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(avatar::content_type(&name)),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            res
        }
    }
}
