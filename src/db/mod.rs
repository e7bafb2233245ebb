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
pub mod migrate;
pub mod session_cache;
pub mod sessions;
pub mod settings;
pub mod users;

/// Decodes the JSON text a `Db::json_array_sql` statement returned.
pub(crate) fn from_json_text<'a, T: serde::Deserialize<'a>>(text: &'a str) -> sqlx::Result<T> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Longest wait for a pooled connection before the request fails with a 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connections of the hub. On SQLite, `pool` reads and `writer`, one connection, writes:
/// SQLite admits one writer at a time, and writers that share the readers' pool wait for its
/// lock inside the connection (sleeping in SQLite's busy handler), holding a connection the
/// readers queue for; with one writer connection they wait in line in the pool instead and
/// never hold up a read (docs/performance.md "One writer"). On PostgreSQL both are the same
/// pool. Every `db::` function that writes uses `writer`; reader connections are
/// `query_only` in debug builds, so a write sent to the readers fails the tests.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
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

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Any,
    Reader,
    Writer,
}

async fn open_pool(url: &str, backend: Backend, max: u32, role: Role) -> anyhow::Result<AnyPool> {
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        // SQLite's connections are to a local file and cannot go stale; a test on each
        // acquire would cost a round trip to the connection's thread. PostgreSQL's are
        // still tested (a server restarted behind a pooled connection).
        .test_before_acquire(backend == Backend::Postgres)
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
                    if role == Role::Reader && cfg!(debug_assertions) {
                        conn.execute("PRAGMA query_only = ON").await?;
                    }
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
        })
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url);
        let max = std::env::var("DATABASE_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(match backend {
                // Readers: a few run in parallel under WAL (the one writer is apart).
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            });
        match backend {
            Backend::Postgres => {
                let pool = open_pool(url, backend, max, Role::Any).await?;
                Ok(Db {
                    writer: pool.clone(),
                    pool,
                    backend,
                    session_cache: Default::default(),
                })
            }
            Backend::Sqlite => {
                // The writer first: it puts a new file into WAL mode.
                let writer = open_pool(url, backend, 1, Role::Writer).await?;
                let pool = open_pool(url, backend, max, Role::Reader).await?;
                Ok(Db {
                    pool,
                    writer,
                    backend,
                    session_cache: Default::default(),
                })
            }
        }
    }

    /// Closes both pools (SQLite's file is released once this returns).
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// A statement whose one row holds, as JSON text, the array of objects `fields` (JSON
    /// key, SQL expression) over the rows of `from` (`FROM … WHERE …`), in `order`. Used where
    /// a request would otherwise fetch many small rows: with SQLite every row is one hand-off
    /// from the connection's worker thread to the request's task (a futex wake each), which
    /// cost more than the query itself (docs/performance.md "The SQLite hand-off"); one row
    /// is one hand-off. The two engines differ only in the aggregate's spelling.
    pub(crate) fn json_array_sql(
        &self,
        fields: &[(&str, &str)],
        from: &str,
        order: &str,
    ) -> String {
        let pairs = fields
            .iter()
            .map(|(key, expr)| format!("'{key}', {expr}"))
            .collect::<Vec<_>>()
            .join(", ");
        match self.backend {
            Backend::Sqlite => {
                format!("SELECT json_group_array(json_object({pairs}) ORDER BY {order}) {from}")
            }
            Backend::Postgres => format!(
                "SELECT COALESCE(json_agg(json_build_object({pairs}) ORDER BY {order}), \
                 '[]'::json)::text {from}"
            ),
        }
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}
