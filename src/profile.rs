//! The profile fields a user edits about themselves, as the JSON API and the profile
//! page's form both change them.

use crate::{
    db::users,
    http::{ApiError, ApiResult},
    state::AppState,
};

pub const MAX_ABOUT_ME: usize = 2000;
pub const MAX_SHORT_FIELD: usize = 32;

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
/// Values of another JSON type than string are a 400 (`http::JsonObject::opt_str`).
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

    pub async fn apply(&self, state: &AppState, user_id: i64) -> ApiResult<()> {
        self.validate()?;
        users::update_profile(
            &state.db,
            user_id,
            self.about_me,
            self.gender,
            self.pronouns,
        )
        .await?;
        tracing::info!(event = "profile_updated", user_id);
        Ok(())
    }
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
}
