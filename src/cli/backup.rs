//! `gleh backup FILE` and `gleh backup --check FILE` (docs/deploy.md "Backups"): on SQLite
//! a consistent copy of the live database, then checked; on PostgreSQL a refusal that
//! prints the `pg_dump` / `pg_restore` commands to use instead.

use std::path::Path;

use crate::{
    config::Config,
    db::{Backend, Db, backup},
};

/// The commands for a PostgreSQL deployment (the deployment checklist's §6, in pg_dump's
/// custom format so that pg_restore can restore into a fresh database).
pub const PG_COMMANDS: &str = "\
gleh backup works on SQLite only; on PostgreSQL use pg_dump and pg_restore:
  back up:  pg_dump --format=custom --file=/backups/gleh_$(date +%Y%m%d_%H%M%S).dump \"$DATABASE_URL\"
  restore:  createdb gleh_restored
            pg_restore --no-owner --exit-on-error --dbname=postgres://…/gleh_restored FILE.dump
  check:    DATABASE_URL=postgres://…/gleh_restored gleh migrate --check
(see docs/deploy.md \"Backups\")
";

/// Runs the command; returns the exit code.
pub async fn run(config: &Config, file: &Path, check_only: bool) -> anyhow::Result<i32> {
    if !config.database_url.starts_with("sqlite:") {
        eprint!("{PG_COMMANDS}");
        return Ok(1);
    }
    if !check_only {
        if file.exists() {
            eprintln!(
                "error: {} already exists; gleh backup never overwrites a file",
                file.display()
            );
            return Ok(1);
        }
        // Development and test modes migrate first, as every command needing the schema
        // does; production backs up what is there (possibly before `gleh migrate`).
        let db = if config.is_production() {
            Db::connect(&config.database_url).await?
        } else {
            super::open_migrated(config).await?
        };
        debug_assert_eq!(db.backend, Backend::Sqlite);
        let started = std::time::Instant::now();
        backup::vacuum_into(&db, file).await?;
        db.close().await;
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        println!(
            "wrote {} ({size} bytes) in {} ms",
            file.display(),
            started.elapsed().as_millis()
        );
    }
    let c = backup::check_file(file).await?;
    println!("integrity_check: {}", c.integrity.join("; "));
    println!(
        "migrations: {} applied{}",
        c.applied,
        if c.missing.is_empty() {
            String::new()
        } else {
            format!(", missing: {}", c.missing.join(", "))
        }
    );
    if c.ok() {
        println!("users: {}", c.users);
        println!("backup {} is good", file.display());
        Ok(0)
    } else {
        println!("backup {} FAILED its check", file.display());
        Ok(1)
    }
}
