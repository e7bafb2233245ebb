//! Database: `db.reachable` (a connection to DATABASE_URL, never creating a SQLite file) and
//! `db.migrated` (no pending migrations).

use std::{path::PathBuf, time::Duration};

use sqlx::Connection as _;

use super::{Report, env_var, short_list};
use crate::{
    config::{Config, redact_url},
    db::Db,
};

/// How long the database gets to answer.
const DB_TIMEOUT: Duration = Duration::from_secs(5);

/// For SQLite, the file path of `url` (`None` for in-memory databases).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(":memory:") {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

const WHAT: &str = "database reachable";

pub(super) async fn check_database(config: &Config, r: &mut Report) {
    if env_var("DATABASE_URL").is_none() {
        return r.fail(
            "db.reachable",
            WHAT,
            "DATABASE_URL is not set (the default sqlite://gleh.db is for development): set it to postgres://… or sqlite://PATH",
        );
    }
    let shown = redact_url(&config.database_url);
    let Some(url) = looking_url(&config.database_url, r) else {
        return;
    };
    let Some(db) = connect(&url, &shown, r).await else {
        return;
    };
    r.pass("db.reachable", WHAT, format!("connected to {shown}"));
    check_migrations(&db, r).await;
    db.close().await;
}

/// The URL to connect with: for SQLite, an existing file opened without creating it
/// (doctor only looks); `None` (reported) when the file does not exist.
fn looking_url(database_url: &str, r: &mut Report) -> Option<String> {
    let mut url = database_url.to_string();
    if !url.starts_with("sqlite:") {
        return Some(url);
    }
    if let Some(path) = sqlite_path(&url)
        && !path.exists()
    {
        r.fail(
            "db.reachable",
            WHAT,
            format!(
                "the SQLite file {} does not exist: run `gleh migrate`",
                path.display()
            ),
        );
        return None;
    }
    if !url.contains("mode=") {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("mode=rw");
    }
    Some(url)
}

/// A pool on `url`; `None` (reported) when the database does not answer.
async fn connect(url: &str, shown: &str, r: &mut Report) -> Option<Db> {
    let late = || format!("{shown} did not answer within {} s", DB_TIMEOUT.as_secs());
    // One plain connection first: a pool retries a refused connection until its timeout and
    // then reports only the timeout, while this gives the server's (or the OS's) reason.
    sqlx::any::install_default_drivers();
    match tokio::time::timeout(DB_TIMEOUT, sqlx::AnyConnection::connect(url)).await {
        Err(_) => {
            r.fail("db.reachable", WHAT, late());
            return None;
        }
        Ok(Err(e)) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("cannot connect to {shown}: {e}"),
            );
            return None;
        }
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
    }
    match tokio::time::timeout(DB_TIMEOUT, Db::connect(url)).await {
        Err(_) => r.fail("db.reachable", WHAT, late()),
        Ok(Err(e)) => r.fail("db.reachable", WHAT, format!("{e:#}")),
        Ok(Ok(db)) => return Some(db),
    }
    None
}

/// `db.migrated`: no migration is pending.
async fn check_migrations(db: &Db, r: &mut Report) {
    const MIGRATED: &str = "database migrations";
    match tokio::time::timeout(DB_TIMEOUT, db.pending()).await {
        Err(_) => r.fail(
            "db.migrated",
            MIGRATED,
            format!(
                "the migration table did not answer within {} s",
                DB_TIMEOUT.as_secs()
            ),
        ),
        Ok(Err(e)) => r.fail(
            "db.migrated",
            MIGRATED,
            format!("cannot read the migration table: {e:#}"),
        ),
        Ok(Ok(pending)) if pending.is_empty() => {
            r.pass("db.migrated", MIGRATED, "every migration is applied")
        }
        Ok(Ok(pending)) => r.fail(
            "db.migrated",
            MIGRATED,
            format!(
                "{} pending: {} — run `gleh migrate`",
                pending.len(),
                short_list(&pending, 10)
            ),
        ),
    }
}
