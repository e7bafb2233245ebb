//! `gleh import-gleh SOURCE`: an operator of the original GLEH moves its users, courses,
//! progress and notes (course and e-book) to this hub (docs/design.md "Moving from the original").
//!
//! Three steps: read the original (`db::legacy`, read-only), plan (`plan`, pure: names,
//! hashes, course fields, statuses, orphans, each decision written to the `Report`), and
//! write the plan in one transaction (`db::import`; rolled back for `--dry-run`). Avatars
//! (`--avatars DIR`) go through the upload pipeline after the commit. Passwords are never
//! recomputed: the original's Werkzeug hashes are verified at each user's first login and
//! replaced by Argon2id then (`auth::password`).
//!
//! E-book notes and Calibre reading progress are planned by `ebooks` and written in the
//! same transaction, into the tables the hub's e-book pages read (`db::ebooks`).

mod ebooks;
mod plan;
mod report;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use report::Report;

use crate::{
    config::Config,
    db::{
        Db, import,
        legacy::{Snapshot, Source},
    },
    time::now,
};

/// What the command line asked for.
pub struct Options {
    pub source: String,
    pub dry_run: bool,
    pub avatars: Option<PathBuf>,
    pub json: bool,
}

/// The CLI command; returns the process exit code.
pub async fn run(config: &Config, opts: &Options) -> anyhow::Result<i32> {
    let started = std::time::Instant::now();
    // The source is read (and refused if it is not the original's) before the hub's
    // database is touched.
    let snapshot = read(&opts.source).await?;
    let db = Db::connect_ready(&config.database_url, !config.is_production()).await?;
    let report = import(config, &db, &snapshot, opts).await?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    tracing::info!(
        event = "import_gleh",
        dry_run = opts.dry_run,
        users_added = report.counts.users.added,
        courses_added = report.counts.courses.added,
        progress_added = report.counts.progress.added,
        notes_added = report.counts.notes.added,
        ebook_notes_added = report.counts.ebook_notes.added,
        ebook_progress_added = report.counts.ebook_progress.added,
        elapsed_ms = started.elapsed().as_millis() as u64,
    );
    Ok(0)
}

/// Everything the import uses of the original's database at `url`.
pub async fn read(url: &str) -> anyhow::Result<Snapshot> {
    let source = Source::open(url).await?;
    let snapshot = source.read().await;
    source.close().await;
    snapshot
}

/// Plans, writes (unless a dry run) and returns the report.
pub async fn import(
    config: &Config,
    db: &Db,
    snapshot: &Snapshot,
    opts: &Options,
) -> anyhow::Result<Report> {
    let (taken, imported) = import::existing(db).await?;
    let mut report = Report::new(opts.dry_run, &config.content_dir);
    let with_avatars = opts.avatars.is_some();
    let batch = plan::plan(snapshot, &taken, &imported, with_avatars, &mut report);
    let served = config.content_dir.join("courses");
    report.without_package = batch
        .courses
        .iter()
        .filter(|c| {
            !c.path.is_empty()
                && !crate::catalog::is_http_url(&c.path)
                && !served.join(&c.path).is_file()
        })
        .map(|c| c.uid.clone())
        .collect();
    let applied = import::apply(db, &batch, now(), !opts.dry_run)
        .await
        .context("writing the import (nothing was written)")?;
    report.counts.users = applied.users;
    report.counts.courses = applied.courses;
    report.counts.progress = applied.progress;
    report.counts.notes = applied.notes;
    report.counts.ebook_notes = applied.ebook_notes;
    report.counts.ebook_progress = applied.ebook_progress;
    if let Some(dir) = &opts.avatars {
        avatars(
            db,
            &snapshot.users,
            &applied,
            dir,
            opts.dry_run,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// The `--avatars DIR` step: each newly created account whose original row names a file
/// gets it through the upload pipeline (decode, limits, re-encode) and into the database
/// (`db::avatars::replace`, the upload's transaction); a missing or refused file leaves the
/// default picture and is reported.
async fn avatars(
    db: &Db,
    users: &[crate::db::legacy::User],
    applied: &import::Applied,
    dir: &Path,
    dry_run: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    for u in users {
        let name = u.avatar.trim();
        if name.is_empty() || name == "default_avatar.png" {
            continue;
        }
        // Only a new account gets its picture (a second run leaves avatars as they are).
        if !applied.created.contains(&u.id) {
            continue;
        }
        let account = applied.accounts.get(&u.id);
        if name.contains(['/', '\\']) || name.starts_with('.') {
            report.avatar(u, "the file name is not a plain name; default avatar kept");
            continue;
        }
        let path = dir.join(name);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(_) => {
                report.avatar(
                    u,
                    &format!("{name} is not in {}; default avatar kept", dir.display()),
                );
                continue;
            }
        };
        match crate::avatar::upload::from_file(name, bytes, dry_run).await? {
            Err(why) => report.avatar(u, &format!("{name}: {why}; default avatar kept")),
            Ok(stored) => {
                if let (Some(id), Some((stored, bytes))) = (account, stored) {
                    crate::db::avatars::replace(db, *id, &stored, &bytes, now()).await?;
                }
                report.avatars_imported += 1;
            }
        }
    }
    Ok(())
}
