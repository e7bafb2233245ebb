//! Server-side sessions. The cookie carries 256 random bits (base64url); the database keeps
//! only their SHA-256, with the user, created/last-seen times, client IP and user agent.
//! Expiry is idle (`PERMANENT_SESSION_LIFETIME`, sliding) or absolute
//! (`SESSION_ABSOLUTE_LIFETIME`), whichever comes first. The last-seen time is written at
//! most once per refresh interval (a tenth of the idle lifetime, 1–60 s), not per request.
//!
//! Hand-written rather than tower-sessions: that crate stores ids in clear, cannot revoke
//! all of a user's sessions and has no absolute lifetime (docs/dependencies.md "2. Sessions").
//!
//! `cookie` reads the cookie's value on the way in (kept apart so that `fuzz/` can include it).

mod cookie;

use crate::{
    config::Config,
    db::{
        Db,
        sessions::{self, NewSession},
    },
};
use axum::{
    http::{HeaderValue, header},
    response::Response,
};
use sha2::{Digest, Sha256};

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
    /// When the holder last entered their password (login or re-authentication), unix s.
    pub reauth_at: i64,
    /// Opened with a password too weak to keep: until it is changed, `auth::guard` lets
    /// this session reach only the password change, logout and the session probes.
    pub password_change_required: bool,
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
    cookie::decode(value)
}

/// Seconds between two writes of `last_seen_at` for one session.
pub fn refresh_interval(config: &Config) -> i64 {
    (config.idle_lifetime.as_secs() as i64 / 10).clamp(1, 60)
}

/// A new session id: the cookie value (the only copy of the id) and the hash to store.
pub fn new_id() -> (String, Vec<u8>) {
    let mut id = [0u8; 32];
    rand::fill(&mut id[..]);
    (cookie::encode(&id), hash_id(&id))
}

/// Opens a session for `user_id`, ending `old` (the caller's previous session, if any) in
/// the same transaction; returns the cookie value. `weak`: the password that opened it is
/// too weak to keep (the session is held to the password form).
pub async fn open(
    db: &Db,
    old: Option<&[u8]>,
    user_id: i64,
    (ip, user_agent): (&str, &str),
    now: i64,
    weak: bool,
) -> sqlx::Result<String> {
    let (value, id_hash) = new_id();
    let new = NewSession {
        id_hash: &id_hash,
        user_id,
        ip,
        user_agent,
        now,
        password_change_required: weak,
    };
    sessions::replace(db, old, &new).await?;
    Ok(value)
}

pub async fn load(db: &Db, config: &Config, id: &[u8], now: i64) -> sqlx::Result<Loaded> {
    let id_hash = hash_id(id);
    let Some(mut row) = sessions::find(db, &id_hash).await? else {
        return Ok(Loaded::Unknown);
    };
    let idle = config.idle_lifetime.as_secs() as i64;
    let absolute = config.absolute_lifetime.as_secs() as i64;
    let ended = |row: &sessions::Found| {
        now - row.last_seen_at >= idle || now - row.created_at >= absolute || row.disabled != 0
    };
    if ended(&row) {
        // The row may have come from the session cache, whose `last_seen_at` can be older
        // than one another instance wrote since: the database decides.
        match sessions::reload(db, &id_hash).await? {
            Some(fresh) => row = fresh,
            None => return Ok(Loaded::Unknown),
        }
    }
    if ended(&row) {
        sessions::delete(db, &id_hash).await?;
        return Ok(Loaded::Expired {
            user_id: row.user_id,
        });
    }
    // Best effort: a session that was just read is valid whether or not its last-seen time
    // can be written (a full disk must not turn every read into an error).
    if now - row.last_seen_at >= refresh_interval(config)
        && let Err(e) = sessions::touch(db, &id_hash, now).await
    {
        tracing::warn!(event = "session_touch_failed", error = %e);
    }
    Ok(Loaded::Valid(Session {
        id_hash,
        user: SessionUser {
            id: row.user_id,
            username: row.username,
            is_admin: row.is_admin != 0,
        },
        reauth_at: row.reauth_at,
        password_change_required: row.password_change_required != 0,
    }))
}

pub async fn destroy(db: &Db, id_hash: &[u8]) -> sqlx::Result<()> {
    sessions::delete(db, id_hash).await
}

/// Deletes expired rows; run periodically.
pub async fn purge_expired(db: &Db, config: &Config, now: i64) -> sqlx::Result<u64> {
    let idle = config.idle_lifetime.as_secs() as i64;
    let absolute = config.absolute_lifetime.as_secs() as i64;
    sessions::purge(db, now - idle, now - absolute).await
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
    let rows = sessions::list_for_user(db, user_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionListing {
            handle: handle_of(&r.id_hash),
            current: r.id_hash == current,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
        .collect())
}

/// Ends one of the user's own sessions by its public handle; false if none matched.
pub async fn destroy_by_handle(db: &Db, user_id: i64, handle: &str) -> sqlx::Result<bool> {
    for hash in sessions::hashes_for_user(db, user_id).await? {
        if handle_of(&hash) == handle {
            sessions::delete(db, &hash).await?;
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

/// `session=…; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=…` (the order of docs/checklist.md §11 Test 1).
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

/// Adds to an answer that ends the session the headers that end it in the browser too: the
/// cookie cleared, and `Clear-Site-Data`.
pub fn logout_headers(config: &Config, mut res: Response) -> Response {
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, clear_cookie(config));
    h.insert(
        "clear-site-data",
        HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""),
    );
    res
}

/// The session cookie's value in a request's `Cookie` headers, if any.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    let values = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    cookie::find(values, name)
}
