//! `POST /api/register`, `/api/login`, `/api/logout`, `GET /api/check_session` and
//! `GET /csrf-token` and `GET /auth/check` (docs/design.md "HTTP contract"). The account work itself is
//! `auth::account`, shared with the HTML forms.

use axum::{
    Router,
    extract::State,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;

use crate::{
    auth::{self, MaybeUser, account, rate_limit, session},
    http::{
        ApiError, ApiResult, Ctx, JsonObject, json,
        rejection::{FromJson, JsonBody},
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/csrf-token", get(csrf_token))
        .route("/api/register", post(register))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/check_session", get(check_session))
        .route("/auth/check", get(auth_check))
}

/// `GET /auth/check`, for nginx `auth_request` in front of Calibre-Web (deploy/nginx/):
/// 200 with `X-Remote-User: <username>` for a live session, 401 otherwise; never cached.
async fn auth_check(MaybeUser(s): MaybeUser) -> Response {
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let name = s.and_then(|s| HeaderValue::from_str(&s.user.username).ok());
    match name {
        Some(v) => (
            StatusCode::OK,
            [no_store, (HeaderName::from_static("x-remote-user"), v)],
        )
            .into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            [
                no_store,
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
            ],
            "Unauthorized",
        )
            .into_response(),
    }
}

/// `{username, password}`, both non-empty strings.
pub struct Credentials {
    username: String,
    password: String,
}

impl FromJson for Credentials {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        match (body.opt_str("username")?, body.opt_str("password")?) {
            (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Ok(Credentials {
                username: u.to_string(),
                password: p.to_string(),
            }),
            _ => Err(ApiError::bad_request("Username and password are required.")),
        }
    }
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(previous): MaybeUser,
    body: Result<JsonBody<Credentials>, ApiError>,
) -> ApiResult<Response> {
    rate_limit::check_ip(&state, &ctx, "/api/login").await?;
    let JsonBody(c) = body?;
    let done = account::login(&state, &ctx, previous.as_ref(), &c.username, &c.password).await?;
    let mut res = json(
        StatusCode::OK,
        json!({"message": "Login successful.", "user": {"id": done.user_id, "username": done.username}}),
    );
    res.headers_mut().append(header::SET_COOKIE, done.cookie);
    Ok(res)
}

async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    body: Result<JsonBody<Credentials>, ApiError>,
) -> ApiResult<Response> {
    rate_limit::check_ip(&state, &ctx, "/api/register").await?;
    let JsonBody(c) = body?;
    account::register(&state, &ctx, &c.username, &c.password).await?;
    Ok(json(
        StatusCode::CREATED,
        json!({"message": "User registered successfully."}),
    ))
}

async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
) -> ApiResult<Response> {
    let Some(s) = s else {
        return Err(ApiError::unauthorized("Not logged in."));
    };
    account::logout(&state, &ctx, &s).await?;
    Ok(session::logout_headers(
        &state.config,
        json(StatusCode::OK, json!({"message": "Logout successful."})),
    ))
}

async fn check_session(MaybeUser(s): MaybeUser) -> Response {
    match s {
        Some(s) => json(
            StatusCode::OK,
            json!({"is_authenticated": true, "user": {
                "id": s.user.id, "username": s.user.username, "is_admin": s.user.is_admin},
                "password_change_required": s.password_change_required}),
        ),
        None => json(StatusCode::UNAUTHORIZED, json!({"is_authenticated": false})),
    }
}

async fn csrf_token(State(state): State<AppState>, ctx: Ctx, MaybeUser(s): MaybeUser) -> Response {
    json(
        StatusCode::OK,
        json!({"csrf_token": auth::csrf_token(&state, &ctx, s.as_ref())}),
    )
}
