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
use utoipa::ToSchema;

use super::openapi::{ErrorBody, JsonIn, MessageBody};
use crate::{
    auth::{self, MaybeUser, account, rate_limit, session},
    http::{
        ApiError, ApiResult, Ctx, JsonObject, json, json_response,
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
#[utoipa::path(get, path = "/auth/check", tag = "auth",
    security((), ("session" = [])),
    responses(
        (status = 200, description = "A live session; its user's name in `X-Remote-User`, no body",
            headers(("x-remote-user" = String, description = "The signed-in user's name"))),
        (status = 401, description = "No live session", content_type = "text/plain", body = String),
    ))]
pub(crate) async fn auth_check(MaybeUser(s): MaybeUser) -> Response {
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
#[derive(ToSchema)]
pub struct Credentials {
    #[schema(min_length = 1)]
    username: String,
    #[schema(min_length = 1)]
    password: String,
}

/// `{username, password}` at registration, with the rules `auth::account::register`
/// applies (`domain::Username`, `domain::NewPassword`; `MIN_PASSWORD_LENGTH`, 8 by
/// default; not a common password, not the username).
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of `Credentials` when registering
struct NewAccount {
    #[schema(pattern = "^[A-Za-z0-9_-]{3,64}$")]
    username: String,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
}

/// `user` of a successful login.
#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct LoginUser {
    id: i64,
    username: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct LoginAnswer {
    message: String,
    user: LoginUser,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionUserBody {
    id: i64,
    username: String,
    is_admin: bool,
}

/// `{"is_authenticated": false}` without a session.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionState {
    is_authenticated: bool,
    user: Option<SessionUserBody>,
    password_change_required: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct CsrfTokenBody {
    /// Send it back in the `X-CSRFToken` header.
    csrf_token: String,
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

/// Logs in: a new session (any previous one of this client ends) and its cookie.
#[utoipa::path(post, path = "/api/login", tag = "auth", request_body = Credentials,
    security((), ("session" = [])),
    responses(JsonIn,
        (status = 200, description = "Logged in; the session cookie is set", body = LoginAnswer,
            headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 400, description = "`Username and password are required.`", body = ErrorBody),
        (status = 401, description = "`Invalid username or password.`", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or the account is locked for a while",
            body = ErrorBody, headers(("retry-after" = u64, description = "Seconds"))),
    ))]
pub(crate) async fn login(
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

/// Creates an account (it does not log in).
#[utoipa::path(post, path = "/api/register", tag = "auth", request_body = NewAccount,
    security((), ("session" = [])),
    responses(JsonIn,
        (status = 201, description = "Registered", body = MessageBody),
        (status = 400, description = "A username or password the rules refuse", body = ErrorBody),
        (status = 409, description = "`Username already exists.`", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds"))),
    ))]
pub(crate) async fn register(
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

/// Ends the session server-side and clears the cookie.
#[utoipa::path(post, path = "/api/logout", tag = "auth",
    security((), ("session" = [])),
    responses(
        (status = 200, description = "Logged out", body = MessageBody),
        (status = 401, description = "`Not logged in.`", body = ErrorBody),
    ))]
pub(crate) async fn logout(
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

/// Whether the caller has a live session, and whose.
#[utoipa::path(get, path = "/api/check_session", tag = "auth",
    security((), ("session" = [])),
    responses(
        (status = 200, description = "A live session", body = SessionState),
        (status = 401, description = "`{\"is_authenticated\": false}`", body = SessionState),
    ))]
pub(crate) async fn check_session(MaybeUser(s): MaybeUser) -> Response {
    /// `SessionState` as it is written (keys in the order `json!` sorted them).
    #[derive(serde::Serialize)]
    struct Live<'a> {
        is_authenticated: bool,
        password_change_required: bool,
        user: LiveUser<'a>,
    }
    #[derive(serde::Serialize)]
    struct LiveUser<'a> {
        id: i64,
        is_admin: bool,
        username: &'a str,
    }
    match s {
        Some(s) => json_response(
            StatusCode::OK,
            &Live {
                is_authenticated: true,
                password_change_required: s.password_change_required,
                user: LiveUser {
                    id: s.user.id,
                    is_admin: s.user.is_admin,
                    username: &s.user.username,
                },
            },
        ),
        None => json(StatusCode::UNAUTHORIZED, json!({"is_authenticated": false})),
    }
}

/// A CSRF token: bound to the session, or, without one, to this client for an hour.
#[utoipa::path(get, path = "/csrf-token", tag = "auth",
    security((), ("session" = [])),
    responses((status = 200, description = "A fresh (masked) token", body = CsrfTokenBody)))]
pub(crate) async fn csrf_token(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
) -> Response {
    json(
        StatusCode::OK,
        json!({"csrf_token": auth::csrf_token(&state, &ctx, s.as_ref())}),
    )
}
