//! `gleh backup` on SQLite (docs/deploy.md "Backups"): a consistent copy of the live
//! database with `VACUUM INTO` (a read transaction: under WAL the server keeps writing
//! meanwhile), and the checks of a copy: `PRAGMA integrity_check` and every embedded
//! migration applied.

use std::path::Path;

use anyhow::Context as _;
use sqlx::{AnyPool, any::AnyPoolOptions};

use super::Db;

/// Writes a consistent copy of the SQLite database `db` to `file` (which must not exist;
/// SQLite refuses to write into a non-empty file too).
pub async fn vacuum_into(db: &Db, file: &Path) -> anyhow::Result<()> {
    let target = file
        .to_str()
        .context("the backup file's path is not valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&db.writer)
        .await
        .with_context(|| format!("writing the backup to {}", file.display()))?;
    Ok(())
}

/// What the check of a backup file found.
pub struct Checked {
    /// `PRAGMA integrity_check`'s lines (`["ok"]` for a sound file).
    pub integrity: Vec<String>,
    /// Embedded migrations the copy has applied, and the names of those it lacks.
    pub applied: usize,
    pub missing: Vec<String>,
    /// Accounts in the copy (a number for the operator to recognise).
    pub users: i64,
}

impl Checked {
    pub fn ok(&self) -> bool {
        self.integrity == ["ok"] && self.missing.is_empty()
    }
}

/// Opens the SQLite file `file` read-only (never creating it) and checks it.
pub async fn check_file(file: &Path) -> anyhow::Result<Checked> {
    sqlx::any::install_default_drivers();
    if !file.is_file() {
        anyhow::bail!("{} does not exist or is not a file", file.display());
    }
    let path = file
        .to_str()
        .context("the backup file's path is not valid UTF-8")?;
    let pool: AnyPool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{path}?mode=ro"))
        .await
        .with_context(|| format!("cannot open {} as a SQLite database", file.display()))?;
    let result = check_pool(&pool).await;
    pool.close().await;
    result.with_context(|| format!("checking {}", file.display()))
}

async fn check_pool(pool: &AnyPool) -> anyhow::Result<Checked> {
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await
        .context("PRAGMA integrity_check")?;
    let has_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await?;
    let versions: Vec<i64> = if has_table == 1 {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let (applied, missing) = super::migrate::compare(super::Backend::Sqlite, &versions);
    let users: i64 = if has_table == 1 && missing.is_empty() {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await?
    } else {
        0
    };
    Ok(Checked {
        integrity,
        applied,
        missing,
        users,
    })
}
