//! The `ebooks` table (the last good copy of the Calibre-Web library), `ebook_notes`,
//! `ebook_progress` (keyed by the user and the book's `calibre-<n>` id) and `ebook_covers`.

use super::Db;

/// A book as synchronised from the OPDS feed. `categories` holds one category a line;
/// `formats` the acquisition formats, comma-separated (`epub,pdf`).
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct Ebook {
    /// Calibre's book number `n` (the hub's id is `calibre-<n>`).
    pub id: i64,
    /// The order the feed listed it in (newest first).
    pub position: i64,
    pub title: String,
    /// Joined with ", ".
    pub authors: String,
    /// Plain text (the feed's summary or content with markup removed).
    pub summary: String,
    pub categories: String,
    pub language: String,
    pub published: String,
    pub formats: String,
    /// 1 when the feed offered a cover image.
    pub has_cover: i64,
}

const COLUMNS: &str = "id, position, title, authors, summary, categories, language, published, \
    formats, has_cover";
/// Rows per INSERT statement when the library is replaced (11 parameters each).
const BATCH: usize = 100;

/// Replaces the whole library with `books` in one transaction: readers see the old copy
/// or the new one, never a mix.
pub async fn replace_all(db: &Db, books: &[Ebook], now: i64) -> sqlx::Result<()> {
    let mut tx = db.writer.begin().await?;
    sqlx::query("DELETE FROM ebooks").execute(&mut *tx).await?;
    for chunk in books.chunks(BATCH) {
        let mut sql = format!("INSERT INTO ebooks ({COLUMNS}, synced_at) VALUES ");
        for i in 0..chunk.len() {
            let b = i * 11;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for k in 1..=11 {
                if k > 1 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", b + k));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.id)
                .bind(e.position)
                .bind(&e.title)
                .bind(&e.authors)
                .bind(&e.summary)
                .bind(&e.categories)
                .bind(&e.language)
                .bind(&e.published)
                .bind(&e.formats)
                .bind(e.has_cover)
                .bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Every book, in feed order.
pub async fn list(db: &Db) -> sqlx::Result<Vec<Ebook>> {
    let sql = format!("SELECT {COLUMNS} FROM ebooks ORDER BY position, id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await
}

/// The book with Calibre number `id`.
pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<Ebook>> {
    let sql = format!("SELECT {COLUMNS} FROM ebooks WHERE id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM ebooks")
        .fetch_one(&db.pool)
        .await
}

pub async fn note(db: &Db, user_id: i64, book_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT content FROM ebook_notes WHERE user_id = $1 AND book_id = $2")
        .bind(user_id)
        .bind(book_id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn upsert_note(
    db: &Db,
    user_id: i64,
    book_id: &str,
    content: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ebook_notes (user_id, book_id, content, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, book_id) DO UPDATE SET content = excluded.content, \
           updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(book_id)
    .bind(content)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Records that the user opened the book now: a new row is `in_progress`; an existing one
/// keeps its status and gets the new time.
pub async fn record_read(db: &Db, user_id: i64, book_id: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ebook_progress (user_id, book_id, status, last_read) \
         VALUES ($1, $2, 'in_progress', $3) \
         ON CONFLICT (user_id, book_id) DO UPDATE SET last_read = excluded.last_read",
    )
    .bind(user_id)
    .bind(book_id)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Sets the user's status on the book (`in_progress` or `completed`).
pub async fn set_status(
    db: &Db,
    user_id: i64,
    book_id: &str,
    status: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ebook_progress (user_id, book_id, status, last_read) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, book_id) DO UPDATE SET status = excluded.status, \
           last_read = excluded.last_read",
    )
    .bind(user_id)
    .bind(book_id)
    .bind(status)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The user's status on one book, if any.
pub async fn status(db: &Db, user_id: i64, book_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT status FROM ebook_progress WHERE user_id = $1 AND book_id = $2")
        .bind(user_id)
        .bind(book_id)
        .fetch_optional(&db.pool)
        .await
}

/// A book the user has opened, with its title from the stored copy ('' when the book is
/// no longer in the library), most recently read first.
#[derive(sqlx::FromRow)]
pub struct ProgressRow {
    pub book_id: String,
    pub title: String,
    pub status: String,
    pub has_cover: i64,
}

pub async fn progress_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<ProgressRow>> {
    sqlx::query_as(
        "SELECT p.book_id, COALESCE(e.title, '') AS title, p.status, \
           COALESCE(e.has_cover, 0) AS has_cover \
         FROM ebook_progress p LEFT JOIN ebooks e ON 'calibre-' || CAST(e.id AS TEXT) = p.book_id \
         WHERE p.user_id = $1 ORDER BY p.last_read DESC, p.book_id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

/// A non-empty e-book note of the user's, with the book's title ('' when gone).
#[derive(sqlx::FromRow)]
pub struct NoteRow {
    pub book_id: String,
    pub title: String,
    pub content: String,
}

pub async fn notes_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<NoteRow>> {
    sqlx::query_as(
        "SELECT n.book_id, COALESCE(e.title, '') AS title, n.content \
         FROM ebook_notes n LEFT JOIN ebooks e ON 'calibre-' || CAST(e.id AS TEXT) = n.book_id \
         WHERE n.user_id = $1 AND n.content <> '' ORDER BY n.updated_at DESC, n.book_id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

/// A cached cover.
#[derive(sqlx::FromRow)]
pub struct Cover {
    pub content_type: String,
    pub etag: String,
    pub data: Vec<u8>,
    pub fetched_at: i64,
}

pub async fn cover(db: &Db, book_id: i64) -> sqlx::Result<Option<Cover>> {
    sqlx::query_as(
        "SELECT content_type, etag, data, fetched_at FROM ebook_covers WHERE book_id = $1",
    )
    .bind(book_id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn put_cover(db: &Db, book_id: i64, c: &Cover) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ebook_covers (book_id, content_type, etag, data, fetched_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (book_id) DO UPDATE SET \
           content_type = excluded.content_type, etag = excluded.etag, data = excluded.data, \
           fetched_at = excluded.fetched_at",
    )
    .bind(book_id)
    .bind(&c.content_type)
    .bind(&c.etag)
    .bind(&c.data)
    .bind(c.fetched_at)
    .execute(&db.writer)
    .await?;
    Ok(())
}
