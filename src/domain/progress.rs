//! `ProgressStatus`: a user's status on a course, stored as its text (`Not Started`,
//! `In Progress`, `Completed`, exactly as the original wrote it; docs/original.md
//! "Progress and notes").

/// The three statuses a course can have for a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressStatus {
    NotStarted,
    InProgress,
    Completed,
}

impl ProgressStatus {
    pub const ALL: [ProgressStatus; 3] = [
        ProgressStatus::NotStarted,
        ProgressStatus::InProgress,
        ProgressStatus::Completed,
    ];

    /// The status a request names; the text must match exactly.
    pub fn parse(s: &str) -> Result<ProgressStatus, &'static str> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or("Status must be one of: Not Started, In Progress, Completed.")
    }

    /// The stored text, as the database and the JSON API carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProgressStatus::NotStarted => "Not Started",
            ProgressStatus::InProgress => "In Progress",
            ProgressStatus::Completed => "Completed",
        }
    }
}

impl AsRef<str> for ProgressStatus {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for p in ProgressStatus::ALL {
            assert_eq!(ProgressStatus::parse(p.as_str()), Ok(p));
        }
    }

    #[test]
    fn only_exact_texts_parse() {
        for bad in [
            "",
            "completed",
            "Completed ",
            "Done",
            "In progress",
            "NOT STARTED",
        ] {
            assert!(ProgressStatus::parse(bad).is_err(), "{bad:?}");
        }
    }
}
