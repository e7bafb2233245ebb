//! What an admin does from the web (docs/design.md "Admin panel"), shared by the JSON API
//! under `/api/admin/` and the pages under `/admin`: accounts (`users`), live sessions
//! (`sessions`), the audit log (`audit`), courses (`courses`), the counts and the About
//! text (`system`), the diagnostics (`diagnostics`) and the log viewer (`logs`). Every
//! action goes through [`run`], which applies the re-authentication rule and writes the
//! audit row, so no handler can forget either.

pub mod audit;
pub mod courses;
pub mod diagnostics;
pub mod logs;
pub mod sessions;
pub mod system;
pub mod users;

use std::future::Future;

use audit::{Action, Outcome};

use crate::{
    auth::{Session, admin::require_recent},
    http::{ApiResult, Ctx},
    state::AppState,
};

/// What an admin action is, for the audit log and the re-authentication rule.
pub struct Op<'a> {
    /// A stable name (`delete-user`), as the API route spells it.
    pub action: &'a str,
    /// What it acts on (`user:7`, `course:3`, `session:ab12…`), or "".
    pub target: &'a str,
    /// Whether it needs a password entered within `ADMIN_REAUTH_WINDOW`: every change to
    /// an account and every deletion of data.
    pub sudo: bool,
}

/// Runs an admin action: refused with 403 when it needs a recent password and has none;
/// then `work`, whose success (with its message as detail) or client error (with its
/// message) is audited. A server error is audited as refused with no detail.
pub async fn run<T, F>(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    op: Op<'_>,
    work: F,
) -> ApiResult<T>
where
    F: Future<Output = ApiResult<(T, String)>>,
{
    if op.sudo {
        require_recent(state, ctx, s, op.action, op.target).await?;
    }
    let result = work.await;
    let (outcome, detail) = match &result {
        Ok((_, message)) => (Outcome::Success, message.clone()),
        Err(e) if e.status.is_client_error() => (Outcome::Refused, e.message.clone()),
        Err(_) => (Outcome::Refused, "internal error".to_string()),
    };
    audit::record(
        state,
        ctx,
        &Action {
            actor: Some(&s.user),
            action: op.action,
            target: op.target,
            outcome,
            detail: &detail,
        },
    )
    .await?;
    result.map(|(value, _)| value)
}
