//! The `course_progress` and `course_notes` tables: one user's status and note per course.
//! Every function is keyed by the user id, which callers take from the session.

use super::Db;

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
    .execute(&db.pool)
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
    .execute(&db.pool)
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

/// A course the user has a status on, most recently changed first.
#[derive(sqlx::FromRow)]
pub struct ProgressRow {
    pub uid: String,
    pub title: String,
    pub thumbnail: String,
    pub status: String,
}

pub async fn progress_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<ProgressRow>> {
    sqlx::query_as(
        "SELECT c.uid, c.title, c.thumbnail, p.status FROM course_progress p \
         JOIN courses c ON c.id = p.course_id WHERE p.user_id = $1 \
         ORDER BY p.updated_at DESC, c.id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

/// A non-empty note of the user's, most recently changed first.
#[derive(sqlx::FromRow)]
pub struct NoteRow {
    pub uid: String,
    pub title: String,
    pub content: String,
}

pub async fn notes_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<NoteRow>> {
    sqlx::query_as(
        "SELECT c.uid, c.title, n.content FROM course_notes n JOIN courses c ON c.id = n.course_id \
         WHERE n.user_id = $1 AND n.content <> '' ORDER BY n.updated_at DESC, c.id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

/// The user's status and note on each course they have either for, in no order.
#[derive(sqlx::FromRow)]
pub struct Mark {
    pub uid: String,
    /// `Not Started` when the user has only a note.
    pub progress: String,
    /// '' when the user has only a status.
    pub note: String,
}

pub async fn marks_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<Mark>> {
    sqlx::query_as(
        "SELECT c.uid, COALESCE(p.status, 'Not Started') AS progress, \
                COALESCE(n.content, '') AS note \
         FROM courses c \
         LEFT JOIN course_progress p ON p.course_id = c.id AND p.user_id = $1 \
         LEFT JOIN course_notes n ON n.course_id = c.id AND n.user_id = $1 \
         WHERE p.user_id IS NOT NULL OR n.user_id IS NOT NULL",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}
