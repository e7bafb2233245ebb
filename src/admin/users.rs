//! Accounts, as an admin manages them: list, create, delete, reset a password, disable,
//! enable, grant or take the admin role. Every change ends the account's sessions
//! (`db::users::apply`), none may leave the hub without an enabled admin, and an admin
//! cannot do them to their own account here (their profile page is for that).

use crate::{
    auth::{Session, account},
    db::users::{self, AccountChange, Applied, Listed, User},
    domain::{MAX_PASSWORD_BYTES, NewPassword},
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

use super::{Op, run};

/// Every account with its last activity and live sessions.
pub async fn list(state: &AppState) -> ApiResult<Vec<Listed>> {
    let now = now();
    let idle = state.config.idle_lifetime.as_secs() as i64;
    let absolute = state.config.absolute_lifetime.as_secs() as i64;
    Ok(users::list_with_activity(&state.db, now - idle, now - absolute).await?)
}

/// Whether the hub has an admin who can log in.
pub async fn has_admin(state: &AppState) -> ApiResult<bool> {
    Ok(users::count_active_admins(&state.db).await? > 0)
}

/// A new account under the registration rules. Returns its id.
pub async fn create(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    username: &str,
    password: &str,
    is_admin: bool,
) -> ApiResult<(i64, String)> {
    let target = format!("username:{}", username.chars().take(64).collect::<String>());
    let op = Op {
        action: "create-user",
        target: &target,
        sudo: true,
    };
    run(state, ctx, s, op, async {
        if username.is_empty() || password.is_empty() {
            return Err(ApiError::bad_request("Username and password are required"));
        }
        let id = account::create(state, username, password, is_admin).await?;
        let message = format!("User {username} created successfully");
        Ok(((id, message.clone()), message))
    })
    .await
}

fn not_yourself(s: &Session, user_id: i64, what: &str) -> ApiResult<()> {
    if s.user.id == user_id {
        return Err(ApiError::bad_request(format!(
            "You cannot {what} your own account here."
        )));
    }
    Ok(())
}

/// Applies `change` to `user_id` for the admin `s`; the account as it was.
async fn change(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    user_id: i64,
    change: AccountChange,
) -> ApiResult<User> {
    let (action, what) = match change {
        AccountChange::Delete => ("delete-user", "delete"),
        AccountChange::Disable => ("disable-user", "disable"),
        AccountChange::Enable => ("enable-user", "enable"),
        AccountChange::SetAdmin(_) => ("set-admin", "change the admin role of"),
    };
    let target = format!("user:{user_id}");
    let op = Op {
        action,
        target: &target,
        sudo: true,
    };
    run(state, ctx, s, op, async {
        not_yourself(s, user_id, what)?;
        match users::apply(&state.db, user_id, change).await? {
            Applied::NotFound => Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "User not found",
            )),
            Applied::LastAdmin => Err(ApiError::bad_request(
                "Cannot remove the last admin: make another account an admin first.",
            )),
            Applied::Done {
                before,
                sessions_ended,
            } => {
                let detail = format!("{}; {sessions_ended} session(s) ended", before.username);
                Ok((before, detail))
            }
        }
    })
    .await
}

pub async fn delete(state: &AppState, ctx: &Ctx, s: &Session, user_id: i64) -> ApiResult<User> {
    change(state, ctx, s, user_id, AccountChange::Delete).await
}

pub async fn set_disabled(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    user_id: i64,
    disabled: bool,
) -> ApiResult<User> {
    let c = if disabled {
        AccountChange::Disable
    } else {
        AccountChange::Enable
    };
    change(state, ctx, s, user_id, c).await
}

pub async fn set_admin(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    user_id: i64,
    is_admin: bool,
) -> ApiResult<User> {
    change(state, ctx, s, user_id, AccountChange::SetAdmin(is_admin)).await
}

/// A new password under the policy; every session of the account ends.
pub async fn reset_password(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    user_id: i64,
    new_password: &str,
) -> ApiResult<User> {
    let target = format!("user:{user_id}");
    let op = Op {
        action: "reset-password",
        target: &target,
        sudo: true,
    };
    run(state, ctx, s, op, async {
        if new_password.is_empty() {
            return Err(ApiError::bad_request("New password is required"));
        }
        if new_password.len() > MAX_PASSWORD_BYTES {
            return Err(ApiError::bad_request(format!(
                "Password must not exceed {MAX_PASSWORD_BYTES} bytes."
            )));
        }
        not_yourself(s, user_id, "reset the password of")?;
        let Some(user) = users::find_by_id(&state.db, user_id).await? else {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "User not found",
            ));
        };
        let pw = NewPassword::parse(
            new_password,
            &user.username,
            state.config.min_password_length,
        )
        .map_err(ApiError::bad_request)?;
        let hash = state.hasher.hash(pw.into_inner()).await?;
        let ended = users::set_password_hash(&state.db, user.id, &hash, None).await?;
        let detail = format!("{}; {ended} session(s) ended", user.username);
        Ok((user, detail))
    })
    .await
}
