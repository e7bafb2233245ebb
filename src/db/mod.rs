//! The store: every SQL statement of the hub lives under this folder, one file per table
//! group (`users`, `avatars`, `sessions`, `limits`, `catalog`, `ebooks`, `learning`, `audit`,
//! `settings`; `backup` copies and checks a SQLite file; `import` writes what `gleh import-gleh` planned, `legacy` reads the
//! original's database), as plain `async fn`s
//! taking the `Db` (or a transaction they open themselves), with rows decoded by column
//! name into `FromRow` structs.
//!
//! One `AnyPool` speaks SQLite or PostgreSQL, chosen by the scheme of `DATABASE_URL`; the
//! embedded migrations for each live in `migrations/{sqlite,postgres}` under the same
//! version names (`migrate.rs`). Every query is written once with `$n` placeholders (sqlx
//! maps them for SQLite) and only uses types the Any driver decodes on both backends:
//! BIGINT, TEXT and BLOB/BYTEA. A change of several statements is one function here that
//! owns its transaction.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::{AnyPool, Executor as _, any::AnyPoolOptions};

pub mod audit;
pub mod avatars;
pub mod backup;
pub mod catalog;
pub mod ebooks;
pub mod import;
pub mod learning;
pub mod legacy;
pub mod limits;
mod migrate;
pub mod session_cache;
pub mod sessions;
pub mod settings;
pub mod users;

/// Longest wait for a pooled connection before the request fails with a 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Session rows read recently, exact under revocation (`session_cache.rs`); serves
    /// nothing unless the server's poller runs (`sessions::poll_epoch`).
    pub session_cache: std::sync::Arc<session_cache::SessionCache>,
}

fn backend_of(url: &str) -> Backend {
    if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// `sqlite://gleh.db` is created when missing; an explicit `mode=` is left alone.
fn normalise_url(url: &str) -> String {
    if backend_of(url) == Backend::Sqlite && !url.contains("mode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url);
        let max = std::env::var("DATABASE_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(match backend {
                // SQLite serialises writers anyway; a few readers run in parallel under WAL.
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            });
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(1)
            // A database that is down answers 503 within this (plus the query): under the
            // 5 s that docs/design.md "Failures" promises.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect(&normalise_url(url))
            .await
            .with_context(|| {
                format!(
                    "cannot connect to the database {}",
                    crate::config::redact_url(url)
                )
            })?;
        Ok(Db {
            pool,
            backend,
            session_cache: Default::default(),
        })
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}
