//! Logging: LOG_FORMAT and LOG_DIR (docs/design.md "Logs and metrics").

use std::path::PathBuf;

use super::{LogFormat, env::Vars};

/// The logging part of [`super::Config`]: `log_format` and `log_dir`.
pub(super) struct Logs {
    pub(super) format: LogFormat,
    pub(super) dir: Option<PathBuf>,
}

impl Logs {
    /// JSON in production, pretty otherwise; stderr only unless LOG_DIR is set.
    pub(super) fn from_env(vars: &mut Vars, prod: bool) -> Logs {
        let format = match vars.get("LOG_FORMAT").as_deref() {
            None if prod => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(v) => {
                vars.problem(format!("LOG_FORMAT must be json or pretty (got {v:?})"));
                LogFormat::Pretty
            }
        };
        Logs {
            format,
            dir: vars.get("LOG_DIR").map(PathBuf::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_environment() {
        let mut vars = Vars::from_pairs(&[("LOG_DIR", "/var/log/gleh")]);
        let l = Logs::from_env(&mut vars, true);
        assert_eq!(l.format, LogFormat::Json);
        assert_eq!(l.dir, Some(PathBuf::from("/var/log/gleh")));
        assert_eq!(Logs::from_env(&mut vars, false).format, LogFormat::Pretty);
        let mut vars = Vars::from_pairs(&[("LOG_FORMAT", "Json")]);
        assert_eq!(Logs::from_env(&mut vars, true).format, LogFormat::Pretty);
        assert_eq!(
            vars.problems,
            ["LOG_FORMAT must be json or pretty (got \"Json\")"]
        );
    }
}
