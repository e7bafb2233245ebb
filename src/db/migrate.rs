//! The embedded migrations, one folder per engine with the same version names in both.
//! They are expand/contract (migrations/README.md): a database one migration ahead of this
//! binary still serves it, so an instance of the previous version keeps running (and may
//! restart) beside a newer one during a rolling upgrade; `gleh migrate --check` says so.

use anyhow::Context as _;
use sqlx::migrate::{Migrate as _, Migrator};

use super::{Backend, Db};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Of the embedded migrations for `backend`, how many are among `applied` (versions) and
/// the names of those that are not (for checking a backup copy).
pub(super) fn compare(backend: Backend, applied: &[i64]) -> (usize, Vec<String>) {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    let mut have = 0;
    let mut missing = Vec::new();
    for m in migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
    {
        if applied.contains(&m.version) {
            have += 1;
        } else {
            missing.push(format!("{}_{}", m.version, m.description));
        }
    }
    (have, missing)
}

/// Where the database stands against this binary's migrations.
pub struct Status {
    /// How many migrations the database has applied.
    pub applied: usize,
    /// This binary's migrations (`version_description`) the database has not applied.
    pub pending: Vec<String>,
    /// Versions the database has applied that this binary does not know: a newer binary
    /// migrated it, and this one is behind.
    pub newer: Vec<i64>,
}

/// The same migrations, applied without refusing a database that has more (`Status::newer`).
fn tolerant(m: &'static Migrator) -> Migrator {
    let mut t = Migrator::with_migrations(m.iter().cloned().collect());
    t.set_ignore_missing(true);
    t
}

static SQLITE_TOLERANT: std::sync::LazyLock<Migrator> =
    std::sync::LazyLock::new(|| tolerant(&SQLITE_MIGRATIONS));
static POSTGRES_TOLERANT: std::sync::LazyLock<Migrator> =
    std::sync::LazyLock::new(|| tolerant(&POSTGRES_MIGRATIONS));

impl Db {
    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Connects for a command that needs the schema: with pending migrations, applies them
    /// when `may_migrate` (development and test modes, as `serve` does), else refuses.
    pub async fn connect_ready(url: &str, may_migrate: bool) -> anyhow::Result<Db> {
        let db = Db::connect(url).await?;
        let pending = db.pending().await?;
        if !pending.is_empty() {
            if !may_migrate {
                anyhow::bail!("the database has pending migrations: run `gleh migrate` first");
            }
            db.migrate().await?;
            eprintln!(
                "applied {} pending migration(s) first (not production)",
                pending.len()
            );
        }
        Ok(db)
    }

    /// Applies every pending migration; returns how many were applied.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        let before = self.pending().await?.len();
        let migrator: &Migrator = match self.backend {
            Backend::Sqlite => &SQLITE_TOLERANT,
            Backend::Postgres => &POSTGRES_TOLERANT,
        };
        migrator
            .run(&self.writer)
            .await
            .context("applying migrations")?;
        Ok(before)
    }

    /// Names (`version_description`) of the migrations not yet applied.
    pub async fn pending(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.migration_status().await?.1)
    }

    /// How many migrations the database has applied, and the names of those pending.
    pub async fn migration_status(&self) -> anyhow::Result<(usize, Vec<String>)> {
        let s = self.status().await?;
        Ok((s.applied, s.pending))
    }

    /// Where the database stands against this binary's migrations.
    pub async fn status(&self) -> anyhow::Result<Status> {
        let mut conn = self.writer.acquire().await?;
        let table = &self.migrator().table_name;
        conn.ensure_migrations_table(table)
            .await
            .context("creating the migrations table")?;
        let applied = conn.list_applied_migrations(table).await?;
        let pending = self
            .migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect();
        let newer = applied
            .iter()
            .map(|a| a.version)
            .filter(|v| !self.migrator().version_exists(*v))
            .collect();
        Ok(Status {
            applied: applied.len(),
            pending,
            newer,
        })
    }
}
