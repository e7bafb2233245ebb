//! Database access: one `AnyPool` that speaks SQLite or PostgreSQL, chosen by the scheme of
//! `DATABASE_URL`, and the embedded migrations for each (same version names in both folders).
//!
//! Every query is written once with `$n` placeholders (sqlx maps them for SQLite) and only
//! uses types the Any driver decodes on both backends: BIGINT, TEXT and BLOB/BYTEA.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::{
    AnyPool, Executor as _,
    any::AnyPoolOptions,
    migrate::{Migrate as _, Migrator},
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
            .acquire_timeout(Duration::from_secs(5))
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
        Ok(Db { pool, backend })
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration; returns how many were applied.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        let before = self.pending().await?.len();
        self.migrator()
            .run(&self.pool)
            .await
            .context("applying migrations")?;
        Ok(before)
    }

    /// Names (`version_description`) of the migrations not yet applied.
    pub async fn pending(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        let table = &self.migrator().table_name;
        conn.ensure_migrations_table(table)
            .await
            .context("creating the migrations table")?;
        let applied = conn.list_applied_migrations(table).await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect())
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}
