//! The signed-in user's profile, as JSON (`/api/profile`).

use axum::{extract::State, http::StatusCode, response::Response};
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::{
    db::Db,
    http::{ApiError, ApiResult, Ctx, JsonObject, guard::Authed, json},
    state::AppState,
    users::{self, User},
};

pub const MAX_ABOUT_ME: usize = 2000;
pub const MAX_SHORT_FIELD: usize = 32;

pub fn iso8601(ts: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ts.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

async fn course_lists(db: &Db, user_id: i64) -> sqlx::Result<(Vec<Value>, Vec<Value>, Vec<Value>)> {
    let rows = sqlx::query(
        "SELECT c.uid, c.title, c.thumbnail, p.status FROM course_progress p \
         JOIN courses c ON c.id = p.course_id WHERE p.user_id = $1 \
         ORDER BY p.updated_at DESC, c.id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    let (mut in_progress, mut completed) = (Vec::new(), Vec::new());
    for r in &rows {
        let status: String = r.try_get(3)?;
        let entry = json!({"uid": r.try_get::<String, _>(0)?, "title": r.try_get::<String, _>(1)?,
                           "thumbnail": r.try_get::<String, _>(2)?, "status": status});
        // Unlike the original, a course set back to "Not Started" is in neither list.
        match status.as_str() {
            "Completed" => completed.push(entry),
            "Not Started" => {}
            _ => in_progress.push(entry),
        }
    }
    let notes = sqlx::query(
        "SELECT c.uid, c.title, n.content FROM course_notes n JOIN courses c ON c.id = n.course_id \
         WHERE n.user_id = $1 AND n.content <> '' ORDER BY n.updated_at DESC, c.id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        let content: String = r.try_get(2)?;
        let short = if content.chars().count() > 100 {
            format!("{}...", content.chars().take(100).collect::<String>())
        } else {
            content
        };
        Ok(
            json!({"type": "course", "course_uid": r.try_get::<String, _>(0)?,
                  "course_title": r.try_get::<String, _>(1)?, "content": short}),
        )
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok((in_progress, completed, notes))
}

/// `/avatars/<name>` for an uploaded avatar; the default picture otherwise (also for names
/// this server did not generate, such as the original's `default_avatar.png`).
pub fn avatar_url(user: &User) -> String {
    if crate::avatar::is_stored_name(&user.avatar) {
        format!("/avatars/{}", user.avatar)
    } else {
        crate::routes::avatar::DEFAULT_AVATAR.to_string()
    }
}

pub async fn get_profile(State(state): State<AppState>, Authed(s): Authed) -> ApiResult<Response> {
    let Some(user) = users::find_by_id(&state.db, s.user.id).await? else {
        return Err(ApiError::unauthorized("Authentication required."));
    };
    let (in_progress, completed, notes) = course_lists(&state.db, user.id).await?;
    Ok(json(
        StatusCode::OK,
        json!({
            "user": {"username": user.username, "avatar": avatar_url(&user), "about_me": user.about_me,
                     "gender": user.gender, "pronouns": user.pronouns, "created_at": iso8601(user.created_at)},
            "courses_in_progress": in_progress,
            "courses_completed": completed,
            "notes": notes,
            "reading_list": [],
        }),
    ))
}

/// Validated profile fields; `None` leaves a field unchanged.
///
/// - `about_me`: at most 2000 characters; line breaks and tabs allowed, other control
///   characters not.
/// - `gender`: the UI offers `male`, `female`, `non-binary` or nothing, but any text of at
///   most 32 characters without control characters is accepted, so people can describe
///   themselves (the original stored anything; its column was 32 wide).
/// - `pronouns`: the UI offers `he/him`, `she/her`, `they/them` or a custom value; the same
///   rule as `gender`.
///
/// Values of another JSON type than string are a 400 (`JsonObject::opt_str`).
pub struct ProfileUpdate<'a> {
    pub about_me: Option<&'a str>,
    pub gender: Option<&'a str>,
    pub pronouns: Option<&'a str>,
}

impl ProfileUpdate<'_> {
    pub fn validate(&self) -> ApiResult<()> {
        if self
            .about_me
            .is_some_and(|a| a.chars().count() > MAX_ABOUT_ME)
        {
            return Err(ApiError::bad_request(format!(
                "About me must not exceed {MAX_ABOUT_ME} characters."
            )));
        }
        for (name, v) in [("Gender", self.gender), ("Pronouns", self.pronouns)] {
            if let Some(v) = v {
                if v.chars().count() > MAX_SHORT_FIELD {
                    return Err(ApiError::bad_request(format!(
                        "{name} must not exceed {MAX_SHORT_FIELD} characters."
                    )));
                }
                if v.chars().any(char::is_control) {
                    return Err(ApiError::bad_request(format!(
                        "{name} must not contain control characters."
                    )));
                }
            }
        }
        if self.about_me.is_some_and(|a| {
            a.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        }) {
            return Err(ApiError::bad_request(
                "About me must not contain control characters.",
            ));
        }
        Ok(())
    }

    pub async fn apply(&self, state: &AppState, ctx: &Ctx, user_id: i64) -> ApiResult<()> {
        self.validate()?;
        users::update_profile(
            &state.db,
            user_id,
            self.about_me,
            self.gender,
            self.pronouns,
        )
        .await?;
        tracing::info!(event = "profile_updated", request_id = %ctx.request_id, user_id);
        Ok(())
    }
}

pub async fn post_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed(s): Authed,
    body: JsonObject,
) -> ApiResult<Response> {
    let update = ProfileUpdate {
        about_me: body.opt_str("about_me")?,
        gender: body.opt_str("gender")?,
        pronouns: body.opt_str("pronouns")?,
    };
    update.apply(&state, &ctx, s.user.id).await?;
    Ok(json(
        StatusCode::OK,
        json!({"message": "Profile updated successfully"}),
    ))
}

#[cfg(test)]
mod tests {
    use super::ProfileUpdate;

    fn check(about_me: Option<&str>, gender: Option<&str>, pronouns: Option<&str>) -> bool {
        ProfileUpdate {
            about_me,
            gender,
            pronouns,
        }
        .validate()
        .is_ok()
    }

    #[test]
    fn profile_rules() {
        assert!(check(None, None, None));
        assert!(check(Some(""), Some(""), Some("")));
        assert!(check(
            Some(&"é".repeat(2000)),
            Some("non-binary"),
            Some("they/them")
        ));
        assert!(check(Some("two\r\nlines\tand a tab"), None, None));
        assert!(check(None, Some("genderfluid"), Some("xe/xem")));
        assert!(check(None, Some(&"g".repeat(32)), Some(&"p".repeat(32))));
        assert!(!check(Some(&"a".repeat(2001)), None, None));
        assert!(!check(None, Some(&"g".repeat(33)), None));
        assert!(!check(None, None, Some(&"p".repeat(33))));
        assert!(!check(Some("nul\0"), None, None));
        assert!(!check(None, Some("male\n"), None));
        assert!(!check(None, None, Some("he/\x1bhim")));
    }

    #[test]
    fn iso_dates() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_795_830_000), "2026-11-28T01:40:00Z");
    }
}
