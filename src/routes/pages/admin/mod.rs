//! The admin pages under `/admin` (docs/design.md "Admin panel"): one tab per area, each
//! a module with its page and form posts — `users`, `sessions`, `audit`, `courses`,
//! `system` (the dashboard, diagnostics, logs and the About text). They call the same
//! operations as `/api/admin/` (`crate::admin`, `catalog`), which audit every action.
//!
//! This module keeps what the tabs share: the `Admin` extractor (an admin's session, or
//! the login redirect, a 403 page, or — on a hub with no admin yet — the command that
//! makes one), `AdminForm` (a form body kept whole so a form refused for want of a recent
//! password can be sent again), and the re-authentication prompt: `POST /admin/reauth`
//! checks the password and answers 307 to the refused form's action, so the browser
//! posts the same form again, now allowed.

mod audit;
mod courses;
mod sessions;
mod system;
mod users;

use askama::Template;
use axum::{
    Router,
    body::{Body, Bytes},
    extract::{FromRequest, FromRequestParts, Query, Request, State},
    http::{Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::{Deserialize, de::DeserializeOwned};

use super::{NavUser, render, safe_next};
use crate::{
    auth::{
        Session,
        admin::{self, REAUTH_REQUIRED, Refusal},
    },
    http::{ApiError, Ctx, wants_html},
    state::AppState,
};

/// The tabs: path and label.
pub const TABS: &[(&str, &str)] = &[
    ("/admin", "Dashboard"),
    ("/admin/users", "Users"),
    ("/admin/sessions", "Sessions"),
    ("/admin/courses", "Courses"),
    ("/admin/diagnostics", "Diagnostics"),
    ("/admin/logs", "Logs"),
    ("/admin/audit", "Audit"),
    ("/admin/about", "About"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/reauth", get(reauth_page).post(reauth_submit))
        .merge(users::router())
        .merge(sessions::router())
        .merge(audit::router())
        .merge(courses::router())
        .merge(system::router())
}

/// An admin's request to an admin page: the session, the request's context and what every
/// admin page template needs (`user`, `csrf_token`).
pub struct Admin {
    pub s: Session,
    pub ctx: Ctx,
    pub user: Option<NavUser>,
    pub csrf_token: String,
}

#[derive(Template)]
#[template(path = "admin/denied.html")]
struct DeniedPage {
    user: Option<NavUser>,
    csrf_token: String,
    heading: String,
    message: String,
    bootstrap: bool,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (ctx, refusal) = match admin::check_request(parts, state).await? {
            (ctx, Ok(s)) => {
                let csrf_token = crate::auth::csrf_token(state, &ctx, Some(&s));
                return Ok(Admin {
                    user: Some(NavUser::of(&s)),
                    s,
                    ctx,
                    csrf_token,
                });
            }
            (ctx, Err(r)) => (ctx, r),
        };
        let no_admin = match crate::admin::users::has_admin(state).await {
            Ok(has) => !has,
            Err(e) => return Err(e.into_response()),
        };
        let page = |heading: &str, message: &str, bootstrap| {
            render(
                StatusCode::FORBIDDEN,
                &DeniedPage {
                    user: None,
                    csrf_token: String::new(),
                    heading: heading.into(),
                    message: message.into(),
                    bootstrap,
                },
            )
        };
        if no_admin && parts.method == Method::GET {
            return Err(page(
                "No administrator yet",
                "This hub has no admin account yet, so nobody can use the admin pages.",
                true,
            ));
        }
        match refusal {
            Refusal::Anonymous if wants_html(&parts.headers) => {
                let next = if parts.method == Method::GET {
                    parts.uri.path().to_string()
                } else {
                    "/admin".to_string()
                };
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            Refusal::Anonymous => {
                Err(ApiError::unauthorized("Authentication required.").into_response())
            }
            Refusal::NotAdmin(s) => Err(render(
                StatusCode::FORBIDDEN,
                &DeniedPage {
                    user: Some(NavUser::of(&s)),
                    csrf_token: crate::auth::csrf_token(state, &ctx, Some(&s)),
                    heading: "Admin access required".into(),
                    message: "Your account is not an admin of this hub.".into(),
                    bootstrap: false,
                },
            )),
        }
    }
}

/// A url-encoded form body read as `T`, with its fields kept (in order) so the form can be
/// sent again after re-authentication.
pub struct AdminForm<T> {
    pub value: T,
    pub fields: Vec<(String, String)>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for AdminForm<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::payload_too_large())?;
        let fields = form_urlencoded::parse(&bytes).into_owned().collect();
        let mut again = Request::new(Body::from(bytes));
        if let Some(ct) = content_type {
            again.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        *again.method_mut() = Method::POST;
        match axum::Form::<T>::from_request(again, state).await {
            Ok(axum::Form(value)) => Ok(AdminForm { value, fields }),
            Err(_) => Err(ApiError::bad_request("Malformed form.")),
        }
    }
}

/// Whether an operation refused for want of a recent password.
pub fn is_reauth(e: &ApiError) -> bool {
    e.status == StatusCode::FORBIDDEN && e.message == REAUTH_REQUIRED
}

/// The answer to an admin form post: on success 303 to `to` with `?done=CODE`; refused for
/// want of a recent password, the password prompt that sends `fields` to `action` again;
/// another client error, the tab's page again with the message (`page`); else the error.
pub async fn answer<F, Fut>(
    state: &AppState,
    a: &Admin,
    action: &str,
    fields: &[(String, String)],
    result: Result<(), ApiError>,
    (to, code): (&str, &str),
    page: F,
) -> Response
where
    F: FnOnce(ApiError) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    match result {
        Ok(()) => done(to, code),
        Err(e) if is_reauth(&e) => reauth_prompt(state, a, action, fields, true, ""),
        Err(e) if e.status.is_client_error() => page(e).await,
        Err(e) => e.into_response(),
    }
}

/// A form's id field: 400 unless a whole number.
pub fn form_id(value: &str, name: &str) -> Result<i64, ApiError> {
    value
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{name} must be a whole number.")))
}

/// 303 to `to` with `?done=CODE`, which the page there turns into its notice.
pub fn done(to: &str, code: &str) -> Response {
    let code: String = form_urlencoded::byte_serialize(code.as_bytes()).collect();
    Redirect::to(&format!("{to}?done={code}")).into_response()
}

/// The `?done=CODE` a page was sent to after a successful form post.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    pub done: String,
}

#[derive(Template)]
#[template(path = "admin/reauth.html")]
struct ReauthPage {
    user: Option<NavUser>,
    csrf_token: String,
    tab: String,
    notice: String,
    error: String,
    window_minutes: u64,
    then: String,
    back: String,
    repost: bool,
    fields: Vec<(String, String)>,
}

/// The admin pages' own paths only.
fn safe_then(then: &str) -> String {
    let then = safe_next(Some(then));
    if then == "/admin" || then.starts_with("/admin/") {
        then
    } else {
        "/admin".to_string()
    }
}

/// The tab a path belongs to, for the "Cancel" link and the highlighted tab.
fn tab_of(path: &str) -> &'static str {
    TABS.iter()
        .skip(1)
        .find(|(p, _)| path.starts_with(p))
        .map(|(p, _)| *p)
        .unwrap_or("/admin")
}

/// The password prompt for a form refused for want of a recent password: submitting it
/// re-authenticates and sends the same `fields` to `then` (the form's action) again.
/// With `repost` false, it returns to `then` (a page) instead.
pub fn reauth_prompt(
    state: &AppState,
    a: &Admin,
    then: &str,
    fields: &[(String, String)],
    repost: bool,
    error: &str,
) -> Response {
    let then = safe_then(then);
    let kept = fields
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "csrf_token" | "reauth_password" | "then" | "repost"
            )
        })
        .cloned()
        .collect();
    let status = if error.is_empty() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    render(
        status,
        &ReauthPage {
            user: a.user.clone(),
            csrf_token: a.csrf_token.clone(),
            tab: tab_of(&then).to_string(),
            notice: String::new(),
            error: error.to_string(),
            window_minutes: state.config.admin_reauth_window.as_secs().div_ceil(60),
            back: tab_of(&then).to_string(),
            then,
            repost,
            fields: kept,
        },
    )
}

#[derive(Deserialize, Default)]
struct ReauthQuery {
    #[serde(default)]
    then: String,
}

async fn reauth_page(
    State(state): State<AppState>,
    a: Admin,
    Query(q): Query<ReauthQuery>,
) -> Response {
    reauth_prompt(&state, &a, &q.then, &[], false, "")
}

#[derive(Deserialize)]
struct ReauthForm {
    #[serde(default)]
    reauth_password: String,
    #[serde(default)]
    then: String,
    #[serde(default)]
    repost: String,
}

async fn reauth_submit(
    State(state): State<AppState>,
    a: Admin,
    form: AdminForm<ReauthForm>,
) -> Response {
    let f = &form.value;
    let repost = f.repost == "1";
    match admin::reauthenticate(&state, &a.ctx, &a.s, &f.reauth_password).await {
        Ok(_) => {
            let then = safe_then(&f.then);
            if repost {
                // 307 keeps the method and the body: the browser sends the refused form again.
                (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, then)]).into_response()
            } else {
                Redirect::to(&then).into_response()
            }
        }
        Err(e) if e.status.is_client_error() => {
            reauth_prompt(&state, &a, &f.then, &form.fields, repost, &e.message)
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn then_stays_in_the_admin_pages() {
        assert_eq!(safe_then("/admin/users/delete"), "/admin/users/delete");
        assert_eq!(safe_then("/admin"), "/admin");
        for bad in [
            "/profile",
            "//evil.example/admin",
            "https://x/admin",
            "/administrator",
            "",
        ] {
            assert_eq!(safe_then(bad), "/admin", "{bad}");
        }
        assert_eq!(tab_of("/admin/users/delete"), "/admin/users");
        assert_eq!(tab_of("/admin/reauth"), "/admin");
    }
}
