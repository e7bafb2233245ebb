//! The `avatars` table: the bytes of every stored avatar under its generated name, and the
//! user's `users.avatar` kept in step with it (docs/design.md "Storage").

use super::Db;

/// Makes `name` (with `bytes`) the avatar of `user_id`, in one transaction: the account's
/// name, its previous pictures' rows deleted, the new row. `false` when the account no
/// longer exists (nothing is written). The account's row is written first, so on SQLite the
/// transaction holds the write lock from its first statement and on PostgreSQL two uploads
/// of one account queue on that row: the later one deletes the earlier one's row.
pub async fn replace(
    db: &Db,
    user_id: i64,
    name: &str,
    bytes: &[u8],
    now: i64,
) -> sqlx::Result<bool> {
    let mut tx = db.pool.begin().await?;
    let updated = sqlx::query("UPDATE users SET avatar = $1 WHERE id = $2")
        .bind(name)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("DELETE FROM avatars WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO avatars (name, user_id, bytes, created_at) VALUES ($1, $2, $3, $4)")
        .bind(name)
        .bind(user_id)
        .bind(bytes)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// The bytes stored under `name`.
pub async fn bytes(db: &Db, name: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT bytes FROM avatars WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await
}

/// Is a picture stored under `name`? (A revalidation needs no bytes.)
pub async fn exists(db: &Db, name: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM avatars WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    Ok(found.is_some())
}

/// The accounts whose `users.avatar` names a picture no row holds, as (user id, name):
/// after an upgrade, the avatars an older binary kept as files (src/avatar/adopt.rs). Every
/// non-empty name is listed; the caller keeps the generated ones.
pub async fn unstored(db: &Db) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT u.id, u.avatar FROM users u WHERE u.avatar <> '' \
         AND NOT EXISTS (SELECT 1 FROM avatars a WHERE a.name = u.avatar) ORDER BY u.id",
    )
    .fetch_all(&db.pool)
    .await
}

/// Stores `bytes` under `name` for `user_id` if the account still names it and no row holds
/// it yet (an upload in between, or another instance moving the same file, wins). Returns
/// whether a row was written.
pub async fn adopt(
    db: &Db,
    user_id: i64,
    name: &str,
    bytes: &[u8],
    now: i64,
) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO avatars (name, user_id, bytes, created_at) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND avatar = $1) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(user_id)
    .bind(bytes)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(written == 1)
}
