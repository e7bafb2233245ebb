//! Test databases: a temp SQLite file, or a new PostgreSQL database dropped afterwards.
//!
//! PostgreSQL: `DATABASE_URL_PG` (an admin URL, e.g. `postgres://postgres@127.0.0.1:5432/postgres`)
//! or, when unset, that default. Where no server answers, PostgreSQL variants are skipped —
//! except under CI (`CI` set), where they fail.

use std::{path::PathBuf, time::Duration};

use sqlx::{AnyPool, Row as _};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn pg_admin_url() -> String {
    std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Is PostgreSQL reachable? `None` means skip this variant.
pub async fn postgres_available() -> bool {
    sqlx::any::install_default_drivers();
    let ok = tokio::time::timeout(Duration::from_secs(3), AnyPool::connect(&pg_admin_url()))
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "PostgreSQL is not reachable at {} and CI is set",
            pg_admin_url()
        );
    }
    if !ok {
        eprintln!("PostgreSQL not reachable: skipping the PostgreSQL variant");
    }
    ok
}

/// One test database; dropped with the value.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.path().join("gleh.db").display()),
                pg_name: None,
                _dir: dir,
            },
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let mut raw = [0u8; 8];
                rand::fill(&mut raw[..]);
                let name = format!("gleh_t_{}", hex::encode(raw));
                let admin = AnyPool::connect(&pg_admin_url())
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let base = pg_admin_url();
                let cut = base.rfind('/').expect("database URL has a path");
                TestDb {
                    url: format!("{}/{name}", &base[..cut]),
                    pg_name: Some(name),
                    _dir: dir,
                }
            }
        }
    }

    /// Another handle on this database, for a second server or command: a working folder of
    /// its own, and dropping it drops nothing (this value still owns the database).
    pub fn share(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            pg_name: None,
            _dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// PostgreSQL: the `host:port` of the server, from the URL.
    pub fn pg_address(&self) -> String {
        let rest = self.url.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:5432")
        }
    }

    /// A stand-in holding no database, for moving a `TestDb` out of a value that owns it.
    pub(super) fn placeholder() -> TestDb {
        TestDb {
            url: String::new(),
            pg_name: None,
            _dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    pub async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// Runs `sql` as another process would (a second connection, not the server), then
    /// waits out the bound within which a running server follows such a change to a
    /// session or an account (its session cache, docs/security.md "The session cache").
    pub async fn write_behind_the_server(&self, sql: &'static str) {
        let pool = self.pool().await;
        sqlx::query(sql)
            .execute(&pool)
            .await
            .expect("write behind the server");
        pool.close().await;
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    }

    pub async fn count(&self, table: &str) -> i64 {
        let pool = self.pool().await;
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&pool)
            .await
            .expect("count")
            .get(0);
        pool.close().await;
        n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let pool = AnyPool::connect(&admin).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}
