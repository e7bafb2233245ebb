//! Brute-force limits kept in the database, so they hold across restarts and across every
//! instance sharing it:
//! - per client IP: `AUTH_RATE_LIMIT` login + registration attempts per fixed 60 s window
//!   (IPv6 clients are counted per /64);
//! - per account: after 5 failed logins within 15 minutes the account's logins wait
//!   30 s, doubling with each further failure up to one hour; a success resets it. Unknown
//!   usernames are tracked the same way, so the limit reveals nothing about who exists.

use std::net::IpAddr;

use crate::{
    db::{Db, limits},
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

const RATE_LIMITED: &str = "Too many attempts. Please try again in a minute.";

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

/// Counts a login or registration attempt against the caller's IP: 429 with
/// `Retry-After` when over `AUTH_RATE_LIMIT` (logged with the `endpoint`).
pub async fn check_ip(state: &AppState, ctx: &Ctx, endpoint: &str) -> ApiResult<()> {
    let limit = state.config.auth_rate_limit;
    if let Some(retry) = hit_ip(&state.db, ctx.ip, limit, now()).await? {
        crate::metrics::rate_limit_hit("ip");
        tracing::warn!(
            event = "rate_limit_exceeded",

            ip = %ctx.ip,
            endpoint,
            limit,
            period_seconds = 60,
        );
        return Err(ApiError::too_many(RATE_LIMITED, retry));
    }
    Ok(())
}

/// Counts one attempt from `ip`; `Some(retry_after)` when over the limit.
async fn hit_ip(db: &Db, ip: IpAddr, limit: u32, now: i64) -> sqlx::Result<Option<u64>> {
    let (count, start) = limits::hit(db, &ip_key(ip), now, now - WINDOW).await?;
    Ok((count > i64::from(limit)).then(|| (start + WINDOW - now).max(1) as u64))
}

/// Counts a failed login for the account named `username_key`; from the fifth failure
/// within the window on, its logins wait (doubling up to the maximum).
pub async fn record_failure(db: &Db, username_key: &str, now: i64) -> sqlx::Result<()> {
    limits::record_failure(db, username_key, now, now - ACCOUNT_WINDOW, |failures| {
        (failures >= ACCOUNT_FREE_FAILURES).then(|| {
            let doublings = (failures - ACCOUNT_FREE_FAILURES).min(16) as u32;
            now + (ACCOUNT_BASE_DELAY << doublings).min(ACCOUNT_MAX_DELAY)
        })
    })
    .await
}

pub async fn clear_failures(db: &Db, username_key: &str) -> sqlx::Result<()> {
    limits::clear_failures(db, username_key).await
}

/// Drops windows and failure records that can no longer matter; run periodically.
pub async fn purge(db: &Db, now: i64) -> sqlx::Result<()> {
    limits::purge(db, now - WINDOW, now - ACCOUNT_WINDOW, now).await
}
