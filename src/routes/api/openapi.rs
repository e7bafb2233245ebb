//! `GET /openapi.json`: the OpenAPI 3.1 document of the JSON API, generated with utoipa
//! from the `#[utoipa::path]` annotations on the handlers of `routes/api/` and
//! `routes/health.rs` and the `ToSchema` types beside them (docs/design.md "HTTP contract").
//! The handlers write their answers with `json!` and read their bodies through
//! `JsonObject`, so the answer and body types beside them exist for the schema only
//! (`#[allow(dead_code)]`); schemathesis's response-conformance check
//! (tests/schemathesis/run.sh) is what holds them to the real answers.
//!
//! What the handlers' own annotations cannot see is added here, by `Stack`, from the rules
//! of the layers every request passes (`http::stack`, `auth::guard`): 500 and 503 on every
//! operation, 408 on every one but the streamed upload, and on POST/PUT/PATCH/DELETE the
//! cross-origin 403, the CSRF token's 400 (or, on the three token-exempt routes, the 415
//! for a body that is not JSON), the 413 of a body read for its token and the 507 of a
//! full disk; the 403 "Password change required" on the `/api/` routes a held session may
//! not reach. The extractors' answers are named on each handler by the response sets
//! below (`SignedIn`, `Admin`, `JsonIn`).
//!
//! The session cookie's name is the configured one (`SESSION_COOKIE_NAME`), so the
//! document is finished per request from the configuration. `tests` compares the paths
//! and methods of the document with the routes of the JSON routers, both ways.

use std::collections::{BTreeMap, btree_map::Entry};

use axum::{
    Router,
    extract::State,
    http::{Method, StatusCode},
    response::Response,
    routing::get,
};
use utoipa::{
    IntoResponses, Modify, OpenApi, ToSchema,
    openapi::{
        PathItem, RefOr, Response as Answer,
        link::LinkBuilder,
        path::Operation,
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

use crate::{
    auth::guard::{allowed_while_change_required, token_exempt},
    http::{json, streamed::is_streamed},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// The name of the session cookie's security scheme.
pub const SESSION: &str = "session";
/// The name of the CSRF header's security scheme.
pub const CSRF: &str = "csrf";
/// The header the CSRF scheme names (`auth/token_source.rs` also reads `X-CSRF-Token`).
pub const CSRF_HEADER: &str = "X-CSRFToken";

/// Every 4xx and 5xx answer of the API (`http::ApiError`).
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // a schema: the body is written by `ApiError::into_response`
pub struct ErrorBody {
    /// What went wrong, for a person; never anything internal.
    pub error: String,
}

/// `{"message": …}`, the answer of most state changes.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageBody {
    pub message: String,
}

/// A progress status as `domain::ProgressStatus` reads it (the text must match exactly).
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ProgressStatusName {
    #[schema(rename = "Not Started")]
    NotStarted,
    #[schema(rename = "In Progress")]
    InProgress,
    Completed,
}

/// The answers of `CurrentUser` (and of a handler that needs a session).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum SignedIn {
    /// `Authentication required.`: no live session.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
}

/// The answers of `AdminUser`.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Admin {
    /// `Authentication required.`: no live session.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// `Admin access required` for a non-admin; `Re-authentication required` when a change
    /// needs a recent password (docs/design.md "Access and re-authentication").
    #[response(status = 403)]
    Forbidden(ErrorBody),
}

/// The answers of a JSON object body (`http::JsonObject`, `JsonBody<T>`).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum JsonIn {
    /// `Malformed JSON.`, `Request body must be a JSON object.`, a field of the wrong type,
    /// or a rule of the operation.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// `Request body is too large.` (over `MAX_REQUEST_BODY_SIZE`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// `Content-Type must be application/json.`
    #[response(status = 415)]
    Unsupported(ErrorBody),
}

/// The answers every operation may give, from the layers (`Stack` adds them).
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Always {
    /// The request took more than 30 s in total (`http::stack`).
    #[response(status = 408)]
    Timeout(ErrorBody),
    /// `Internal server error.` (the cause is logged, never sent).
    #[response(status = 500)]
    Internal(ErrorBody),
    /// `Service temporarily unavailable.`: the database is out of reach;
    /// or `DATA_DIR` cannot be written.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What the guard adds to POST, PUT, PATCH and DELETE (`auth/guard.rs`).
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Unsafe {
    /// The CSRF token is missing, invalid or expired (docs/design.md "CSRF").
    #[response(status = 400)]
    Csrf(ErrorBody),
    /// `Cross-origin request blocked.` (`Sec-Fetch-Site`, then `Origin`).
    #[response(status = 403)]
    CrossOrigin(ErrorBody),
    /// `Request body is too large.` while looking for a form's token.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The database or `DATA_DIR` has no space left.
    #[response(status = 507)]
    Full(ErrorBody),
}

/// What the guard adds to the three token-exempt routes instead of the token's 400.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Exempt {
    /// `Cross-origin request blocked.`
    #[response(status = 403)]
    CrossOrigin(ErrorBody),
    /// `Content-Type must be application/json.`: a body of another type.
    #[response(status = 415)]
    Unsupported(ErrorBody),
    /// The database has no space left.
    #[response(status = 507)]
    Full(ErrorBody),
}

/// The guard's answer to a session held to "password change required".
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Held {
    /// `Password change required`: this session may only change its password.
    #[response(status = 403)]
    ChangeRequired(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "GLEH",
        description = "The JSON API of GLEH, the Gammons Landing Educational Hub \
            (docs/design.md \"HTTP contract\"). Every error is `{\"error\": \"…\"}`. \
            A method a path does not list is a 405 `Method not allowed.`; an unknown path \
            a 404 `Not found.`. State-changing requests (POST, PUT, PATCH, DELETE) carry \
            the CSRF token of `GET /csrf-token` in the `X-CSRFToken` header, except \
            `/api/login`, `/api/register` and `/api/logout`."
    ),
    paths(
        super::auth::csrf_token,
        super::auth::register,
        super::auth::login,
        super::auth::logout,
        super::auth::check_session,
        super::auth::auth_check,
        super::account::change_password,
        super::account::delete_account,
        super::account::list_sessions,
        super::account::revoke_session,
        super::profile::get_profile,
        super::profile::post_profile,
        super::avatar::upload,
        super::avatar::serve,
        super::content::content,
        super::ebooks::save_note,
        super::ebooks::set_progress,
        super::ebooks::get_note,
        super::ebooks::cover,
        super::learning::set_progress,
        super::learning::save_note,
        super::learning::get_note,
        super::admin::users::list,
        super::admin::users::create,
        super::admin::users::delete,
        super::admin::users::reset_password,
        super::admin::users::disable,
        super::admin::users::enable,
        super::admin::users::set_admin,
        super::admin::sessions::list,
        super::admin::sessions::revoke,
        super::admin::sessions::reauth_status,
        super::admin::sessions::reauth,
        super::admin::audit::list,
        super::admin::courses::list,
        super::admin::courses::scan,
        super::admin::courses::remove,
        super::admin::courses::autocategorize,
        super::admin::courses::upload,
        super::admin::system::status,
        super::admin::system::diagnostics,
        super::admin::system::logs,
        super::admin::system::about,
        super::admin::system::set_about,
        super::admin::system::sync_ebooks,
        crate::routes::health::health,
        crate::routes::health::health_deep,
        openapi_json,
    ),
    components(schemas(ErrorBody, MessageBody)),
    modifiers(&Stack, &Links),
    tags(
        (name = "auth", description = "Registration, login, logout, the session and the CSRF token"),
        (name = "account", description = "The signed-in user's account, profile and sessions"),
        (name = "learning", description = "The catalog, course progress and notes"),
        (name = "ebooks", description = "The Calibre-Web library: notes, progress, covers"),
        (name = "admin", description = "The admin API (docs/design.md \"Admin panel\")"),
        (name = "health", description = "Probes and this document"),
    )
)]
struct ApiDoc;

/// The document, with the session cookie named `cookie_name`.
pub fn document(cookie_name: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            cookie_name,
            "The session cookie set by `POST /api/login` (docs/design.md \"Sessions\").",
        ))),
    );
    components.add_security_scheme(
        CSRF,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            CSRF_HEADER,
            "The token of `GET /csrf-token` (docs/design.md \"CSRF\").",
        ))),
    );
    doc
}

/// The methods of a path item, with their operations.
pub fn operations(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::OPTIONS, item.options.as_mut()),
        (Method::HEAD, item.head.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::TRACE, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// Adds the answers of the layers to every operation (see the module's comment); an
/// answer the handler documents itself keeps its own description.
struct Stack;

impl Modify for Stack {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                let mut add = Always::responses();
                if is_streamed(path) {
                    add.remove("408");
                }
                let mut more = BTreeMap::new();
                if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
                    more.append(&mut if token_exempt(path) {
                        Exempt::responses()
                    } else {
                        Unsafe::responses()
                    });
                }
                if path.starts_with("/api/") && !allowed_while_change_required(&method, path) {
                    merge(&mut more, Held::responses());
                }
                merge(&mut add, more);
                merge(&mut op.responses.responses, add);
            }
        }
    }
}

/// Adds `from` to `into`; a status in both keeps both descriptions (one status, several
/// causes).
fn merge(into: &mut BTreeMap<String, RefOr<Answer>>, from: BTreeMap<String, RefOr<Answer>>) {
    for (status, answer) in from {
        match into.entry(status) {
            Entry::Vacant(v) => {
                v.insert(answer);
            }
            Entry::Occupied(mut o) => {
                if let (RefOr::T(mine), RefOr::T(other)) = (o.get_mut(), answer)
                    && !mine.description.contains(&other.description)
                {
                    mine.description = format!("{} Or: {}", mine.description, other.description);
                }
            }
        }
    }
}

/// OpenAPI links between operations, for clients and for schemathesis's stateful phase
/// (tests/schemathesis/run.sh): register → login → the session's own routes.
struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let link = |op: &str, description: &str| {
            LinkBuilder::new().operation_id(op).description(description)
        };
        let credentials = serde_json::json!({
            "username": "$request.body#/username",
            "password": "$request.body#/password",
        });
        let links = [
            (
                "/api/register",
                "201",
                "Login",
                link("login", "Log in with the new account")
                    .request_body(Some(credentials))
                    .build(),
            ),
            (
                "/api/login",
                "200",
                "Profile",
                link("get_profile", "The profile of the session").build(),
            ),
            (
                "/api/login",
                "200",
                "CheckSession",
                link("check_session", "The session just made").build(),
            ),
            (
                "/api/sessions",
                "200",
                "RevokeSession",
                link("revoke_session", "End the first session listed")
                    .parameter("id", "$response.body#/sessions/0/id")
                    .build(),
            ),
        ];
        for (path, status, name, l) in links {
            let answer = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| operations(item).into_iter().next())
                .and_then(|(_, op)| op.responses.responses.get_mut(status));
            if let Some(RefOr::T(answer)) = answer {
                answer.links.insert(name.to_string(), RefOr::T(l));
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API",
        content_type = "application/json", body = Object)))]
async fn openapi_json(State(state): State<AppState>) -> Response {
    match serde_json::to_value(document(&state.config.cookie_name)) {
        Ok(v) => json(StatusCode::OK, v),
        Err(e) => axum::response::IntoResponse::into_response(crate::http::ApiError::internal(e)),
    }
}

#[cfg(test)]
mod tests;
