//! Avatars: upload (`POST /api/profile/avatar`, the work is `avatar::upload`) and serving
//! (`GET /avatars/{name}`). The upload answers `200 {"message","avatar_url"}`, or a 303 to
//! `/profile` when the client asks for HTML (a plain browser form).

use axum::{
    Router,
    body::Body,
    extract::{
        DefaultBodyLimit, Multipart, Path, Request, State, multipart::MultipartRejection,
        rejection::PathRejection,
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde_json::json;
use tower::ServiceExt as _;
use utoipa::ToSchema;

use super::openapi::{ErrorBody, SignedIn};
use tower_http::services::ServeFile;

use crate::{
    auth::CurrentUser,
    avatar::{self, DEFAULT_AVATAR, UPLOAD_BODY_LIMIT},
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

/// `GET /avatars/{name}`: only generated names are served (anything else is a 404); a
/// generated name whose file is gone redirects to the default avatar.
#[utoipa::path(get, path = "/avatars/{name}", tag = "account",
    params(("name" = String, Path, description = "A name this server generated")),
    responses(
        (status = 200, description = "The image", content(
            (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"))),
        (status = 206, description = "A range of the image"),
        (status = 304, description = "Not modified since the copy the client has"),
        (status = 307, description = "The file is gone: the default avatar"),
        (status = 404, description = "`Not found.`: not a name this server generated", body = ErrorBody),
        (status = 412, description = "A precondition (`If-Match`, `If-Unmodified-Since`) failed"),
        (status = 416, description = "A range outside the image"),
    ))]
pub(crate) async fn serve(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let Ok(Path(name)) = name else {
        return ApiError::not_found().into_response();
    };
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
