//! The hub at a glance (`status`: the counts the dashboard shows) and the About text an
//! admin writes, kept in the `settings` table so every instance serves the same one.

use axum::http::StatusCode;

use crate::{
    auth::Session,
    db::{catalog, ebooks, sessions, settings, users},
    ebooks::sync::SyncError,
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

use super::{Op, run};

/// The key of the About text in `settings`.
const ABOUT_KEY: &str = "about_content";
/// The longest About text accepted, in bytes.
pub const ABOUT_MAX_BYTES: usize = 64 * 1024;

pub struct Status {
    pub courses: i64,
    /// Books in the stored copy of the Calibre-Web library (0 when e-books are off).
    pub ebooks: i64,
    pub users: i64,
    /// Session rows (live until the next purge).
    pub sessions: i64,
}

pub async fn status(state: &AppState) -> ApiResult<Status> {
    Ok(Status {
        courses: catalog::count(&state.db).await?,
        ebooks: ebooks::count(&state.db).await?,
        users: users::count(&state.db).await?,
        sessions: sessions::count(&state.db).await?,
    })
}

/// The About text ("" until an admin writes one).
pub async fn about(state: &AppState) -> ApiResult<String> {
    Ok(settings::get(&state.db, ABOUT_KEY)
        .await?
        .unwrap_or_default())
}

/// Replaces the About text (audited as `about-content`); over 64 KiB → 400.
pub async fn set_about(state: &AppState, ctx: &Ctx, s: &Session, content: &str) -> ApiResult<()> {
    let op = Op {
        action: "about-content",
        target: "about",
        sudo: false,
    };
    run(state, ctx, s, op, async {
        // PostgreSQL's `text` cannot hold NUL; Markdown has no use for it.
        if content.contains('\0') {
            return Err(ApiError::bad_request(
                "About content must not contain NUL characters.",
            ));
        }
        if content.len() > ABOUT_MAX_BYTES {
            return Err(ApiError::bad_request(
                "About content is too long (at most 64 KiB).",
            ));
        }
        settings::put(&state.db, ABOUT_KEY, content, now()).await?;
        Ok(((), format!("{} bytes", content.len())))
    })
    .await
}

/// Synchronises the e-book library now (audited as `sync-ebooks`): the number of books
/// stored. E-books off → 400; Calibre-Web out of reach or its feed unusable → 502 with
/// the reason (a fixed sentence), the last good copy kept.
pub async fn sync_ebooks(state: &AppState, ctx: &Ctx, s: &Session) -> ApiResult<usize> {
    let op = Op {
        action: "sync-ebooks",
        target: "ebooks",
        sudo: false,
    };
    run(state, ctx, s, op, async {
        match state.ebooks.sync(&state.db).await {
            Ok(n) => Ok((n, format!("{n} books"))),
            Err(SyncError::Disabled) => Err(ApiError::bad_request(
                "E-books are not configured (CALIBRE_WEB_URL is not set).",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("The synchronisation failed: {e}. The last good copy is kept."),
            )),
        }
    })
    .await
}
