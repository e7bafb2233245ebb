//! Server-side sessions. The cookie carries 256 random bits (base64url); the database keeps
//! only their SHA-256, with the user, created/last-seen times, client IP and user agent.
//! Expiry is idle (`PERMANENT_SESSION_LIFETIME`, sliding) or absolute
//! (`SESSION_ABSOLUTE_LIFETIME`), whichever comes first. The last-seen time is written at
//! most once per refresh interval (a tenth of the idle lifetime, 1–60 s), not per request.
//!
//! Hand-written rather than tower-sessions: that crate stores ids in clear, cannot revoke
//! all of a user's sessions and has no absolute lifetime (reference/crates.md §2).

use axum::http::HeaderValue;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use crate::{config::Config, db::Db};

#[derive(Clone, Debug)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id_hash: Vec<u8>,
    pub user: SessionUser,
}

pub enum Loaded {
    Valid(Session),
    /// The row existed but had expired (or its user is disabled); it is now deleted.
    Expired {
        user_id: i64,
    },
    /// No such session (never existed, logged out, or revoked).
    Unknown,
}

pub fn hash_id(id: &[u8]) -> Vec<u8> {
    Sha256::digest(id).to_vec()
}

/// Decodes a cookie value into the raw id; anything but 32 base64url bytes is rejected.
pub fn decode_cookie(value: &str) -> Option<Vec<u8>> {
    if value.len() != 43 {
        return None;
    }
    B64.decode(value).ok().filter(|b| b.len() == 32)
}

/// Seconds between two writes of `last_seen_at` for one session.
pub fn refresh_interval(config: &Config) -> i64 {
    (config.idle_lifetime.as_secs() as i64 / 10).clamp(1, 60)
}

/// Creates a session for `user_id`; returns the cookie value (the only copy of the id).
pub async fn create(
    db: &Db,
    user_id: i64,
    ip: &str,
    user_agent: &str,
    now: i64,
) -> sqlx::Result<(String, Vec<u8>)> {
    let mut id = [0u8; 32];
    rand::fill(&mut id[..]);
    let id_hash = hash_id(&id);
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, ip, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(id_hash.clone())
    .bind(user_id)
    .bind(now)
    .bind(ip)
    .bind(user_agent)
    .execute(&db.pool)
    .await?;
    Ok((B64.encode(id), id_hash))
}

pub async fn load(db: &Db, config: &Config, id: &[u8], now: i64) -> sqlx::Result<Loaded> {
    let id_hash = hash_id(id);
    let row = sqlx::query(
        "SELECT s.user_id, s.created_at, s.last_seen_at, u.username, u.is_admin, u.disabled \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
    )
    .bind(id_hash.clone())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(Loaded::Unknown);
    };
    let user_id: i64 = row.try_get(0)?;
    let created_at: i64 = row.try_get(1)?;
    let last_seen_at: i64 = row.try_get(2)?;
    let disabled: i64 = row.try_get(5)?;
    let idle = config.idle_lifetime.as_secs() as i64;
    let absolute = config.absolute_lifetime.as_secs() as i64;
    if now - last_seen_at >= idle || now - created_at >= absolute || disabled != 0 {
        destroy(db, &id_hash).await?;
        return Ok(Loaded::Expired { user_id });
    }
    if now - last_seen_at >= refresh_interval(config) {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash.clone())
            .execute(&db.pool)
            .await?;
    }
    Ok(Loaded::Valid(Session {
        id_hash,
        user: SessionUser {
            id: user_id,
            username: row.try_get(3)?,
            is_admin: row.try_get::<i64, _>(4)? != 0,
        },
    }))
}

pub async fn destroy(db: &Db, id_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash.to_vec())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends every session of a user. Returns how many ended.
pub async fn destroy_all_for_user(db: &Db, user_id: i64) -> sqlx::Result<u64> {
    let res = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(res.rows_affected())
}

/// Number of session rows (live until the next purge).
pub async fn count_live(db: &Db) -> sqlx::Result<i64> {
    use sqlx::Row as _;
    sqlx::query("SELECT COUNT(*) FROM sessions")
        .fetch_one(&db.pool)
        .await?
        .try_get(0)
}

/// Deletes expired rows; run periodically.
pub async fn purge_expired(db: &Db, config: &Config, now: i64) -> sqlx::Result<u64> {
    let idle = config.idle_lifetime.as_secs() as i64;
    let absolute = config.absolute_lifetime.as_secs() as i64;
    let res = sqlx::query("DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2")
        .bind(now - idle)
        .bind(now - absolute)
        .execute(&db.pool)
        .await?;
    Ok(res.rows_affected())
}

pub struct SessionListing {
    /// A public handle: the first 16 hex digits of the stored hash (never the id itself).
    pub handle: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

pub fn handle_of(id_hash: &[u8]) -> String {
    hex::encode(&id_hash[..8])
}

pub async fn list_for_user(
    db: &Db,
    user_id: i64,
    current: &[u8],
) -> sqlx::Result<Vec<SessionListing>> {
    let rows = sqlx::query(
        "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let hash: Vec<u8> = r.try_get(0)?;
            Ok(SessionListing {
                handle: handle_of(&hash),
                current: hash == current,
                created_at: r.try_get(1)?,
                last_seen_at: r.try_get(2)?,
                ip: r.try_get(3)?,
                user_agent: r.try_get(4)?,
            })
        })
        .collect()
}

/// Ends one of the user's own sessions by its public handle; false if none matched.
pub async fn destroy_by_handle(db: &Db, user_id: i64, handle: &str) -> sqlx::Result<bool> {
    let rows = sqlx::query("SELECT id_hash FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    for r in rows {
        let hash: Vec<u8> = r.try_get(0)?;
        if handle_of(&hash) == handle {
            destroy(db, &hash).await?;
            return Ok(true);
        }
    }
    Ok(false)
}

fn cookie_attrs(config: &Config) -> String {
    let mut attrs = String::from("; Path=/");
    if config.cookie_secure {
        attrs.push_str("; Secure");
    }
    if config.cookie_httponly {
        attrs.push_str("; HttpOnly");
    }
    attrs.push_str("; SameSite=");
    attrs.push_str(config.cookie_samesite.as_str());
    attrs
}

/// `session=…; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=…` (the seed's order).
pub fn set_cookie(config: &Config, value: &str) -> HeaderValue {
    let v = format!(
        "{}={}{}; Max-Age={}",
        config.cookie_name,
        value,
        cookie_attrs(config),
        config.absolute_lifetime.as_secs()
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("session=; Max-Age=0"))
}

pub fn clear_cookie(config: &Config) -> HeaderValue {
    let v = format!("{}={}; Max-Age=0", config.cookie_name, cookie_attrs(config));
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("session=; Max-Age=0"))
}

/// The session cookie's value in a request's `Cookie` headers, if any.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}
