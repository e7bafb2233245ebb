//! Reading the original GLEH's database (its Flask-SQLAlchemy tables, docs/original.md
//! and the schema `gleh import-gleh` expects: `user`, `course`, `course_progress`,
//! `course_note`, and the e-book tables `ebook_note`, `calibre_reading_progress`; the
//! unused `ebook`, `reading_progress` and `layout_settings` are only counted). Only ever
//! read: SQLite is opened `mode=ro` (and none of this hub's pragmas run on it), PostgreSQL
//! sessions are read-only. Every value is cast in SQL to BIGINT or TEXT, the two types the
//! Any driver decodes the same on both engines (the original's booleans, DATETIMEs and
//! INTEGER ids differ between them).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sqlx::{AnyPool, Executor as _, any::AnyPoolOptions};

/// The original's `user` row.
#[derive(Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// '' when NULL.
    pub password_hash: String,
    pub is_admin: i64,
    pub avatar: String,
    pub about_me: String,
    pub gender: String,
    pub pronouns: String,
    /// The DATETIME as text ('' when NULL).
    pub created_at: String,
}

/// The original's `course` row, every field as text ('' when NULL).
#[derive(Debug, sqlx::FromRow)]
pub struct Course {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub path: String,
    pub description: String,
    pub categories: String,
    pub thumbnail: String,
    pub instructor: String,
    pub course_number: String,
    pub term: String,
    pub year: String,
    pub level: String,
    pub department: String,
    pub license_url: String,
    pub ocw_url: String,
    pub learning_resources: String,
}

/// A `course_progress` row.
#[derive(Debug, sqlx::FromRow)]
pub struct Progress {
    pub id: i64,
    pub user_id: i64,
    pub course_id: i64,
    pub status: String,
}

/// A `course_note` row.
#[derive(Debug, sqlx::FromRow)]
pub struct Note {
    pub id: i64,
    pub user_id: i64,
    pub course_id: i64,
    pub content: String,
}

/// An `ebook_note` row (`ebook_id` is `calibre-<n>` as the original wrote it).
#[derive(Debug, sqlx::FromRow)]
pub struct EbookNote {
    pub id: i64,
    pub user_id: i64,
    pub ebook_id: String,
    pub content: String,
}

/// A `calibre_reading_progress` row.
#[derive(Debug, sqlx::FromRow)]
pub struct CalibreProgress {
    pub id: i64,
    pub user_id: i64,
    pub ebook_id: String,
    pub status: String,
    pub progress_percent: i64,
    pub last_read: String,
}

/// Everything the import reads from the original.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub users: Vec<User>,
    pub courses: Vec<Course>,
    pub progress: Vec<Progress>,
    pub notes: Vec<Note>,
    pub ebook_notes: Vec<EbookNote>,
    pub calibre_progress: Vec<CalibreProgress>,
    /// Rows of the tables the original's routes never used (`ebook`, `reading_progress`)
    /// and of `layout_settings`: counted, not imported.
    pub unused: Vec<(&'static str, i64)>,
}

/// An open connection to the original's database, read-only.
pub struct Source {
    pool: AnyPool,
}

fn text(col: &str) -> String {
    format!("COALESCE(CAST({col} AS TEXT), '') AS {col}")
}

fn int(col: &str) -> String {
    format!("CAST(COALESCE({col}, 0) AS BIGINT) AS {col}")
}

/// The SQLite file a `sqlite:` URL of the original names. SQLAlchemy reads `sqlite:///x`
/// as the relative path `x` and `sqlite:////abs` as `/abs`; sqlx reads `sqlite:///abs` as
/// `/abs`. The path as written is tried first, then its SQLAlchemy reading.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.split('?').next().unwrap_or("");
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    if rest.is_empty() {
        return None;
    }
    let as_written = PathBuf::from(rest);
    if as_written.exists() {
        return Some(as_written);
    }
    let relative = rest.trim_start_matches('/');
    if rest.starts_with("//") {
        return Some(PathBuf::from(format!("/{relative}")));
    }
    if Path::new(relative).exists() {
        return Some(PathBuf::from(relative));
    }
    Some(as_written)
}

impl Source {
    /// Opens the original's `DATABASE_URL` read-only.
    pub async fn open(url: &str) -> anyhow::Result<Source> {
        sqlx::any::install_default_drivers();
        let redacted = crate::config::redact_url(url);
        let (connect, postgres) = if url.starts_with("sqlite:") {
            let path = sqlite_path(url).with_context(|| format!("no file in {redacted}"))?;
            if !path.is_file() {
                bail!("the original's database {} does not exist", path.display());
            }
            (format!("sqlite://{}?mode=ro", path.display()), false)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (url.to_string(), true)
        } else {
            bail!(
                "SOURCE must be sqlite:///path, sqlite://path or postgres(ql)://… (got {redacted})"
            );
        };
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if postgres {
                        conn.execute("SET default_transaction_read_only = on")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&connect)
            .await
            .with_context(|| format!("cannot open the original's database {redacted}"))?;
        Ok(Source { pool })
    }

    async fn exists(&self, table: &str) -> bool {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE 1 = 0");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await
            .is_ok()
    }

    async fn all<T>(&self, sql: String) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
    }

    /// Reads every table the import uses. A database without the original's `user` and
    /// `course` tables (with their columns) is refused before anything is read.
    pub async fn read(&self) -> anyhow::Result<Snapshot> {
        let users_sql = format!(
            "SELECT {}, {}, {}, CAST(CASE WHEN is_admin THEN 1 ELSE 0 END AS BIGINT) AS is_admin, \
             {}, {}, {}, {}, {} FROM \"user\" ORDER BY id",
            int("id"),
            text("username"),
            text("password_hash"),
            text("avatar"),
            text("about_me"),
            text("gender"),
            text("pronouns"),
            text("created_at")
        );
        let course_cols = [
            "uid",
            "title",
            "path",
            "description",
            "categories",
            "thumbnail",
            "instructor",
            "course_number",
            "term",
            "year",
            "level",
            "department",
            "license_url",
            "ocw_url",
            "learning_resources",
        ]
        .map(text)
        .join(", ");
        let courses_sql = format!(
            "SELECT {}, {course_cols} FROM course ORDER BY id",
            int("id")
        );
        let progress_sql = format!(
            "SELECT {}, {}, {}, {} FROM course_progress ORDER BY id",
            int("id"),
            int("user_id"),
            int("course_id"),
            text("status")
        );
        let notes_sql = format!(
            "SELECT {}, {}, {}, {} FROM course_note ORDER BY id",
            int("id"),
            int("user_id"),
            int("course_id"),
            text("content")
        );
        // The schema check: the original's four core tables with the columns read here.
        let users: Vec<User> = match self.all(users_sql).await {
            Ok(u) => u,
            Err(_) => bail!(
                "this is not a database of the original GLEH: it has no `user` table with \
                 the original's columns (see docs/design.md \"Moving from the original\")"
            ),
        };
        let Ok(courses) = self.all::<Course>(courses_sql).await else {
            bail!(
                "this is not a database of the original GLEH: its `course` table is missing or differs"
            );
        };
        let Ok(progress) = self.all::<Progress>(progress_sql).await else {
            bail!(
                "this is not a database of the original GLEH: its `course_progress` table is missing or differs"
            );
        };
        let Ok(notes) = self.all::<Note>(notes_sql).await else {
            bail!(
                "this is not a database of the original GLEH: its `course_note` table is missing or differs"
            );
        };
        let mut snap = Snapshot {
            users,
            courses,
            progress,
            notes,
            ..Snapshot::default()
        };
        // Tables that older versions of the original did not have.
        if self.exists("ebook_note").await {
            snap.ebook_notes = self
                .all(format!(
                    "SELECT {}, {}, {}, {} FROM ebook_note ORDER BY id",
                    int("id"),
                    int("user_id"),
                    text("ebook_id"),
                    text("content")
                ))
                .await
                .context("reading ebook_note")?;
        }
        if self.exists("calibre_reading_progress").await {
            snap.calibre_progress = self
                .all(format!(
                    "SELECT {}, {}, {}, {}, {}, {} FROM calibre_reading_progress ORDER BY id",
                    int("id"),
                    int("user_id"),
                    text("ebook_id"),
                    text("status"),
                    int("progress_percent"),
                    text("last_read")
                ))
                .await
                .context("reading calibre_reading_progress")?;
        }
        for table in ["ebook", "reading_progress", "layout_settings"] {
            if self.exists(table).await {
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"
                )))
                .fetch_one(&self.pool)
                .await?;
                snap.unused.push((table, n));
            }
        }
        Ok(snap)
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}
