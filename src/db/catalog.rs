//! The `courses` table (the catalog), and the catalog joined with one user's progress and
//! notes for the home page and `/api/content`.

use serde::Deserialize;

use super::Db;

/// A course as stored (every field is text; '' when unknown). Also the shape of the bundled
/// sample courses (`assets/sample-courses.json`); `crate::catalog` adds the URL helpers.
#[derive(Clone, Debug, Default, Deserialize, sqlx::FromRow)]
pub struct Course {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub categories: String,
    #[serde(default)]
    pub thumbnail: String,
    pub instructor: String,
    pub course_number: String,
    pub term: String,
    pub year: String,
    pub level: String,
    pub department: String,
    /// The package's launch page relative to `$CONTENT_DIR/courses` (`<Folder>/index.html`);
    /// empty when the course has no package.
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub license_url: String,
    /// OCW's `learning_resource_types`, as JSON text ('' when unknown).
    #[serde(default)]
    pub learning_resources: String,
}

/// A course with the signed-in user's progress and note, for `/api/content` and `/`.
#[derive(sqlx::FromRow)]
pub struct CatalogEntry {
    #[sqlx(flatten)]
    pub course: Course,
    /// The stored status text, `Not Started` when the user has none.
    pub progress: String,
    /// The user's note, '' when none.
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct WithId {
    id: i64,
    #[sqlx(flatten)]
    course: Course,
}

const COLUMNS: &str = "c.uid, c.title, c.description, c.categories, c.thumbnail, c.instructor, \
    c.course_number, c.term, c.year, c.level, c.department, c.path, c.license_url, \
    c.learning_resources";

/// Every course in catalog order, with `user_id`'s progress and note (none for `None`).
pub async fn list_for_user(db: &Db, user_id: Option<i64>) -> sqlx::Result<Vec<CatalogEntry>> {
    let sql = format!(
        "SELECT COALESCE(p.status, 'Not Started') AS progress, COALESCE(n.content, '') AS note, \
           {COLUMNS} \
         FROM courses c \
         LEFT JOIN course_progress p ON p.course_id = c.id AND p.user_id = $1 \
         LEFT JOIN course_notes n ON n.course_id = c.id AND n.user_id = $1 \
         ORDER BY c.id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id.unwrap_or(-1))
        .fetch_all(&db.pool)
        .await
}

/// The course with this uid and its row id.
pub async fn find_by_uid(db: &Db, uid: &str) -> sqlx::Result<Option<(i64, Course)>> {
    let sql = format!("SELECT c.id, {COLUMNS} FROM courses c WHERE c.uid = $1");
    let row: Option<WithId> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(uid)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| (r.id, r.course)))
}

/// The row id of the course with this uid.
pub async fn id_by_uid(db: &Db, uid: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM courses WHERE uid = $1")
        .bind(uid)
        .fetch_optional(&db.pool)
        .await
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM courses")
        .fetch_one(&db.pool)
        .await
}

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the thirteen descriptive fields of a course, title to learning_resources, in that
/// order — the column order both statements below list.
pub(super) fn bind_fields<'q>(q: AnyQuery<'q>, c: &'q Course) -> AnyQuery<'q> {
    q.bind(&c.title)
        .bind(&c.description)
        .bind(&c.categories)
        .bind(&c.thumbnail)
        .bind(&c.instructor)
        .bind(&c.course_number)
        .bind(&c.term)
        .bind(&c.year)
        .bind(&c.level)
        .bind(&c.department)
        .bind(&c.path)
        .bind(&c.license_url)
        .bind(&c.learning_resources)
}

/// Inserts a new course with every field (a course whose uid exists already is left alone).
pub async fn insert(db: &Db, c: &Course, now: i64) -> sqlx::Result<()> {
    let q = sqlx::query(
        "INSERT INTO courses (uid, title, description, categories, thumbnail, instructor, \
           course_number, term, year, level, department, path, license_url, \
           learning_resources, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (uid) DO NOTHING",
    )
    .bind(&c.uid);
    bind_fields(q, c).bind(now).execute(&db.writer).await?;
    Ok(())
}

/// Overwrites every field of the course with row id `id` (the uid stays).
pub async fn update(db: &Db, id: i64, c: &Course) -> sqlx::Result<()> {
    let q = sqlx::query(
        "UPDATE courses SET title = $1, description = $2, categories = $3, thumbnail = $4, \
           instructor = $5, course_number = $6, term = $7, year = $8, level = $9, \
           department = $10, path = $11, license_url = $12, learning_resources = $13 \
         WHERE id = $14",
    );
    bind_fields(q, c).bind(id).execute(&db.writer).await?;
    Ok(())
}

/// A course as the admin's list shows it.
#[derive(sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub created_at: i64,
    #[sqlx(flatten)]
    pub course: Course,
}

/// Every course with its row id and creation time, in catalog order.
pub async fn list_with_ids(db: &Db) -> sqlx::Result<Vec<Listed>> {
    let sql = format!("SELECT c.id, c.created_at, {COLUMNS} FROM courses c ORDER BY c.id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await
}

/// The course with row id `id`.
pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<Course>> {
    let sql = format!("SELECT {COLUMNS} FROM courses c WHERE c.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Deletes the course with row id `id` with every user's progress and notes on it, in one
/// transaction. False when there was no such course.
pub async fn delete(db: &Db, id: i64) -> sqlx::Result<bool> {
    let mut tx = db.writer.begin().await?;
    for sql in [
        "DELETE FROM course_progress WHERE course_id = $1",
        "DELETE FROM course_notes WHERE course_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    let res = sqlx::query("DELETE FROM courses WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(res.rows_affected() == 1)
}

/// Sets the categories of each `(id, categories)`, in one transaction.
pub async fn set_categories(db: &Db, changes: &[(i64, String)]) -> sqlx::Result<()> {
    let mut tx = db.writer.begin().await?;
    for (id, categories) in changes {
        sqlx::query("UPDATE courses SET categories = $1 WHERE id = $2")
            .bind(categories)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
