//! The account forms: login, registration and logout, each a plain form post answered with
//! a 303 (or the form again with its error message).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{NavUser, render, safe_next};
use crate::{
    auth::{MaybeUser, account, rate_limit, session},
    http::{ApiError, Ctx, rejection::Form},
    state::AppState,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<NavUser>,
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
    MaybeUser(s): MaybeUser,
    Query(q): Query<LoginQuery>,
) -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            user: s.as_ref().map(NavUser::of),
            csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
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
    MaybeUser(previous): MaybeUser,
    Form(form): Form<CredentialsForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let result = async {
        rate_limit::check_ip(&state, &ctx, "/login").await?;
        if form.username.is_empty() || form.password.is_empty() {
            return Err(ApiError::bad_request("Username and password are required."));
        }
        account::login(
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
                csrf_token: crate::auth::csrf_token(&state, &ctx, None),
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
    user: Option<NavUser>,
    csrf_token: String,
    username: String,
    error: String,
    min_password: usize,
}

pub async fn register_page(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
) -> Response {
    render(
        StatusCode::OK,
        &RegisterPage {
            user: s.as_ref().map(NavUser::of),
            csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
            username: String::new(),
            error: String::new(),
            min_password: state.config.min_password_length,
        },
    )
}

pub async fn register_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
    Form(form): Form<CredentialsForm>,
) -> Response {
    let result = async {
        rate_limit::check_ip(&state, &ctx, "/register").await?;
        account::register(&state, &ctx, &form.username, &form.password).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/login?registered=1").into_response(),
        Err(e) => render(
            e.status,
            &RegisterPage {
                user: s.as_ref().map(NavUser::of),
                csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
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
    MaybeUser(s): MaybeUser,
) -> Response {
    if let Some(s) = s
        && let Err(e) = account::logout(&state, &ctx, &s).await
    {
        return e.into_response();
    }
    session::logout_headers(&state.config, Redirect::to("/").into_response())
}
