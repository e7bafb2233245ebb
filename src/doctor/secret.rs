//! Environment and secret key: `env.production` (GLEH_ENV), `secret.strength` and
//! `secret.env-file` (the permissions of `.env`). `secret.git` is in `secret_git.rs`.

use std::{fs, os::unix::fs::PermissionsExt as _};

use super::Report;
use crate::config::{Config, SEED_EXAMPLE_KEY, distinct_chars};

pub(super) fn check_env(config: &Config, r: &mut Report) {
    if config.is_production() {
        r.pass("env.production", "GLEH_ENV", "production");
    } else {
        r.warn(
            "env.production",
            "GLEH_ENV",
            format!(
                "{}: doctor checks a deployment, which runs with GLEH_ENV=production",
                config.env.as_str()
            ),
        );
    }
}

pub(super) fn check_secret(config: &Config, r: &mut Report) {
    const WHAT: &str = "SECRET_KEY strength";
    let Some(key) = &config.secret_key else {
        r.fail(
            "secret.strength",
            WHAT,
            "SECRET_KEY is not set (a random key per start ends every session at restart): generate one with `gleh gen-secret`",
        );
        return;
    };
    let problem = if key.trim() == SEED_EXAMPLE_KEY {
        Some("it is the example value from the deployment checklist".to_string())
    } else if key.len() < 32 {
        Some(format!("{} bytes, at least 32 required", key.len()))
    } else if distinct_chars(key) < 8 {
        Some(format!(
            "only {} distinct characters: not random",
            distinct_chars(key)
        ))
    } else {
        None
    };
    match problem {
        Some(p) => r.fail(
            "secret.strength",
            WHAT,
            format!("{p}: generate a new one with `gleh gen-secret`"),
        ),
        None => r.pass(
            "secret.strength",
            WHAT,
            format!(
                "{} bytes, {} distinct characters, not the checklist's example",
                key.len(),
                distinct_chars(key)
            ),
        ),
    }
}

/// A `.env` in the working directory usually holds SECRET_KEY and the database password.
pub(super) fn check_env_file(r: &mut Report) {
    let Ok(meta) = fs::metadata(".env") else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        r.pass(
            "secret.env-file",
            ".env permissions",
            format!("mode {mode:04o}"),
        );
    } else {
        r.warn(
            "secret.env-file",
            ".env permissions",
            format!("mode {mode:04o}: group or others may read the secrets in it — chmod 600 .env"),
        );
    }
}
