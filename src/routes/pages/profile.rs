//! The profile page (profile fields, avatar, password change, signed-in devices and the
//! user's learning lists) and its form posts: `POST /profile`, `POST /profile/avatar` and
//! `POST /profile/password`, whose client errors are shown on the page next to their form.

use askama::Template;
use axum::{
    extract::{Multipart, State, multipart::MultipartRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{NavUser, initials, render, tone};
use crate::{
    auth::{
        CurrentUser,
        account::{self, PasswordChange},
        session::{self, Session},
    },
    catalog,
    db::{catalog as stored, users},
    domain::ProgressStatus,
    http::{
        ApiError, Ctx,
        rejection::{Form, LenientQuery},
    },
    profile::{MAX_ABOUT_ME, MAX_SHORT_FIELD, ProfileUpdate},
    state::AppState,
    time::iso8601,
};

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
    user: Option<NavUser>,
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
    /// Books the user is reading ("Currently Reading") and has finished.
    reading: Vec<LearningItem>,
    finished: Vec<LearningItem>,
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
    for e in stored::list_for_user(&state.db, Some(user.id)).await? {
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
        match ProgressStatus::parse(&e.progress) {
            Ok(ProgressStatus::InProgress) => in_progress.push(item(String::new())),
            Ok(ProgressStatus::Completed) => completed.push(item(String::new())),
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
    let (mut reading, mut finished) = (Vec::new(), Vec::new());
    let book_item = |book_id: &str, title: &str, cover: bool, excerpt: String| {
        let title = if title.is_empty() {
            "A book no longer in the library".to_string()
        } else {
            title.to_string()
        };
        let thumbnail = match crate::ebooks::parse_book_id(book_id) {
            Some(n) if cover => format!("/api/calibre/cover/{n}"),
            _ => String::new(),
        };
        LearningItem {
            url: format!("/textbook/{}", catalog::encode_path(book_id)),
            initials: initials(&title),
            tone: tone(&title),
            title,
            thumbnail,
            excerpt,
        }
    };
    for p in crate::db::ebooks::progress_for_user(&state.db, user.id).await? {
        let item = book_item(&p.book_id, &p.title, p.has_cover != 0, String::new());
        if p.status == "completed" {
            finished.push(item);
        } else {
            reading.push(item);
        }
    }
    for n in crate::db::ebooks::notes_for_user(&state.db, user.id).await? {
        let note = n.content.trim();
        let mut excerpt: String = note.chars().take(NOTE_EXCERPT).collect();
        if note.chars().count() > NOTE_EXCERPT {
            excerpt.push('…');
        }
        notes.push(book_item(&n.book_id, &n.title, false, excerpt));
    }
    let (status, error, error_for) = match error {
        Some((e, form)) => (e.status, e.message, form),
        None => (StatusCode::OK, String::new(), FormId::None),
    };
    Ok(render(
        status,
        &ProfilePage {
            user: Some(NavUser {
                name: user.username.clone(),
                is_admin: user.is_admin,
            }),
            csrf_token: crate::auth::csrf_token(state, ctx, Some(s)),
            joined: human_date(user.created_at),
            avatar: crate::avatar::url_of(&user.avatar),
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
            reading,
            finished,
            min_password: state.config.min_password_length,
            max_about: MAX_ABOUT_ME,
            max_short: MAX_SHORT_FIELD,
        },
    ))
}

#[derive(Default, Deserialize)]
pub struct ProfileQuery {
    saved: Option<String>,
    avatar: Option<String>,
    password: Option<String>,
}

pub async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(s): CurrentUser,
    LenientQuery(q): LenientQuery<ProfileQuery>,
) -> Result<Response, ApiError> {
    let notice = if q.password.is_some() {
        "Password changed. Any other devices signed in to your account have been signed out."
    } else if q.avatar.is_some() {
        "Your new profile picture is in place."
    } else if q.saved.is_some() {
        "Your profile has been saved."
    } else if s.password_change_required {
        "Your password is too short or too common to keep: choose a new one below before \
         using the hub."
    } else {
        ""
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
    CurrentUser(s): CurrentUser,
    Form(form): Form<ProfileForm>,
) -> Result<Response, ApiError> {
    // Browsers send a textarea's line breaks as CRLF; store LF.
    let about_me = form.about_me.map(|a| a.replace("\r\n", "\n"));
    let gender = form.gender.map(|g| g.trim().to_string());
    let pronouns = form.pronouns.map(|p| p.trim().to_string());
    let update = ProfileUpdate {
        about_me: about_me.as_deref(),
        gender: gender.as_deref(),
        pronouns: pronouns.as_deref(),
    };
    match update.apply(&state, s.user.id).await {
        Ok(()) => Ok(Redirect::to("/profile?saved=1").into_response()),
        Err(e) if e.status.is_client_error() => {
            profile_page(&state, &ctx, &s, "", Some((e, FormId::Profile))).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /profile/avatar`: the profile page's upload form, with the same checks as
/// `POST /api/profile/avatar` (`avatar::upload`); a refused file is shown on the profile
/// page next to the form instead of as JSON.
pub async fn avatar_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(s): CurrentUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    match crate::avatar::upload::receive(&state, s.user.id, mp).await {
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
/// `confirm_password`): `auth::account::change_password` with its rules and messages; on
/// success a 303 to `/profile?password=changed` carrying the new session cookie (the
/// change ends every session of the account, this one included).
pub async fn password_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(s): CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    let change = PasswordChange {
        current: form.current_password.unwrap_or_default(),
        new: form.new_password.unwrap_or_default(),
        confirm: form.confirm_password.unwrap_or_default(),
    };
    match account::change_password(&state, &ctx, &s, &change).await {
        Ok(cookie) => {
            let mut res = Redirect::to("/profile?password=changed").into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e) if e.status.is_client_error() => {
            profile_page(&state, &ctx, &s, "", Some((e, FormId::Password))).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
