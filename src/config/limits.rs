//! Request and account limits: MAX_REQUEST_BODY_SIZE, COURSE_UPLOAD_MAX_BYTES (the admin's
//! course upload, the one body allowed to be larger), MIN_PASSWORD_LENGTH and AUTH_RATE_LIMIT.

use super::{env::Vars, validate};

/// The limits part of [`super::Config`] (the fields of the same names).
pub(super) struct Limits {
    pub(super) max_body_size: usize,
    pub(super) course_upload_max_bytes: u64,
    pub(super) min_password_length: usize,
    pub(super) auth_rate_limit: u32,
}

impl Limits {
    /// 5 MiB bodies, 8-character passwords, 5 login or registration attempts a minute.
    pub(super) fn from_env(vars: &mut Vars, prod: bool) -> Limits {
        let max_body_size = vars.number("MAX_REQUEST_BODY_SIZE", 5_242_880usize);
        let course_upload_max_bytes = vars.number("COURSE_UPLOAD_MAX_BYTES", 2u64 << 30);
        let min_password_length = vars.number("MIN_PASSWORD_LENGTH", 8usize);
        vars.report(validate::min_password_length(min_password_length, prod));
        let auth_rate_limit = vars.number("AUTH_RATE_LIMIT", 5u32);
        vars.report(validate::auth_rate_limit(auth_rate_limit));
        Limits {
            max_body_size,
            course_upload_max_bytes,
            min_password_length,
            auth_rate_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let mut vars = Vars::from_pairs(&[]);
        let l = Limits::from_env(&mut vars, true);
        assert_eq!(
            (l.max_body_size, l.min_password_length, l.auth_rate_limit),
            (5_242_880, 8, 5)
        );
        let mut vars = Vars::from_pairs(&[("MIN_PASSWORD_LENGTH", "4"), ("AUTH_RATE_LIMIT", "0")]);
        Limits::from_env(&mut vars, true);
        assert_eq!(
            vars.problems,
            [
                "MIN_PASSWORD_LENGTH below 8 is not allowed in production",
                "AUTH_RATE_LIMIT must be at least 1",
            ]
        );
    }
}
