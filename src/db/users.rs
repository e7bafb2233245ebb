//! The `users` table, and the account-wide changes that touch its dependants (sessions,
//! progress, notes, avatar bytes) in one transaction.

use super::{
    Db,
    sessions::{NewSession, insert_with},
};

/// An account as stored. Flags are 0/1 BIGINT columns (the Any driver decodes no booleans).
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub avatar: String,
    pub about_me: String,
    pub gender: String,
    pub pronouns: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    password_hash: String,
    is_admin: i64,
    disabled: i64,
    avatar: String,
    about_me: String,
    gender: String,
    pronouns: String,
    created_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            username: r.username,
            password_hash: r.password_hash,
            is_admin: r.is_admin != 0,
            disabled: r.disabled != 0,
            avatar: r.avatar,
            about_me: r.about_me,
            gender: r.gender,
            pronouns: r.pronouns,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: &str = "id, username, password_hash, is_admin, disabled, avatar, about_me, \
    gender, pronouns, created_at";

/// The account whose lower-cased name is `key`.
pub async fn find_by_key(db: &Db, key: &str) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username_key = $1");
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(User::from))
}

pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(User::from))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id");
    let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: Option<i64>,
    username: Option<String>,
    password_hash: Option<String>,
    is_admin: Option<i64>,
    disabled: Option<i64>,
    avatar: Option<String>,
    about_me: Option<String>,
    gender: Option<String>,
    pronouns: Option<String>,
    created_at: Option<i64>,
    locked_until: Option<i64>,
}

/// For a login, in one round trip: the account named `key` (if any) and that name's failure
/// record (`None` when there is none, else its `locked_until`; see `limits`).
pub async fn find_for_login(db: &Db, key: &str) -> sqlx::Result<(Option<User>, Option<i64>)> {
    let r: LoginRow = sqlx::query_as(
        "SELECT u.id, u.username, u.password_hash, u.is_admin, u.disabled, u.avatar, \
           u.about_me, u.gender, u.pronouns, u.created_at, f.locked_until \
         FROM (SELECT CAST($1 AS TEXT) AS k) q \
         LEFT JOIN users u ON u.username_key = q.k \
         LEFT JOIN login_failures f ON f.username_key = q.k",
    )
    .bind(key)
    .fetch_one(&db.pool)
    .await?;
    let user = r.id.map(|id| User {
        id,
        username: r.username.unwrap_or_default(),
        password_hash: r.password_hash.unwrap_or_default(),
        is_admin: r.is_admin.unwrap_or(0) != 0,
        disabled: r.disabled.unwrap_or(0) != 0,
        avatar: r.avatar.unwrap_or_default(),
        about_me: r.about_me.unwrap_or_default(),
        gender: r.gender.unwrap_or_default(),
        pronouns: r.pronouns.unwrap_or_default(),
        created_at: r.created_at.unwrap_or(0),
    });
    Ok((user, r.locked_until))
}

pub enum Created {
    Id(i64),
    Taken,
}

/// Inserts an account; `Taken` when the lower-cased name exists (on either engine).
pub async fn insert(
    db: &Db,
    username: &str,
    key: &str,
    password_hash: &str,
    is_admin: bool,
    now: i64,
) -> sqlx::Result<Created> {
    let res: sqlx::Result<i64> = sqlx::query_scalar(
        "INSERT INTO users (username, username_key, password_hash, is_admin, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(key)
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(now)
    .fetch_one(&db.pool)
    .await;
    match res {
        Ok(id) => Ok(Created::Id(id)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Created::Taken),
        Err(e) => Err(e),
    }
}

/// Sets a new password hash and ends every session of the user, and opens `then` (the
/// changer's new session) if given, in one transaction. Returns how many sessions ended.
pub async fn set_password_hash(
    db: &Db,
    user_id: i64,
    hash: &str,
    then: Option<&NewSession<'_>>,
) -> sqlx::Result<u64> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if let Some(new) = then {
        insert_with(&mut tx, new).await?;
    }
    let done = tx.commit().await;
    db.session_cache.invalidate();
    done?;
    Ok(ended)
}

/// Replaces the password hash `old` by `new` (the same password, a better hash) unless it
/// changed meanwhile; sessions are left alone. True when it was replaced.
pub async fn upgrade_password_hash(
    db: &Db,
    user_id: i64,
    old: &str,
    new: &str,
) -> sqlx::Result<bool> {
    let res =
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new)
            .bind(user_id)
            .bind(old)
            .execute(&db.pool)
            .await?;
    Ok(res.rows_affected() == 1)
}

/// Deletes the account with its sessions, course and e-book progress and notes and its
/// avatar's bytes, in one transaction.
/// False when there was no such account.
pub async fn delete(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    let mut tx = db.pool.begin().await?;
    for sql in [
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM course_progress WHERE user_id = $1",
        "DELETE FROM course_notes WHERE user_id = $1",
        "DELETE FROM ebook_notes WHERE user_id = $1",
        "DELETE FROM ebook_progress WHERE user_id = $1",
        "DELETE FROM avatars WHERE user_id = $1",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
    }
    let res = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let done = tx.commit().await;
    db.session_cache.invalidate();
    done?;
    Ok(res.rows_affected() == 1)
}

/// Sets the given profile fields; `None` leaves a field as it is.
pub async fn update_profile(
    db: &Db,
    user_id: i64,
    about_me: Option<&str>,
    gender: Option<&str>,
    pronouns: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET about_me = COALESCE($1, about_me), gender = COALESCE($2, gender), \
         pronouns = COALESCE($3, pronouns) WHERE id = $4",
    )
    .bind(about_me)
    .bind(gender)
    .bind(pronouns)
    .bind(user_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// An account as the admin's list shows it: with its last activity and live sessions.
pub struct Listed {
    pub user: User,
    /// The later of its last login and its sessions' last requests; `None` if never.
    pub last_seen_at: Option<i64>,
    pub live_sessions: i64,
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    user: UserRow,
    login_seen: i64,
    session_seen: Option<i64>,
    live_sessions: i64,
}

/// Every account, oldest first, with the sessions last seen after `idle_cutoff` and
/// created after `absolute_cutoff` counted as live.
pub async fn list_with_activity(
    db: &Db,
    idle_cutoff: i64,
    absolute_cutoff: i64,
) -> sqlx::Result<Vec<Listed>> {
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, u.last_seen_at AS login_seen, \
           (SELECT MAX(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id) AS session_seen, \
           (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.last_seen_at > $1 \
              AND s.created_at > $2) AS live_sessions \
         FROM users u ORDER BY u.id"
    );
    let rows: Vec<ListedRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(idle_cutoff)
        .bind(absolute_cutoff)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let seen = r.session_seen.unwrap_or(0).max(r.login_seen);
            Listed {
                user: r.user.into(),
                last_seen_at: (seen > 0).then_some(seen),
                live_sessions: r.live_sessions,
            }
        })
        .collect())
}

/// Number of admin accounts that can log in.
pub async fn count_active_admins(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled = 0")
        .fetch_one(&db.pool)
        .await
}

/// Number of accounts.
pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&db.pool)
        .await
}

/// A change an admin (or the CLI) makes to an account. Every one of them ends the
/// account's sessions: a privilege change, a disabled account and a deleted one must not
/// keep a session made under the old state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountChange {
    Delete,
    Disable,
    Enable,
    SetAdmin(bool),
}

pub enum Applied {
    NotFound,
    /// Refused: it would leave no admin who can log in.
    LastAdmin,
    /// Done; `before` is the account as it was.
    Done {
        before: User,
        sessions_ended: u64,
    },
}

/// Applies `change` to the account `user_id` in one transaction: the change, the end of
/// its sessions, and (for `Delete`) its progress, notes and avatar bytes. A change that
/// would leave no enabled admin is rolled back. The change is written first and the admins counted after,
/// so on SQLite the transaction holds the write lock before it counts; on PostgreSQL the
/// admin rows are locked first, so two admins demoting each other cannot both succeed.
pub async fn apply(db: &Db, user_id: i64, change: AccountChange) -> sqlx::Result<Applied> {
    let mut tx = db.pool.begin().await?;
    if db.backend == super::Backend::Postgres {
        sqlx::query(
            "SELECT id FROM users WHERE is_admin = 1 AND disabled = 0 ORDER BY id FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
    }
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(before) = row.map(User::from) else {
        return Ok(Applied::NotFound);
    };
    let sessions_ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let statements: &[&'static str] = match change {
        AccountChange::Delete => &[
            "DELETE FROM course_progress WHERE user_id = $1",
            "DELETE FROM course_notes WHERE user_id = $1",
            "DELETE FROM ebook_notes WHERE user_id = $1",
            "DELETE FROM ebook_progress WHERE user_id = $1",
            "DELETE FROM avatars WHERE user_id = $1",
            "DELETE FROM users WHERE id = $1",
        ],
        AccountChange::Disable => &["UPDATE users SET disabled = 1 WHERE id = $1"],
        AccountChange::Enable => &["UPDATE users SET disabled = 0 WHERE id = $1"],
        AccountChange::SetAdmin(true) => &["UPDATE users SET is_admin = 1 WHERE id = $1"],
        AccountChange::SetAdmin(false) => &["UPDATE users SET is_admin = 0 WHERE id = $1"],
    };
    for sql in statements {
        sqlx::query(*sql).bind(user_id).execute(&mut *tx).await?;
    }
    let removes_admin = before.is_admin
        && !before.disabled
        && matches!(
            change,
            AccountChange::Delete | AccountChange::Disable | AccountChange::SetAdmin(false)
        );
    if removes_admin {
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled = 0")
                .fetch_one(&mut *tx)
                .await?;
        if left == 0 {
            tx.rollback().await?;
            return Ok(Applied::LastAdmin);
        }
    }
    let done = tx.commit().await;
    db.session_cache.invalidate();
    done?;
    Ok(Applied::Done {
        before,
        sessions_ended,
    })
}
