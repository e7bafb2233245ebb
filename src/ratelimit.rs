//! Brute-force limits kept in the database, so they hold across restarts and across every
//! instance sharing it:
//! - per client IP: `AUTH_RATE_LIMIT` login + registration attempts per fixed 60 s window
//!   (IPv6 clients are counted per /64);
//! - per account: after 5 failed logins within 15 minutes the account's logins wait
//!   30 s, doubling with each further failure up to one hour; a success resets it. Unknown
//!   usernames are tracked the same way, so the limit reveals nothing about who exists.

use std::net::IpAddr;

use sqlx::Row as _;

use crate::db::Db;

const WINDOW: i64 = 60;
const ACCOUNT_FREE_FAILURES: i64 = 5;
const ACCOUNT_WINDOW: i64 = 15 * 60;
const ACCOUNT_BASE_DELAY: i64 = 30;
const ACCOUNT_MAX_DELAY: i64 = 3600;

fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("auth-ip:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("auth-ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Counts one attempt from `ip`; `Some(retry_after)` when over the limit.
pub async fn hit_ip(db: &Db, ip: IpAddr, limit: u32, now: i64) -> sqlx::Result<Option<u64>> {
    let row = sqlx::query(
        "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           count = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.count + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING count, window_start",
    )
    .bind(ip_key(ip))
    .bind(now)
    .bind(now - WINDOW)
    .fetch_one(&db.pool)
    .await?;
    let count: i64 = row.try_get(0)?;
    let start: i64 = row.try_get(1)?;
    Ok((count > i64::from(limit)).then(|| (start + WINDOW - now).max(1) as u64))
}

pub async fn record_failure(db: &Db, username_key: &str, now: i64) -> sqlx::Result<()> {
    let row = sqlx::query(
        "INSERT INTO login_failures (username_key, failures, last_failure, locked_until) \
         VALUES ($1, 1, $2, 0) \
         ON CONFLICT (username_key) DO UPDATE SET \
           failures = CASE WHEN login_failures.last_failure <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
           last_failure = $2 \
         RETURNING failures",
    )
    .bind(username_key)
    .bind(now)
    .bind(now - ACCOUNT_WINDOW)
    .fetch_one(&db.pool)
    .await?;
    let failures: i64 = row.try_get(0)?;
    if failures >= ACCOUNT_FREE_FAILURES {
        let doublings = (failures - ACCOUNT_FREE_FAILURES).min(16) as u32;
        let delay = (ACCOUNT_BASE_DELAY << doublings).min(ACCOUNT_MAX_DELAY);
        sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE username_key = $2")
            .bind(now + delay)
            .bind(username_key)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

pub async fn clear_failures(db: &Db, username_key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username_key = $1")
        .bind(username_key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Drops windows and failure records that can no longer matter; run periodically.
pub async fn purge(db: &Db, now: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_limits WHERE window_start <= $1")
        .bind(now - WINDOW)
        .execute(&db.pool)
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE last_failure <= $1 AND locked_until <= $2")
        .bind(now - ACCOUNT_WINDOW)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}
