//! Avatars: upload (`POST /api/profile/avatar`, the work is `avatar::upload`) and serving
//! (`GET /avatars/{name}`, from the database, with an `ETag`). The upload answers
//! `200 {"message","avatar_url"}`, or a 303 to `/profile` when the client asks for HTML (a
//! plain browser form).

use axum::{
    Router,
    extract::{
        DefaultBodyLimit, Multipart, Path, State, multipart::MultipartRejection,
        rejection::PathRejection,
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde_json::json;
use utoipa::ToSchema;

use super::openapi::{ErrorBody, SignedIn};

use crate::{
    auth::CurrentUser,
    avatar::{self, UPLOAD_BODY_LIMIT},
    db,
    http::{ApiError, ApiResult, json, wants_html},
    state::AppState,
};

/// The upload route carries its own, larger body limit (`avatar::UPLOAD_BODY_LIMIT`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/profile/avatar",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/avatars/{name}", get(serve))
}

/// A multipart form with the image in its `avatar` part.
#[derive(ToSchema)]
#[allow(dead_code)]
struct AvatarForm {
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    avatar: Vec<u8>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct AvatarAnswer {
    message: String,
    avatar_url: String,
}

/// Stores a new avatar (PNG, JPEG or GIF; docs/original.md "Avatar upload checks").
#[utoipa::path(post, path = "/api/profile/avatar", operation_id = "upload_avatar", tag = "account",
    request_body(content = AvatarForm, content_type = "multipart/form-data"),
    security(("session" = [], "csrf" = [])),
    responses(SignedIn,
        (status = 200, description = "Stored", body = AvatarAnswer),
        (status = 303, description = "Stored, for a client asking for HTML: back to `/profile`"),
        (status = 400, description = "Not a multipart body, no `avatar` part, or an image the checks refuse", body = ErrorBody),
        (status = 413, description = "`Request body is too large.` (over 8 MiB)", body = ErrorBody),
    ))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let name = avatar::upload::receive(&state, s.user.id, mp).await?;
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

/// How long any cache may keep an avatar. The bytes under a name never change, so within
/// that time nobody needs to ask again (`immutable`); the hour bounds how long a replaced or
/// deleted picture can still be shown from a cache (docs/design.md "Storage").
const AVATAR_CACHE: &str = "public, max-age=3600, immutable";

/// Does `If-None-Match` name `etag` (or `*`)? Compared weakly, as that header is.
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim())
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
        })
}

/// `GET /avatars/{name}`: the picture stored under `name`, from the database. Only
/// generated names are looked up; any other name, and one no picture is stored under (a
/// replaced or deleted avatar), is a 404.
#[utoipa::path(get, path = "/avatars/{name}", tag = "account",
    params(("name" = String, Path, description = "A name this server generated")),
    responses(
        (status = 200, description = "The image", content(
            (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg")),
            headers(("etag" = String), ("cache-control" = String))),
        (status = 304, description = "The client's copy (`If-None-Match`) is current"),
        (status = 404, description = "`Not found.`: not a name this server generated, or no picture is stored under it (replaced or deleted)", body = ErrorBody),
    ))]
pub(crate) async fn serve(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Ok(Path(name)) = name else {
        return Err(ApiError::not_found());
    };
    if !avatar::is_stored_name(&name) {
        return Err(ApiError::not_found());
    }
    let tag = avatar::etag(&name);
    let etag = HeaderValue::from_str(&tag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static(AVATAR_CACHE);
    if matches(&headers, &tag) {
        // Only while the picture is still stored: a deleted one must not be confirmed.
        if !db::avatars::exists(&state.db, &name).await? {
            return Err(ApiError::not_found());
        }
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let Some(bytes) = db::avatars::bytes(&state.db, &name).await? else {
        return Err(ApiError::not_found());
    };
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(avatar::content_type(&name)),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}
