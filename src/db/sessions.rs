//! The `sessions` table: rows keyed by the SHA-256 of the id the cookie carries (see
//! `auth/session.rs` for the rules that use them).

use super::Db;

/// A session row joined with the account it belongs to.
#[derive(Clone, sqlx::FromRow)]
pub struct Found {
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub username: String,
    pub is_admin: i64,
    pub disabled: i64,
    /// When this session last proved its password (login or re-authentication).
    pub reauth_at: i64,
    /// 1 when it was opened with a password too weak to keep (until it is changed).
    pub password_change_required: i64,
}

/// One of a user's sessions, for the list they see.
#[derive(sqlx::FromRow)]
pub struct Listed {
    pub id_hash: Vec<u8>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// A session to store: the hash of its id, whose it is, and where it comes from.
pub struct NewSession<'a> {
    pub id_hash: &'a [u8],
    pub user_id: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub now: i64,
    /// Opened with a password too weak to keep: held to the password form.
    pub password_change_required: bool,
}

/// Inserts `s` within a caller's transaction, and notes the login on the account.
pub(super) async fn insert_with(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    s: &NewSession<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, reauth_at, ip, \
         user_agent, password_change_required) VALUES ($1, $2, $3, $3, $3, $4, $5, $6)",
    )
    .bind(s.id_hash.to_vec())
    .bind(s.user_id)
    .bind(s.now)
    .bind(s.ip.to_string())
    .bind(s.user_agent.to_string())
    .bind(i64::from(s.password_change_required))
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
        .bind(s.now)
        .bind(s.user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores `new` and, in the same transaction, deletes the session `old` (a login from a
/// signed-in browser: the old id is worthless from the moment the new one exists).
pub async fn replace(db: &Db, old: Option<&[u8]>, new: &NewSession<'_>) -> sqlx::Result<()> {
    let mut tx = db.writer.begin().await?;
    if let Some(old) = old {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(old.to_vec())
            .execute(&mut *tx)
            .await?;
    }
    insert_with(&mut tx, new).await?;
    let done = tx.commit().await;
    if old.is_some() {
        db.session_cache.invalidate();
    }
    done
}

/// The session `id_hash` names, with its account; from `db.session_cache` when it may be
/// trusted, else from the database (and then cached).
pub async fn find(db: &Db, id_hash: &[u8]) -> sqlx::Result<Option<Found>> {
    if let Some(row) = db.session_cache.get(id_hash) {
        return Ok(Some(row));
    }
    reload(db, id_hash).await
}

/// The session `id_hash` names, from the database (then cached): for a decision the cache
/// may be too old for, such as an expiry (another instance may have written a later
/// `last_seen_at`).
pub async fn reload(db: &Db, id_hash: &[u8]) -> sqlx::Result<Option<Found>> {
    let generation = db.session_cache.generation();
    let row: Option<Found> = sqlx::query_as(
        "SELECT s.user_id, s.created_at, s.last_seen_at, s.reauth_at, \
         s.password_change_required, u.username, u.is_admin, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
    )
    .bind(id_hash.to_vec())
    .fetch_optional(&db.pool)
    .await?;
    if let Some(row) = &row {
        db.session_cache.put(generation, id_hash, row);
    }
    Ok(row)
}

/// Reads the revocation epoch (bumped by triggers on every change that decides who a
/// session is) and hands it to the session cache; a failed read turns the cache off.
pub async fn poll_epoch(db: &Db) {
    let started = db.session_cache.poll_started();
    let epoch: sqlx::Result<i64> = sqlx::query_scalar("SELECT value FROM auth_epoch WHERE id = 1")
        .fetch_one(&db.pool)
        .await;
    db.session_cache.polled(started, epoch.ok());
}

pub async fn touch(db: &Db, id_hash: &[u8], now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash.to_vec())
        .execute(&db.writer)
        .await?;
    db.session_cache.touched(id_hash, now);
    Ok(())
}

/// Records that the session's holder has just entered their password again.
pub async fn set_reauth(db: &Db, id_hash: &[u8], now: i64) -> sqlx::Result<()> {
    let done = sqlx::query("UPDATE sessions SET reauth_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash.to_vec())
        .execute(&db.writer)
        .await;
    db.session_cache.invalidate();
    done.map(drop)
}

pub async fn delete(db: &Db, id_hash: &[u8]) -> sqlx::Result<()> {
    let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash.to_vec())
        .execute(&db.writer)
        .await;
    db.session_cache.invalidate();
    done.map(drop)
}

/// Ends every session of a user. Returns how many ended.
pub async fn delete_for_user(db: &Db, user_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&db.writer)
        .await;
    db.session_cache.invalidate();
    Ok(done?.rows_affected())
}

/// Number of session rows (live until the next purge).
pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&db.pool)
        .await
}

/// Deletes the rows last seen at or before `idle_cutoff` or created at or before
/// `absolute_cutoff`. Returns how many went.
pub async fn purge(db: &Db, idle_cutoff: i64, absolute_cutoff: i64) -> sqlx::Result<u64> {
    let res = sqlx::query("DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2")
        .bind(idle_cutoff)
        .bind(absolute_cutoff)
        .execute(&db.writer)
        .await?;
    if res.rows_affected() > 0 {
        db.session_cache.invalidate();
    }
    Ok(res.rows_affected())
}

/// A user's sessions, newest first.
pub async fn list_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

/// The stored hashes of a user's sessions.
pub async fn hashes_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<Vec<u8>>> {
    sqlx::query_scalar("SELECT id_hash FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&db.pool)
        .await
}

/// A live session of any user, for the admin's list.
#[derive(sqlx::FromRow)]
pub struct ListedAll {
    pub id_hash: Vec<u8>,
    pub user_id: i64,
    pub username: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// Every session last seen after `idle_cutoff` and created after `absolute_cutoff`, most
/// recently seen first.
pub async fn list_all(
    db: &Db,
    idle_cutoff: i64,
    absolute_cutoff: i64,
) -> sqlx::Result<Vec<ListedAll>> {
    sqlx::query_as(
        "SELECT s.id_hash, s.user_id, u.username, s.created_at, s.last_seen_at, s.ip, \
           s.user_agent FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.last_seen_at > $1 AND s.created_at > $2 ORDER BY s.last_seen_at DESC",
    )
    .bind(idle_cutoff)
    .bind(absolute_cutoff)
    .fetch_all(&db.pool)
    .await
}

/// The stored hashes of every session.
pub async fn all_hashes(db: &Db) -> sqlx::Result<Vec<Vec<u8>>> {
    sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(&db.pool)
        .await
}
