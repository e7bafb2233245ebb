//! Server-rendered pages (askama templates compiled into the binary). Forms carry the CSRF
//! token in a hidden `csrf_token` field and work without any script (the pages' CSP allows
//! none): the catalog's search and subject filters are plain GET parameters
//! (`/?q=…&category=…&category=…`), and every change is a form post answered with a 303.
//!
//! Besides the pages this module has the form posts that have no JSON twin in the same
//! shape: `POST /profile` (profile fields), `POST /profile/avatar` (the avatar upload with
//! its errors shown on the profile page) and `POST /profile/password` (the password change,
//! same rules as `/api/profile/change-password`, answering 303 with the rotated session
//! cookie). It also has small helpers the templates call (`initials`, `tone`,
//! `category_url`) for the course placeholders and subject links.

use askama::Template;
use axum::{
    Form,
    extract::{Multipart, Query, RawQuery, State, multipart::MultipartRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth;
use crate::{
    catalog,
    http::{
        ApiError, Ctx, JsonObject,
        guard::{Authed, MaybeSession},
        html, wants_html,
    },
    session::{self, Session},
    state::AppState,
    users,
};

use super::profile::{MAX_ABOUT_ME, MAX_SHORT_FIELD, ProfileUpdate, avatar_url, iso8601};

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

/// CSS class for a progress status.
fn progress_class(status: &str) -> &'static str {
    match status {
        "Completed" => "completed",
        "In Progress" => "in-progress",
        _ => "not-started",
    }
}

/// "28 Nov 2026" for a unix time.
fn human_date(ts: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = iso8601(ts);
    let (y, m, d) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    let month = m
        .parse::<usize>()
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("");
    format!("{} {month} {y}", d.trim_start_matches('0'))
}

/// "28 Nov 2026, 14:05 UTC" for a unix time.
fn human_time(ts: i64) -> String {
    let iso = iso8601(ts);
    format!("{}, {} UTC", human_date(ts), &iso[11..16])
}

/// "Chrome on Linux" from a User-Agent header, for the session list.
fn describe_agent(ua: &str) -> String {
    let has = |s: &str| ua.contains(s);
    let browser = if ua.trim().is_empty() {
        return "Unknown device".to_string();
    } else if has("Edg/") {
        "Edge"
    } else if has("OPR/") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("HeadlessChrome") {
        "Headless Chrome"
    } else if has("Chromium/") {
        "Chromium"
    } else if has("Chrome/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else if has("curl/") {
        "curl"
    } else {
        "A browser"
    };
    let os = if has("Android") {
        Some("Android")
    } else if has("iPhone") || has("iPad") {
        Some("iOS")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// The catalog (home page).

pub struct CourseCard {
    pub uid: String,
    pub title: String,
    pub meta: String,
    pub instructor: String,
    pub description: String,
    pub department: String,
    pub categories: Vec<String>,
    pub more_categories: usize,
    pub thumbnail: String,
    pub initials: String,
    pub tone: u32,
    pub progress: String,
    pub progress_class: &'static str,
}

/// A subject the visitor can add to the filters.
pub struct Facet {
    pub name: String,
    pub count: usize,
    pub url: String,
}

/// A subject filter in force, with the address that removes it.
pub struct ActiveFilter {
    pub name: String,
    pub remove_url: String,
}

/// How many subjects are shown before "More subjects".
const TOP_FACETS: usize = 12;
/// At most this many subject filters at once.
const MAX_FILTERS: usize = 10;

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    user: Option<String>,
    csrf_token: String,
    query: String,
    courses: Vec<CourseCard>,
    total: usize,
    filtered: bool,
    active: Vec<ActiveFilter>,
    facets: Vec<Facet>,
    more_facets: Vec<Facet>,
    /// The search without the subject filters (`/?q=…`), when both are in force.
    search_only_url: String,
    show_progress: bool,
    in_progress: usize,
    completed: usize,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSession(s): MaybeSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut query = String::new();
    let mut selected: Vec<String> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "q" if query.is_empty() => query = v.chars().take(200).collect(),
            "category" => {
                let v = v.trim();
                if !v.is_empty()
                    && v.chars().count() <= 100
                    && !v.chars().any(char::is_control)
                    && selected.len() < MAX_FILTERS
                    && !selected
                        .iter()
                        .any(|s| s.to_lowercase() == v.to_lowercase())
                {
                    selected.push(v.to_string());
                }
            }
            _ => {}
        }
    }
    let query = query.trim().to_string();
    let needle = query.to_lowercase();
    let wanted: Vec<String> = selected.iter().map(|c| c.to_lowercase()).collect();

    let entries = catalog::list_for_user(&state.db, s.as_ref().map(|s| s.user.id)).await?;
    let total = entries.len();
    let in_progress = entries
        .iter()
        .filter(|e| e.progress == "In Progress")
        .count();
    let completed = entries.iter().filter(|e| e.progress == "Completed").count();

    let results: Vec<(catalog::CatalogEntry, Vec<String>)> = entries
        .into_iter()
        .map(|e| {
            let cats = e.course.category_list();
            (e, cats)
        })
        .filter(|(e, cats)| {
            let text = needle.is_empty()
                || [
                    &e.course.title,
                    &e.course.description,
                    &e.course.categories,
                    &e.course.instructor,
                    &e.course.course_number,
                    &e.course.department,
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle));
            let subjects = wanted
                .iter()
                .all(|w| cats.iter().any(|c| c.to_lowercase() == *w));
            text && subjects
        })
        .collect();

    // Subjects that narrow the current results, most common first.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (_, cats) in &results {
        for c in cats {
            let lower = c.to_lowercase();
            if wanted.contains(&lower) {
                continue;
            }
            match counts.iter_mut().find(|(n, _)| n.to_lowercase() == lower) {
                Some((_, n)) => *n += 1,
                None => counts.push((c.clone(), 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let selected_refs: Vec<&str> = selected.iter().map(String::as_str).collect();
    let mut facets: Vec<Facet> = counts
        .into_iter()
        .map(|(name, count)| {
            let mut with = selected_refs.clone();
            with.push(&name);
            let url = catalog_url(&query, &with);
            Facet { name, count, url }
        })
        .collect();
    let more_facets = if selected.len() >= MAX_FILTERS {
        facets.clear();
        Vec::new()
    } else if facets.len() > TOP_FACETS {
        let mut more = facets.split_off(TOP_FACETS);
        more.sort_by_key(|f| f.name.to_lowercase());
        more
    } else {
        Vec::new()
    };
    let active = selected
        .iter()
        .map(|name| {
            let without: Vec<&str> = selected_refs
                .iter()
                .copied()
                .filter(|c| c != name)
                .collect();
            ActiveFilter {
                name: name.clone(),
                remove_url: catalog_url(&query, &without),
            }
        })
        .collect();

    let courses = results
        .into_iter()
        .map(|(e, cats)| {
            let c = e.course;
            let meta = [
                c.course_number.trim().to_string(),
                format!("{} {}", c.term.trim(), c.year.trim())
                    .trim()
                    .to_string(),
                c.level.trim().to_string(),
            ]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
            let shown: Vec<String> = cats.iter().take(3).cloned().collect();
            CourseCard {
                uid: catalog::encode_path(&c.uid),
                thumbnail: c.thumbnail_url(),
                initials: initials(&c.title),
                tone: tone(if c.department.trim().is_empty() {
                    &c.title
                } else {
                    &c.department
                }),
                more_categories: cats.len() - shown.len(),
                categories: shown,
                meta,
                progress_class: progress_class(&e.progress),
                progress: e.progress,
                title: c.title,
                instructor: c.instructor,
                description: c.description,
                department: c.department,
            }
        })
        .collect();
    let filtered = !query.is_empty() || !selected.is_empty();
    Ok(render(
        StatusCode::OK,
        &IndexPage {
            user: s.as_ref().map(|s| s.user.username.clone()),
            csrf_token: auth::token_for(&state, &ctx, s.as_ref()),
            search_only_url: if !query.is_empty() && !selected.is_empty() {
                catalog_url(&query, &[])
            } else {
                String::new()
            },
            query,
            courses,
            total,
            filtered,
            active,
            facets,
            more_facets,
            show_progress: s.is_some(),
            in_progress,
            completed,
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

// ---------------------------------------------------------------------------------------
// The profile page and its forms.

pub struct SessionRow {
    device: String,
    ip: String,
    since: String,
    last_seen: String,
    current: bool,
}

/// A course on the profile page's learning lists.
pub struct LearningItem {
    url: String,
    title: String,
    thumbnail: String,
    initials: String,
    tone: u32,
    /// The start of the user's note ('' on the progress lists).
    excerpt: String,
}

/// Which form an error message belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FormId {
    None,
    Profile,
    Avatar,
    Password,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    user: Option<String>,
    csrf_token: String,
    username: String,
    joined: String,
    avatar: String,
    has_avatar: bool,
    about_me: String,
    gender: String,
    pronouns: String,
    notice: String,
    error: String,
    error_for: FormId,
    sessions: Vec<SessionRow>,
    in_progress: Vec<LearningItem>,
    completed: Vec<LearningItem>,
    notes: Vec<LearningItem>,
    min_password: usize,
    max_about: usize,
    max_short: usize,
}

/// Characters of a note shown on the profile page.
const NOTE_EXCERPT: usize = 140;

async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    notice: &str,
    error: Option<(ApiError, FormId)>,
) -> Result<Response, ApiError> {
    let Some(user) = users::find_by_id(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let sessions = session::list_for_user(&state.db, user.id, &s.id_hash)
        .await?
        .into_iter()
        .map(|l| SessionRow {
            device: describe_agent(&l.user_agent),
            ip: l.ip,
            since: human_time(l.created_at),
            last_seen: human_time(l.last_seen_at),
            current: l.current,
        })
        .collect();
    let (mut in_progress, mut completed, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for e in catalog::list_for_user(&state.db, Some(user.id)).await? {
        let c = &e.course;
        let item = |excerpt: String| LearningItem {
            url: format!("/course/{}", catalog::encode_path(&c.uid)),
            title: c.title.clone(),
            thumbnail: c.thumbnail_url(),
            initials: initials(&c.title),
            tone: tone(if c.department.trim().is_empty() {
                &c.title
            } else {
                &c.department
            }),
            excerpt,
        };
        match e.progress.as_str() {
            "In Progress" => in_progress.push(item(String::new())),
            "Completed" => completed.push(item(String::new())),
            _ => {}
        }
        let note = e.note.trim();
        if !note.is_empty() {
            let mut excerpt: String = note.chars().take(NOTE_EXCERPT).collect();
            if note.chars().count() > NOTE_EXCERPT {
                excerpt.push('…');
            }
            notes.push(item(excerpt));
        }
    }
    let (status, error, error_for) = match error {
        Some((e, form)) => (e.status, e.message, form),
        None => (StatusCode::OK, String::new(), FormId::None),
    };
    Ok(render(
        status,
        &ProfilePage {
            user: Some(user.username.clone()),
            csrf_token: auth::token_for(state, ctx, Some(s)),
            joined: human_date(user.created_at),
            avatar: avatar_url(&user),
            has_avatar: crate::avatar::is_stored_name(&user.avatar),
            username: user.username,
            about_me: user.about_me,
            gender: user.gender,
            pronouns: user.pronouns,
            notice: notice.to_string(),
            error,
            error_for,
            sessions,
            in_progress,
            completed,
            notes,
            min_password: state.config.min_password_length,
            max_about: MAX_ABOUT_ME,
            max_short: MAX_SHORT_FIELD,
        },
    ))
}

#[derive(Deserialize)]
pub struct ProfileQuery {
    saved: Option<String>,
    avatar: Option<String>,
    password: Option<String>,
}

pub async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    q: Result<Query<ProfileQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let notice = match q {
        Ok(Query(q)) if q.password.is_some() => {
            "Password changed. Any other devices signed in to your account have been signed out."
        }
        Ok(Query(q)) if q.avatar.is_some() => "Your new profile picture is in place.",
        Ok(Query(q)) if q.saved.is_some() => "Your profile has been saved.",
        _ => "",
    };
    profile_page(&state, &ctx, &s, notice, None).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    about_me: Option<String>,
    gender: Option<String>,
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
    // Browsers send a textarea's line breaks as CRLF; store LF.
    let about_me = form.about_me.map(|a| a.replace("\r\n", "\n"));
    let gender = form.gender.map(|g| g.trim().to_string());
    let pronouns = form.pronouns.map(|p| p.trim().to_string());
    let update = ProfileUpdate {
        about_me: about_me.as_deref(),
        gender: gender.as_deref(),
        pronouns: pronouns.as_deref(),
    };
    match update.apply(&state, &ctx, s.user.id).await {
        Ok(()) => Ok(Redirect::to("/profile?saved=1").into_response()),
        Err(e) if e.status.is_client_error() => {
            profile_page(&state, &ctx, &s, "", Some((e, FormId::Profile))).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /profile/avatar`: the profile page's upload form. The upload itself is
/// `routes::avatar::upload` (same checks as `POST /api/profile/avatar`); a refused file is
/// shown on the profile page next to the form instead of as JSON.
pub async fn avatar_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    match super::avatar::upload(
        State(state.clone()),
        ctx.clone(),
        Authed(s.clone()),
        headers,
        mp,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/profile?avatar=1").into_response()),
        Err(e) if e.status.is_client_error() => {
            profile_page(&state, &ctx, &s, "", Some((e, FormId::Avatar))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
    confirm_password: Option<String>,
}

/// `POST /profile/password` (form fields `current_password`, `new_password`,
/// `confirm_password`): `routes::auth::change_password` with its rules and messages; on
/// success a 303 to `/profile?password=changed` carrying the new session cookie (the
/// change ends every session of the account, this one included).
pub async fn password_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(form)) = form else {
        return Err(ApiError::bad_request("Malformed form."));
    };
    let mut body = Map::new();
    for (name, value) in [
        ("current_password", form.current_password),
        ("new_password", form.new_password),
        ("confirm_password", form.confirm_password),
    ] {
        if let Some(v) = value {
            body.insert(name.to_string(), Value::String(v));
        }
    }
    match auth::change_password(
        State(state.clone()),
        ctx.clone(),
        Authed(s.clone()),
        JsonObject(body),
    )
    .await
    {
        Ok(done) => {
            let mut res = Redirect::to("/profile?password=changed").into_response();
            for cookie in done.headers().get_all(header::SET_COOKIE) {
                res.headers_mut().append(header::SET_COOKIE, cookie.clone());
            }
            Ok(res)
        }
        Err(e) if e.status.is_client_error() => {
            profile_page(&state, &ctx, &s, "", Some((e, FormId::Password))).await
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
    fn dates_and_agents() {
        assert_eq!(human_date(0), "1 Jan 1970");
        assert_eq!(human_date(1_795_830_000), "28 Nov 2026");
        assert_eq!(human_time(1_795_830_000), "28 Nov 2026, 01:40 UTC");
        assert_eq!(
            describe_agent(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0 Safari/537.36"
            ),
            "Chrome on Linux"
        );
        assert_eq!(
            describe_agent(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
            ),
            "Safari on iOS"
        );
        assert_eq!(
            describe_agent("Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"),
            "Firefox on Windows"
        );
        assert_eq!(describe_agent("curl/8.5.0"), "curl");
        assert_eq!(describe_agent(""), "Unknown device");
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
