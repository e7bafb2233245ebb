//! `gleh doctor`: the pre-deployment checks of the deployment checklist's §1–§6 that a
//! program can make (docs/deploy.md "4. Check before starting"), in the spirit of Django's
//! `manage.py check --deploy` (the yardsticks are in docs/security.md).
//!
//! Each check prints one line `PASS|WARN|FAIL <id> <what> — <reason>`, then a summary line;
//! the exit status is 1 when any check FAILs. `--json` prints
//! `{"checks": [{"id", "status", "message"}], "summary": {"pass", "warn", "fail"}}` instead
//! (`status` is `pass`, `warn` or `fail`; `message` is the text after the id).
//!
//! Doctor only looks: it never creates the database (a missing SQLite file is a FAIL) or the
//! log directory, and writes nothing but a probe file in `LOG_DIR` (or, when that does not
//! exist yet, in its parent) that it deletes at once — and sqlx's migration table, if a
//! reachable database lacks it, as `gleh migrate --check` does. It never prints the secret key.
//!
//! Choices the checklist leaves open:
//! - certificate lifetime: FAIL when any certificate in `TLS_CERT` expires within 30 days (the
//!   checklist's "> 30 days"); no WARN tier above that, because a 90-day ACME certificate would
//!   otherwise warn for a third of its life;
//! - chain: every certificate must be issued (name and signature) by the next one in the file;
//!   a chain ending at a Mozilla root (webpki-roots) passes, one ending at a self-signed
//!   certificate that is not a Mozilla root (a private CA, or a self-signed leaf) is complete but
//!   WARNs "not publicly trusted", and a last certificate whose issuer is neither in the file nor
//!   a known root FAILs ("intermediate missing");
//! - the secret is looked for in the working-tree content of every git-tracked file and in
//!   every object reachable from any ref (history), since a key once committed is leaked.

mod backups;
mod calibre;
mod database;
mod der;
mod logs;
mod logs_space;
mod report;
mod secret;
mod secret_git;
mod settings;
mod tls;
mod tls_chain;
mod tls_expiry;
mod tls_key;
mod tls_names;

use std::time::{Duration, UNIX_EPOCH};

use crate::config::Config;

use report::{Report, Status};

/// Runs every check, prints them, and returns the exit code (1 on any FAIL).
pub async fn run(config: &Config, json: bool) -> anyhow::Result<i32> {
    let mut r = Report::default();
    secret::check_env(config, &mut r);
    secret::check_secret(config, &mut r);
    secret_git::check_secret_git(config, &mut r);
    secret::check_env_file(&mut r);
    database::check_database(config, &mut r).await;
    tls::check_tls(&mut r);
    settings::check_public_url(&mut r);
    logs::check_logs(config, &mut r);
    backups::check_backups(config.backup_dir.as_deref(), &mut r);
    settings::check_session(config, &mut r);
    settings::check_passwords(config, &mut r);
    settings::check_proxies(config, &mut r);
    calibre::check_calibre(config, &mut r).await;
    r.print(json);
    Ok(if r.count(Status::Fail) > 0 { 1 } else { 0 })
}

/// One check as the admin panel shows it: `status` is `pass`, `warn` or `fail`, and the
/// message never quotes an error's text.
pub struct Line {
    pub id: &'static str,
    pub status: &'static str,
    pub message: String,
}

/// What the admin panel's diagnostics take from doctor (docs/design.md "Admin panel").
pub struct Local {
    pub lines: Vec<Line>,
    /// The soonest end of validity among TLS_CERT's certificates, when TLS_CERT is read.
    pub cert_not_after: Option<i64>,
    /// Free bytes on the file system of LOG_DIR, when LOG_DIR is set and usable.
    pub log_free_bytes: Option<u64>,
}

/// The checklist's minimum free space for logs (docs/checklist.md §4), in bytes.
pub const LOG_MIN_FREE_BYTES: u64 = logs_space::LOG_MIN_FREE_BYTES;

/// The checks that read only the configuration and local files, for a running server's
/// admin panel. They block (files, `df`), so call this where blocking is allowed
/// (`spawn_blocking`). Left out: the database checks (the panel reports its own pool)
/// and `secret.git` (it reads the whole git history of the working directory: for the
/// command line before a deployment, not for a web request). No line holds the secret
/// key (doctor prints only its length) nor an error's text.
pub fn local_checks(config: &Config) -> Local {
    let mut r = Report::default();
    secret::check_env(config, &mut r);
    secret::check_secret(config, &mut r);
    secret::check_env_file(&mut r);
    tls::check_tls(&mut r);
    settings::check_public_url(&mut r);
    logs::check_logs(config, &mut r);
    backups::check_backups(config.backup_dir.as_deref(), &mut r);
    settings::check_session(config, &mut r);
    settings::check_passwords(config, &mut r);
    settings::check_proxies(config, &mut r);
    Local {
        cert_not_after: r.cert_not_after,
        log_free_bytes: r.log_free_bytes,
        lines: r
            .checks
            .into_iter()
            .map(|c| Line {
                id: c.id,
                status: c.status.slug(),
                message: c.plain.unwrap_or(c.message),
            })
            .collect(),
    }
}

/// A non-blank environment variable (the way `Config` reads them).
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn now_unix() -> i64 {
    crate::time::now()
}

fn iso_date(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// "a, b, c and 2 more".
fn short_list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}
