//! `GET /about`: the About text an admin writes (`/admin/about`), rendered from Markdown
//! with raw HTML shown as text and unsafe link addresses dropped (`crate::markdown`).

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use super::{NavUser, render};
use crate::{
    admin::system,
    auth::MaybeUser,
    http::{ApiError, Ctx},
    markdown::to_safe_html,
    state::AppState,
};

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    user: Option<NavUser>,
    csrf_token: String,
    /// Safe HTML (see `crate::markdown`), "" when no text is written yet.
    html: String,
}

pub async fn about(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
) -> Result<Response, ApiError> {
    let text = system::about(&state).await?;
    Ok(render(
        StatusCode::OK,
        &AboutPage {
            user: s.as_ref().map(NavUser::of),
            csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
            html: if text.trim().is_empty() {
                String::new()
            } else {
                to_safe_html(&text)
            },
        },
    ))
}
