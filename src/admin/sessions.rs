//! Every live session of the hub, as an admin sees it: whose, since when, last seen, from
//! where — never its id or the stored hash; each has an opaque handle to revoke it by.

use crate::{
    auth::{Session, session::handle_of},
    db::sessions,
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

use super::{Op, run};

pub struct LiveSession {
    pub handle: String,
    pub user_id: i64,
    pub username: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// The admin's own session.
    pub current: bool,
}

pub async fn list(state: &AppState, s: &Session) -> ApiResult<Vec<LiveSession>> {
    let now = now();
    let idle = state.config.idle_lifetime.as_secs() as i64;
    let absolute = state.config.absolute_lifetime.as_secs() as i64;
    let rows = sessions::list_all(&state.db, now - idle, now - absolute).await?;
    Ok(rows
        .into_iter()
        .map(|r| LiveSession {
            handle: handle_of(&r.id_hash),
            current: r.id_hash == s.id_hash,
            user_id: r.user_id,
            username: r.username,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
        .collect())
}

/// Ends the session whose handle is `handle`; 404 when none has it.
pub async fn revoke(state: &AppState, ctx: &Ctx, s: &Session, handle: &str) -> ApiResult<()> {
    let short: String = handle.chars().take(16).collect();
    let target = format!("session:{short}");
    let op = Op {
        action: "revoke-session",
        target: &target,
        sudo: true,
    };
    run(state, ctx, s, op, async {
        if handle.len() != 16 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::bad_request("A session handle is required."));
        }
        for hash in sessions::all_hashes(&state.db).await? {
            if handle_of(&hash) == handle {
                sessions::delete(&state.db, &hash).await?;
                return Ok(((), "session ended".to_string()));
            }
        }
        Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "Session not found",
        ))
    })
    .await
}
