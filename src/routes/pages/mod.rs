//! Server-rendered pages (askama templates compiled into the binary). Forms carry the CSRF
//! token in a hidden `csrf_token` field and work without any script (the pages' CSP allows
//! none): the catalog's search and subject filters are plain GET parameters
//! (`/?q=…&category=…&category=…`), and every change is a form post answered with a 303.
//!
//! The pages live in submodules: `catalog` (the home page with its search and subject
//! filters), `account` (login, registration and logout forms), `profile` (the profile
//! page and its form posts: `POST /profile`, `POST /profile/avatar` and
//! `POST /profile/password`), `learning` (the course page's progress and note forms),
//! `textbook` (the e-book page and its forms), `about` (the public About page) and `admin` (the admin panel's tabs).
//! Their form posts call the same operations as the JSON API (`auth::account`,
//! `avatar::upload`, `profile`, `learning`) and show a client error next to its form.
//! This module keeps what they share (`render`, `safe_next`, the not-found page) and the
//! small helpers the templates call as `crate::routes::pages::…` (`initials`, `tone`,
//! `category_url`) for the course placeholders and subject links.

mod about;
mod account;
mod admin;
mod catalog;
mod learning;
mod profile;
mod textbook;

use askama::Template;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use crate::{
    avatar::UPLOAD_BODY_LIMIT,
    http::{ApiError, html, wants_html},
    state::AppState,
};

/// The page routes; the avatar form carries its own, larger body limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(catalog::index))
        .route("/about", get(about::about))
        .route(
            "/login",
            get(account::login_page).post(account::login_submit),
        )
        .route(
            "/register",
            get(account::register_page).post(account::register_submit),
        )
        .route("/logout", post(account::logout_submit))
        .route(
            "/profile",
            get(profile::profile).post(profile::profile_submit),
        )
        .route("/profile/password", post(profile::password_submit))
        .route(
            "/profile/avatar",
            post(profile::avatar_submit).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .merge(learning::router())
        .merge(textbook::router())
        .merge(admin::router())
}

/// The signed-in user as the navigation shows them: their name, and the Admin link for
/// admins only.
#[derive(Clone)]
pub struct NavUser {
    pub name: String,
    pub is_admin: bool,
}

impl NavUser {
    pub fn of(s: &crate::auth::Session) -> NavUser {
        NavUser {
            name: s.user.username.clone(),
            is_admin: s.user.is_admin,
        }
    }
}

impl std::fmt::Display for NavUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

pub(super) fn render(status: StatusCode, t: &impl Template) -> Response {
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

// ---------------------------------------------------------------------------------------
// Helpers the templates call.

/// Small words skipped when taking a title's initials.
const MINOR_WORDS: &[&str] = &[
    "a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to",
    "with", "i", "ii", "iii",
];

/// Up to two capital letters for a course without a thumbnail: the first letters of the
/// title's first two significant words ("Introduction to Algorithms" → "IA").
pub fn initials(title: &str) -> String {
    let words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let significant: Vec<&&str> = words
        .iter()
        .filter(|w| !MINOR_WORDS.contains(&w.to_lowercase().as_str()))
        .collect();
    let pick: Vec<&str> = if significant.is_empty() {
        words.iter().take(2).copied().collect()
    } else {
        significant.iter().take(2).map(|w| **w).collect()
    };
    let out: String = pick
        .iter()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    if out.is_empty() { "?".into() } else { out }
}

/// Number of placeholder colour tones in the stylesheet (`.tone-0` … `.tone-7`).
pub const TONES: u32 = 8;

/// A stable colour tone for a department (or any key): FNV-1a of its lower-cased text.
pub fn tone(key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.trim().to_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % TONES
}

/// The catalog filtered to one subject.
pub fn category_url(name: &str) -> String {
    catalog_url("", &[name])
}

/// `/` with the search and subject filters as query parameters.
fn catalog_url(q: &str, categories: &[&str]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    if !q.trim().is_empty() {
        ser.append_pair("q", q.trim());
    }
    for c in categories {
        ser.append_pair("category", c);
    }
    let qs = ser.finish();
    if qs.is_empty() {
        "/".to_string()
    } else {
        format!("/?{qs}")
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    user: Option<NavUser>,
    csrf_token: String,
    heading: String,
    message: String,
}

/// Unknown paths (the router's fallback).
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    not_found_answer(&headers, &uri)
}

/// The answer for a path with nothing behind it: JSON for `/api/*` and non-browser
/// clients, a page for browsers.
pub fn not_found_answer(headers: &HeaderMap, uri: &axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") || !wants_html(headers) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_initials() {
        assert_eq!(initials("Introduction to Algorithms"), "IA");
        assert_eq!(initials("Physics I: Classical Mechanics"), "PC");
        assert_eq!(initials("the art of the deal"), "AD");
        assert_eq!(initials("Linear"), "L");
        assert_eq!(initials("of the"), "OT");
        assert_eq!(initials("éclair studies"), "ÉS");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("<script>"), "S");
    }

    #[test]
    fn tones_are_stable_and_bounded() {
        assert_eq!(tone("Mathematics"), tone(" mathematics "));
        for d in [
            "",
            "Physics",
            "Chemistry",
            "Electrical Engineering and Computer Science",
        ] {
            assert!(tone(d) < TONES);
        }
    }

    #[test]
    fn catalog_urls() {
        assert_eq!(catalog_url("", &[]), "/");
        assert_eq!(catalog_url("  ", &[]), "/");
        assert_eq!(catalog_url("linear algebra", &[]), "/?q=linear+algebra");
        assert_eq!(
            catalog_url("a&b", &["Computer Science", "C++"]),
            "/?q=a%26b&category=Computer+Science&category=C%2B%2B"
        );
        assert_eq!(category_url("Earth Science"), "/?category=Earth+Science");
    }

    #[test]
    fn next_is_local() {
        assert_eq!(safe_next(Some("/profile")), "/profile");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "profile",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
