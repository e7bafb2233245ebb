//! Where data lives: DATABASE_URL, CONTENT_DIR (course packages), DATA_DIR (uploads) and
//! BACKUP_DIR (where backups are kept, for `gleh doctor` to look at).

use std::path::PathBuf;

use super::{env::Vars, validate};

/// The storage part of [`super::Config`] (the fields of the same names).
pub(super) struct Storage {
    pub(super) database_url: String,
    pub(super) content_dir: PathBuf,
    pub(super) data_dir: PathBuf,
    pub(super) backup_dir: Option<PathBuf>,
}

impl Storage {
    /// Development defaults: `sqlite://gleh.db`, `./content` and `./data`.
    pub(super) fn from_env(vars: &mut Vars, prod: bool) -> Storage {
        let database_url = vars.get("DATABASE_URL");
        vars.report(validate::database_url(database_url.as_deref(), prod));
        Storage {
            database_url: database_url.unwrap_or_else(|| "sqlite://gleh.db".to_string()),
            content_dir: PathBuf::from(vars.text("CONTENT_DIR", "./content")),
            data_dir: PathBuf::from(vars.text("DATA_DIR", "./data")),
            backup_dir: vars.get("BACKUP_DIR").map(PathBuf::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_needs_a_database_url() {
        let mut vars = Vars::from_pairs(&[]);
        let s = Storage::from_env(&mut vars, false);
        assert!(vars.problems.is_empty());
        assert_eq!(s.database_url, "sqlite://gleh.db");
        assert_eq!(s.content_dir, PathBuf::from("./content"));
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        Storage::from_env(&mut vars, true);
        assert_eq!(vars.problems.len(), 1);
    }
}
