//! The `rate_limits` (per-IP fixed windows) and `login_failures` (per-account back-off)
//! tables, shared by every instance (see `auth/rate_limit.rs` for the policy).

use super::Db;

/// Counts one hit on `key` in a window that started after `window_cutoff` (else a new
/// window starts `now`); returns the count and the window's start.
pub async fn hit(db: &Db, key: &str, now: i64, window_cutoff: i64) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           count = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.count + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING count, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(window_cutoff)
    .fetch_one(&db.writer)
    .await
}

/// Counts one failed login for `username_key` (a record last failed at or before
/// `window_cutoff` starts again at 1) and, in the same transaction, locks the name until
/// `lock_for(failures)` when that says so.
pub async fn record_failure(
    db: &Db,
    username_key: &str,
    now: i64,
    window_cutoff: i64,
    lock_for: impl Fn(i64) -> Option<i64>,
) -> sqlx::Result<()> {
    let mut tx = db.writer.begin().await?;
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO login_failures (username_key, failures, last_failure, locked_until) \
         VALUES ($1, 1, $2, 0) \
         ON CONFLICT (username_key) DO UPDATE SET \
           failures = CASE WHEN login_failures.last_failure <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
           last_failure = $2 \
         RETURNING failures",
    )
    .bind(username_key)
    .bind(now)
    .bind(window_cutoff)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(until) = lock_for(failures) {
        sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE username_key = $2")
            .bind(until)
            .bind(username_key)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

pub async fn clear_failures(db: &Db, username_key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username_key = $1")
        .bind(username_key)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Drops windows that started at or before `window_cutoff`, and failure records last
/// failed at or before `failure_cutoff` that no longer lock anything at `now`.
pub async fn purge(db: &Db, window_cutoff: i64, failure_cutoff: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_limits WHERE window_start <= $1")
        .bind(window_cutoff)
        .execute(&db.writer)
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE last_failure <= $1 AND locked_until <= $2")
        .bind(failure_cutoff)
        .bind(now)
        .execute(&db.writer)
        .await?;
    Ok(())
}
