//! Database: `db.reachable` (a connection to DATABASE_URL, never creating a SQLite file) and
//! `db.migrated` (no pending migrations).

use std::{path::PathBuf, time::Duration};

use sqlx::Connection as _;

use super::{Report, env_var, short_list};
use crate::{
    config::{Config, redact_url},
    db::{Backend, Db},
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

pub(super) async fn check_database(config: &Config, r: &mut Report) {
    const WHAT: &str = "database reachable";
    if env_var("DATABASE_URL").is_none() {
        r.fail(
            "db.reachable",
            WHAT,
            "DATABASE_URL is not set (the default sqlite://gleh.db is for development): set it to postgres://… or sqlite://PATH",
        );
        return;
    }
    let shown = redact_url(&config.database_url);
    let mut url = config.database_url.clone();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    if backend == Backend::Sqlite {
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
            return;
        }
        // Never create the file: doctor only looks.
        if !url.contains("mode=") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("mode=rw");
        }
    }
    // One plain connection first: a pool retries a refused connection until its timeout and
    // then reports only the timeout, while this gives the server's (or the OS's) reason.
    sqlx::any::install_default_drivers();
    match tokio::time::timeout(DB_TIMEOUT, sqlx::AnyConnection::connect(&url)).await {
        Err(_) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("{shown} did not answer within {} s", DB_TIMEOUT.as_secs()),
            );
            return;
        }
        Ok(Err(e)) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("cannot connect to {shown}: {e}"),
            );
            return;
        }
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
    }
    let db = match tokio::time::timeout(DB_TIMEOUT, Db::connect(&url)).await {
        Err(_) => {
            r.fail(
                "db.reachable",
                WHAT,
                format!("{shown} did not answer within {} s", DB_TIMEOUT.as_secs()),
            );
            return;
        }
        Ok(Err(e)) => {
            r.fail("db.reachable", WHAT, format!("{e:#}"));
            return;
        }
        Ok(Ok(db)) => db,
    };
    r.pass("db.reachable", WHAT, format!("connected to {shown}"));
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
    db.pool.close().await;
}
