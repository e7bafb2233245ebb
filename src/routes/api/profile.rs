//! The signed-in user's profile, as JSON: `GET /api/profile` and `POST /api/profile`.

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::openapi::{JsonIn, MessageBody, SignedIn};
use crate::{
    auth::CurrentUser,
    db::{Db, learning, users},
    domain::ProgressStatus,
    http::{
        ApiError, ApiResult, JsonObject, json,
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

async fn course_lists(db: &Db, user_id: i64) -> sqlx::Result<(Vec<Value>, Vec<Value>, Vec<Value>)> {
    let (mut in_progress, mut completed) = (Vec::new(), Vec::new());
    for r in learning::progress_for_user(db, user_id).await? {
        let status = ProgressStatus::parse(&r.status).ok();
        let entry =
            json!({"uid": r.uid, "title": r.title, "thumbnail": r.thumbnail, "status": r.status});
        // Unlike the original, a course set back to "Not Started" is in neither list.
        match status {
            Some(ProgressStatus::Completed) => completed.push(entry),
            Some(ProgressStatus::NotStarted) => {}
            _ => in_progress.push(entry),
        }
    }
    let notes = learning::notes_for_user(db, user_id)
        .await?
        .into_iter()
        .map(|r| {
            let short = if r.content.chars().count() > NOTE_PREVIEW {
                format!("{}...", r.content.chars().take(NOTE_PREVIEW).collect::<String>())
            } else {
                r.content
            };
            json!({"type": "course", "course_uid": r.uid, "course_title": r.title, "content": short})
        })
        .collect();
    Ok((in_progress, completed, notes))
}

#[derive(ToSchema)]
#[allow(dead_code)] // schemas of answers written with `json!`
struct ProfileUser {
    username: String,
    avatar: String,
    about_me: String,
    gender: String,
    pronouns: String,
    created_at: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ProfileCourse {
    uid: String,
    title: String,
    thumbnail: String,
    status: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ProfileNote {
    r#type: String,
    course_uid: String,
    course_title: String,
    /// The first 100 characters, then "...".
    content: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Profile {
    user: ProfileUser,
    courses_in_progress: Vec<ProfileCourse>,
    courses_completed: Vec<ProfileCourse>,
    notes: Vec<ProfileNote>,
    /// Always empty (the original's shape).
    reading_list: Vec<Object>,
}

/// A free-form JSON object, for documentation.
type Object = serde_json::Map<String, Value>;

/// The signed-in user's profile, courses and notes (docs/original.md "Profile").
#[utoipa::path(get, path = "/api/profile", tag = "account",
    security(("session" = [])),
    responses(SignedIn, (status = 200, description = "The profile", body = Profile)))]
pub(crate) async fn get_profile(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Response> {
    let Some(user) = users::find_by_id(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let (in_progress, completed, notes) = course_lists(&state.db, user.id).await?;
    Ok(json(
        StatusCode::OK,
        json!({
            "user": {"username": user.username, "avatar": crate::avatar::url_of(&user.avatar),
                     "about_me": user.about_me, "gender": user.gender, "pronouns": user.pronouns,
                     "created_at": iso8601(user.created_at)},
            "courses_in_progress": in_progress,
            "courses_completed": completed,
            "notes": notes,
            "reading_list": [],
        }),
    ))
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
