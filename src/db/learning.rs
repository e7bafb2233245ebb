//! The `course_progress` and `course_notes` tables: one user's status and note per course.
//! Every function is keyed by the user id, which callers take from the session.

use std::borrow::Cow;

use sqlx::{FromRow as _, Row as _};

use super::{
    Db, from_json_text,
    users::{COLUMNS, User, UserRow},
};

/// Sets the user's status on the course `uid` in one statement; false when there is no
/// such course.
pub async fn upsert_progress(
    db: &Db,
    user_id: i64,
    uid: &str,
    status: &str,
    now: i64,
) -> sqlx::Result<bool> {
    // (SQLite needs the WHERE of an INSERT … SELECT before its ON CONFLICT; it has one.)
    let done = sqlx::query(
        "INSERT INTO course_progress (user_id, course_id, status, updated_at) \
         SELECT $1, c.id, $3, $4 FROM courses c WHERE c.uid = $2 \
         ON CONFLICT (user_id, course_id) DO UPDATE SET status = excluded.status, \
           updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(uid)
    .bind(status)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Sets the user's note on the course `uid` in one statement; false when there is no
/// such course.
pub async fn upsert_note(
    db: &Db,
    user_id: i64,
    uid: &str,
    content: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO course_notes (user_id, course_id, content, updated_at) \
         SELECT $1, c.id, $3, $4 FROM courses c WHERE c.uid = $2 \
         ON CONFLICT (user_id, course_id) DO UPDATE SET content = excluded.content, \
           updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(uid)
    .bind(content)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The user's stored status on a course, if any.
pub async fn progress(db: &Db, user_id: i64, course_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT status FROM course_progress WHERE user_id = $1 AND course_id = $2")
        .bind(user_id)
        .bind(course_id)
        .fetch_optional(&db.pool)
        .await
}

/// The user's note on a course, if any.
pub async fn note(db: &Db, user_id: i64, course_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT content FROM course_notes WHERE user_id = $1 AND course_id = $2")
        .bind(user_id)
        .bind(course_id)
        .fetch_optional(&db.pool)
        .await
}

/// A course the user has a status on, most recently changed first (borrowed from
/// `Profile`'s text where no escape had to be undone).
#[derive(serde::Deserialize)]
pub struct ProgressRow<'a> {
    #[serde(borrow)]
    pub uid: Cow<'a, str>,
    #[serde(borrow)]
    pub title: Cow<'a, str>,
    #[serde(borrow)]
    pub thumbnail: Cow<'a, str>,
    #[serde(borrow)]
    pub status: Cow<'a, str>,
}

/// A non-empty note of the user's, most recently changed first.
#[derive(serde::Deserialize)]
pub struct NoteRow<'a> {
    #[serde(borrow)]
    pub uid: Cow<'a, str>,
    #[serde(borrow)]
    pub title: Cow<'a, str>,
    #[serde(borrow)]
    pub content: Cow<'a, str>,
}

/// What the profile shows, read in one statement that returns one row
/// (`Db::json_array_sql`): the account, and its statuses and non-empty notes as JSON text.
pub struct Profile {
    pub user: User,
    progress: String,
    notes: String,
}

impl Profile {
    pub fn progress(&self) -> sqlx::Result<Vec<ProgressRow<'_>>> {
        from_json_text(&self.progress)
    }

    pub fn notes(&self) -> sqlx::Result<Vec<NoteRow<'_>>> {
        from_json_text(&self.notes)
    }
}

/// None when there is no such account.
pub async fn profile(db: &Db, user_id: i64) -> sqlx::Result<Option<Profile>> {
    let progress = db.json_array_sql(
        &[
            ("uid", "c.uid"),
            ("title", "c.title"),
            ("thumbnail", "c.thumbnail"),
            ("status", "p.status"),
        ],
        "FROM course_progress p JOIN courses c ON c.id = p.course_id WHERE p.user_id = $1",
        "p.updated_at DESC, c.id",
    );
    let notes = db.json_array_sql(
        &[
            ("uid", "c.uid"),
            ("title", "c.title"),
            ("content", "n.content"),
        ],
        "FROM course_notes n JOIN courses c ON c.id = n.course_id \
         WHERE n.user_id = $1 AND n.content <> ''",
        "n.updated_at DESC, c.id",
    );
    let sql = format!(
        "SELECT {COLUMNS}, ({progress}) AS progress_json, ({notes}) AS notes_json \
         FROM users WHERE id = $1"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Profile {
        user: User::from(UserRow::from_row(&row)?),
        progress: row.try_get("progress_json")?,
        notes: row.try_get("notes_json")?,
    }))
}

/// The user's status and note on each course they have either for, in no order.
#[derive(serde::Deserialize)]
pub struct Mark {
    pub uid: String,
    /// `Not Started` when the user has only a note.
    pub progress: String,
    /// '' when the user has only a status.
    pub note: String,
}

/// One row for all of them (`Db::json_array_sql`).
pub async fn marks_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<Mark>> {
    let sql = db.json_array_sql(
        &[
            ("uid", "c.uid"),
            ("progress", "COALESCE(p.status, 'Not Started')"),
            ("note", "COALESCE(n.content, '')"),
        ],
        "FROM courses c \
         LEFT JOIN course_progress p ON p.course_id = c.id AND p.user_id = $1 \
         LEFT JOIN course_notes n ON n.course_id = c.id AND n.user_id = $1 \
         WHERE p.user_id IS NOT NULL OR n.user_id IS NOT NULL",
        "c.id",
    );
    let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_one(&db.pool)
        .await?;
    from_json_text(&text)
}
