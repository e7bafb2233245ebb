//! The signed-in user's profile, as JSON: `GET /api/profile` and `POST /api/profile`.

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::openapi::{JsonIn, MessageBody, SignedIn};
use crate::{
    auth::CurrentUser,
    db::learning,
    domain::ProgressStatus,
    http::{
        ApiError, ApiResult, JsonObject, json, json_response,
        rejection::{FromJson, JsonBody},
    },
    profile::ProfileUpdate,
    state::AppState,
    time::iso8601,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/profile", get(get_profile).post(post_profile))
}

/// Characters of a note the profile JSON shows before "...".
const NOTE_PREVIEW: usize = 100;

#[derive(Serialize, ToSchema)]
struct ProfileUser<'a> {
    username: &'a str,
    avatar: String,
    about_me: &'a str,
    gender: &'a str,
    pronouns: &'a str,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
struct ProfileCourse<'a> {
    uid: &'a str,
    title: &'a str,
    thumbnail: &'a str,
    status: &'a str,
}

#[derive(Serialize, ToSchema)]
struct ProfileNote<'a> {
    r#type: &'static str,
    course_uid: &'a str,
    course_title: &'a str,
    /// The first 100 characters, then "...".
    content: Cow<'a, str>,
}

#[derive(Serialize, ToSchema)]
struct Profile<'a> {
    user: ProfileUser<'a>,
    courses_in_progress: Vec<ProfileCourse<'a>>,
    courses_completed: Vec<ProfileCourse<'a>>,
    notes: Vec<ProfileNote<'a>>,
    /// Always empty (the original's shape).
    reading_list: [Object; 0],
}

/// A free-form JSON object, for documentation.
type Object = serde_json::Map<String, Value>;

/// The first `NOTE_PREVIEW` characters of a note, then "...".
fn preview(content: &str) -> Cow<'_, str> {
    match content.char_indices().nth(NOTE_PREVIEW) {
        Some((end, _)) => Cow::Owned(format!("{}...", &content[..end])),
        None => Cow::Borrowed(content),
    }
}

/// The signed-in user's profile, courses and notes (docs/original.md "Profile"), built
/// from one row (`learning::profile`) without an intermediate `serde_json::Value`.
#[utoipa::path(get, path = "/api/profile", tag = "account",
    security(("session" = [])),
    responses(SignedIn, (status = 200, description = "The profile", body = Profile)))]
pub(crate) async fn get_profile(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Response> {
    let Some(p) = learning::profile(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let (progress, notes) = (p.progress()?, p.notes()?);
    let (mut in_progress, mut completed) = (Vec::new(), Vec::new());
    for r in &progress {
        let entry = ProfileCourse {
            uid: &r.uid,
            title: &r.title,
            thumbnail: &r.thumbnail,
            status: &r.status,
        };
        // Unlike the original, a course set back to "Not Started" is in neither list.
        match ProgressStatus::parse(&r.status).ok() {
            Some(ProgressStatus::Completed) => completed.push(entry),
            Some(ProgressStatus::NotStarted) => {}
            _ => in_progress.push(entry),
        }
    }
    let user = &p.user;
    let body = Profile {
        user: ProfileUser {
            username: &user.username,
            avatar: crate::avatar::url_of(&user.avatar),
            about_me: &user.about_me,
            gender: &user.gender,
            pronouns: &user.pronouns,
            created_at: iso8601(user.created_at),
        },
        courses_in_progress: in_progress,
        courses_completed: completed,
        notes: notes
            .iter()
            .map(|n| ProfileNote {
                r#type: "course",
                course_uid: &n.uid,
                course_title: &n.title,
                content: preview(&n.content),
            })
            .collect(),
        reading_list: [],
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// `{about_me?, gender?, pronouns?}`: strings or null; an absent field is left alone.
#[derive(ToSchema)]
pub(crate) struct ProfileBody {
    /// At most 2000 characters (`profile::MAX_ABOUT_ME`).
    #[schema(max_length = 2000)]
    about_me: Option<String>,
    /// At most 32 characters, no control characters.
    #[schema(max_length = 32)]
    gender: Option<String>,
    #[schema(max_length = 32)]
    pronouns: Option<String>,
}

impl FromJson for ProfileBody {
    fn from_json(body: &JsonObject) -> ApiResult<Self> {
        let field =
            |name| -> ApiResult<Option<String>> { Ok(body.opt_str(name)?.map(str::to_string)) };
        Ok(ProfileBody {
            about_me: field("about_me")?,
            gender: field("gender")?,
            pronouns: field("pronouns")?,
        })
    }
}

/// Changes the fields given.
#[utoipa::path(post, path = "/api/profile", tag = "account", request_body = ProfileBody,
    security(("session" = [], "csrf" = [])),
    responses(SignedIn, JsonIn,
        (status = 200, description = "Updated", body = MessageBody)))]
pub(crate) async fn post_profile(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<ProfileBody>,
) -> ApiResult<Response> {
    let update = ProfileUpdate {
        about_me: body.about_me.as_deref(),
        gender: body.gender.as_deref(),
        pronouns: body.pronouns.as_deref(),
    };
    update.apply(&state, s.user.id).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Profile updated successfully"}),
    ))
}
