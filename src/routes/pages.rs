//! Server-rendered pages (askama templates compiled into the binary). Forms carry the CSRF
//! token in a hidden `csrf_token` field and work without any script.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::auth;
use crate::{
    catalog,
    http::{
        ApiError, Ctx,
        guard::{Authed, MaybeSession},
        html, wants_html,
    },
    session::{self, Session},
    state::AppState,
    users,
};

use super::profile::{ProfileUpdate, iso8601};

fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => html(status, body),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A local path to go to after login; anything else becomes `/` (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 512 =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

pub struct CourseCard {
    pub uid: String,
    pub course_number: String,
    pub term: String,
    pub year: String,
    pub level: String,
    pub title: String,
    pub instructor: String,
    pub description: String,
    pub categories: Vec<String>,
    pub progress: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    user: Option<String>,
    csrf_token: String,
    query: String,
    courses: Vec<CourseCard>,
    show_progress: bool,
}

#[derive(Deserialize)]
pub struct IndexQuery {
    q: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
    Query(q): Query<IndexQuery>,
) -> Result<Response, ApiError> {
    let query =
        q.q.unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>();
    let needle = query.trim().to_lowercase();
    let entries = catalog::list_for_user(&state.db, s.as_ref().map(|s| s.user.id)).await?;
    let courses = entries
        .into_iter()
        .filter(|e| {
            needle.is_empty()
                || [
                    &e.course.title,
                    &e.course.description,
                    &e.course.categories,
                    &e.course.instructor,
                    &e.course.course_number,
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle))
        })
        .map(|e| CourseCard {
            uid: catalog::encode_path(&e.course.uid),
            categories: e.course.category_list(),
            course_number: e.course.course_number,
            term: e.course.term,
            year: e.course.year,
            level: e.course.level,
            title: e.course.title,
            instructor: e.course.instructor,
            description: e.course.description,
            progress: e.progress,
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &IndexPage {
            user: s.as_ref().map(|s| s.user.username.clone()),
            csrf_token: auth::token_for(&state, &ctx, s.as_ref()),
            query,
            courses,
            show_progress: s.is_some(),
        },
    ))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<String>,
    csrf_token: String,
    next: String,
    username: String,
    error: String,
    notice: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    registered: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
    Query(q): Query<LoginQuery>,
) -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            user: s.as_ref().map(|s| s.user.username.clone()),
            csrf_token: auth::token_for(&state, &ctx, s.as_ref()),
            next: safe_next(q.next.as_deref()),
            username: String::new(),
            error: String::new(),
            notice: if q.registered.is_some() {
                "Account created. You can log in now.".into()
            } else {
                String::new()
            },
        },
    )
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(previous): MaybeSession,
    form: Result<Form<CredentialsForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("Malformed form.").into_response();
    };
    let next = safe_next(form.next.as_deref());
    let result = async {
        auth::limit_ip(&state, &ctx, "/login").await?;
        if form.username.is_empty() || form.password.is_empty() {
            return Err(ApiError::bad_request("Username and password are required."));
        }
        auth::login(
            &state,
            &ctx,
            previous.as_ref(),
            &form.username,
            &form.password,
        )
        .await
    }
    .await;
    match result {
        Ok(done) => {
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().append(header::SET_COOKIE, done.cookie);
            res
        }
        Err(e) => render(
            e.status,
            &LoginPage {
                user: None,
                csrf_token: auth::token_for(&state, &ctx, None),
                next,
                username: form.username.chars().take(64).collect(),
                error: e.message,
                notice: String::new(),
            },
        ),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    user: Option<String>,
    csrf_token: String,
    username: String,
    error: String,
    min_password: usize,
}

pub async fn register_page(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
) -> Response {
    render(
        StatusCode::OK,
        &RegisterPage {
            user: s.as_ref().map(|s| s.user.username.clone()),
            csrf_token: auth::token_for(&state, &ctx, s.as_ref()),
            username: String::new(),
            error: String::new(),
            min_password: state.config.min_password_length,
        },
    )
}

pub async fn register_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
    form: Result<Form<CredentialsForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("Malformed form.").into_response();
    };
    let result = async {
        auth::limit_ip(&state, &ctx, "/register").await?;
        auth::register(&state, &ctx, &form.username, &form.password).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/login?registered=1").into_response(),
        Err(e) => render(
            e.status,
            &RegisterPage {
                user: s.as_ref().map(|s| s.user.username.clone()),
                csrf_token: auth::token_for(&state, &ctx, s.as_ref()),
                username: form.username.chars().take(64).collect(),
                error: e.message,
                min_password: state.config.min_password_length,
            },
        ),
    }
}

pub async fn logout_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
) -> Response {
    if let Some(s) = s
        && let Err(e) = auth::logout(&state, &ctx, &s).await
    {
        return e.into_response();
    }
    auth::with_logout_headers(&state, Redirect::to("/").into_response())
}

pub struct SessionRow {
    ip: String,
    user_agent: String,
    since: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    user: Option<String>,
    csrf_token: String,
    username: String,
    joined: String,
    about_me: String,
    pronouns: String,
    saved: bool,
    error: String,
    sessions: Vec<SessionRow>,
}

async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    saved: bool,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let Some(user) = users::find_by_id(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let sessions = session::list_for_user(&state.db, user.id, &s.id_hash)
        .await?
        .into_iter()
        .map(|l| SessionRow {
            ip: l.ip,
            user_agent: l.user_agent.chars().take(80).collect(),
            since: iso8601(l.created_at),
            current: l.current,
        })
        .collect();
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    Ok(render(
        status,
        &ProfilePage {
            user: Some(user.username.clone()),
            csrf_token: auth::token_for(state, ctx, Some(s)),
            joined: iso8601(user.created_at)[..10].to_string(),
            username: user.username,
            about_me: user.about_me,
            pronouns: user.pronouns,
            saved,
            error: error.map(|e| e.message).unwrap_or_default(),
            sessions,
        },
    ))
}

#[derive(Deserialize)]
pub struct ProfileQuery {
    saved: Option<String>,
}

pub async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    Query(q): Query<ProfileQuery>,
) -> Result<Response, ApiError> {
    profile_page(&state, &ctx, &s, q.saved.is_some(), None).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    about_me: Option<String>,
    pronouns: Option<String>,
}

pub async fn profile_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    form: Result<Form<ProfileForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(form)) = form else {
        return Err(ApiError::bad_request("Malformed form."));
    };
    let update = ProfileUpdate {
        about_me: form.about_me.as_deref(),
        gender: None,
        pronouns: form.pronouns.as_deref(),
    };
    match update.apply(&state, &ctx, s.user.id).await {
        Ok(()) => Ok(Redirect::to("/profile?saved=1").into_response()),
        Err(e) if e.status.is_client_error() => {
            profile_page(&state, &ctx, &s, false, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    user: Option<String>,
    csrf_token: String,
    heading: String,
    message: String,
}

/// Unknown paths: JSON for `/api/*` and non-browser clients, a page for browsers.
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") || !wants_html(&headers) {
        return ApiError::not_found().into_response();
    }
    render(
        StatusCode::NOT_FOUND,
        &ErrorPage {
            user: None,
            csrf_token: String::new(),
            heading: "Page not found".into(),
            message: "There is nothing at this address.".into(),
        },
    )
}
