//! `Username`: 3–64 characters of `[A-Za-z0-9_-]` (docs/design.md "Passwords and
//! accounts"). Names are unique regardless of case: `Admin` and `admin` are one account,
//! found by `key()`.

pub const MIN_USERNAME: usize = 3;
pub const MAX_USERNAME: usize = 64;

/// A name that may be registered; only `parse` makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// The name, if it may be registered; else the reason, shown to the user.
    pub fn parse(username: &str) -> Result<Username, &'static str> {
        match violation(username) {
            Some(why) => Err(why),
            None => Ok(Username(username.to_string())),
        }
    }

    /// The lower-cased form used for uniqueness and lookup.
    pub fn key(&self) -> String {
        key_of(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The lookup key of any name typed at a login (which need not be a valid `Username`).
pub fn key_of(username: &str) -> String {
    username.to_ascii_lowercase()
}

fn violation(username: &str) -> Option<&'static str> {
    if username.is_empty() {
        Some("Username is required.")
    } else if username.chars().count() < MIN_USERNAME {
        Some("Username must be at least 3 characters.")
    } else if username.chars().count() > MAX_USERNAME {
        Some("Username must not exceed 64 characters.")
    } else if !username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Some("Username can only contain letters, numbers, underscores, and hyphens.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_names() {
        for ok in ["abc", "Aegis_test-user", "a1_", &"x".repeat(64)] {
            assert_eq!(
                Username::parse(ok).map(|u| u.as_ref().to_string()),
                Ok(ok.to_string())
            );
        }
    }

    #[test]
    fn refused_names_say_why() {
        assert_eq!(Username::parse(""), Err("Username is required."));
        assert_eq!(
            Username::parse("ab"),
            Err("Username must be at least 3 characters.")
        );
        assert_eq!(
            Username::parse(&"x".repeat(65)),
            Err("Username must not exceed 64 characters.")
        );
        for bad in ["with space", "dot.name", "émile", "semi;colon", "a\0b"] {
            assert_eq!(
                Username::parse(bad),
                Err("Username can only contain letters, numbers, underscores, and hyphens."),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keys_ignore_case() {
        let u = Username::parse("Admin").unwrap();
        assert_eq!(u.key(), "admin");
        assert_eq!(key_of("ADMIN"), u.key());
    }
}
