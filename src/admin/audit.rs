//! The audit log: every admin action and every refused admin attempt is a row in the
//! database (`db::audit`), a JSON log event (`admin_action`) and a count in `/metrics`
//! (`gleh_admin_actions_total`). Nothing in the hub edits or deletes a row.

use std::borrow::Cow;

use crate::{
    auth::session::SessionUser,
    db::audit::{self, Entry, NewEntry},
    http::{ApiResult, Ctx},
    state::AppState,
    time::now,
};

/// How an admin action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was done.
    Success,
    /// An admin asked for something the rules do not allow (the last admin, a bad password).
    Refused,
    /// The caller was not allowed to ask: not an admin, or no recent re-authentication.
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::Denied => "denied",
        }
    }
}

/// `text` with every control character replaced by U+FFFD: PostgreSQL's `text` cannot
/// hold NUL (the insert would fail, and the admin's mistake become a 500), and an audit
/// line carries no terminal escapes.
fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// One thing to audit: who did what to which target, and how it ended. `detail` is a
/// short human text that never holds a secret (no password, no session id).
pub struct Action<'a> {
    pub actor: Option<&'a SessionUser>,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: Outcome,
    pub detail: &'a str,
}

/// Writes the row, the log event and the counter. A failure to write the row is an error
/// for the caller: an admin action that cannot be audited is not reported as done.
pub async fn record(state: &AppState, ctx: &Ctx, a: &Action<'_>) -> ApiResult<()> {
    let ip = ctx.ip.to_string();
    let actor = a.actor.map(|u| u.username.as_str()).unwrap_or("");
    // The target and the detail may quote what the admin sent (a refused username, a
    // session handle, a file name).
    let (target, detail) = (printable(a.target), printable(a.detail));
    let (target, detail) = (target.as_ref(), detail.as_ref());
    audit::insert(
        &state.db,
        &NewEntry {
            at: now(),
            actor_id: a.actor.map(|u| u.id),
            actor,
            action: a.action,
            target,
            outcome: a.outcome.as_str(),
            ip: &ip,
            detail,
        },
    )
    .await?;
    crate::metrics::admin_action(a.action, a.outcome.as_str());
    let level_warn = a.outcome != Outcome::Success;
    if level_warn {
        tracing::warn!(
            event = "admin_action",
            actor = %actor,
            action = a.action,
            target = target,
            outcome = a.outcome.as_str(),
            detail = detail,
        );
    } else {
        tracing::info!(
            event = "admin_action",
            actor = %actor,
            action = a.action,
            target = target,
            outcome = a.outcome.as_str(),
            detail = detail,
        );
    }
    Ok(())
}

/// The newest entries, at most `limit` (1–500), older than the entry `before` if given.
pub async fn list(state: &AppState, before: Option<i64>, limit: i64) -> ApiResult<Vec<Entry>> {
    Ok(audit::list(&state.db, before, limit.clamp(1, 500)).await?)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(printable("user:7"), "user:7");
        assert_eq!(
            printable("a\u{0}b\n\u{1b}[31m"),
            "a\u{FFFD}b\u{FFFD}\u{FFFD}[31m"
        );
    }
}
