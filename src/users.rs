//! Accounts: username rules and the queries the routes and the CLI share.

use sqlx::Row as _;

use crate::db::Db;

pub const MIN_USERNAME: usize = 3;
pub const MAX_USERNAME: usize = 64;

/// Lower-cased form used for uniqueness and lookup (`Admin` and `admin` are one account).
pub fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// Why a username cannot be registered; the text is shown to the user.
pub fn username_violation(username: &str) -> Option<&'static str> {
    if username.is_empty() {
        Some("Username is required.")
    } else if username.chars().count() < MIN_USERNAME {
        Some("Username must be at least 3 characters.")
    } else if username.chars().count() > MAX_USERNAME {
        Some("Username must not exceed 64 characters.")
    } else if !username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Some("Username can only contain letters, numbers, underscores, and hyphens.")
    } else {
        None
    }
}

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

const COLUMNS: &str = "id, username, password_hash, is_admin, disabled, avatar, about_me, gender, pronouns, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<User> {
    Ok(User {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        is_admin: r.try_get::<i64, _>(3)? != 0,
        disabled: r.try_get::<i64, _>(4)? != 0,
        avatar: r.try_get(5)?,
        about_me: r.try_get(6)?,
        gender: r.try_get(7)?,
        pronouns: r.try_get(8)?,
        created_at: r.try_get(9)?,
    })
}

pub async fn find_by_name(db: &Db, username: &str) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username_key = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(username_key(username))
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// For a login, in one round trip: the user (if any) and the account's failure record —
/// `None` when there is none, else its `locked_until`.
pub async fn find_for_login(db: &Db, username: &str) -> sqlx::Result<(Option<User>, Option<i64>)> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.password_hash, u.is_admin, u.disabled, u.avatar, u.about_me, \
           u.gender, u.pronouns, u.created_at, f.locked_until \
         FROM (SELECT CAST($1 AS TEXT) AS k) q \
         LEFT JOIN users u ON u.username_key = q.k \
         LEFT JOIN login_failures f ON f.username_key = q.k",
    )
    .bind(username_key(username))
    .fetch_one(&db.pool)
    .await?;
    let user = match row.try_get::<Option<i64>, _>(0)? {
        Some(_) => Some(from_row(&row)?),
        None => None,
    };
    Ok((user, row.try_get::<Option<i64>, _>(10)?))
}

pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub enum Created {
    Id(i64),
    Taken,
}

pub async fn create(
    db: &Db,
    username: &str,
    password_hash: &str,
    is_admin: bool,
    now: i64,
) -> sqlx::Result<Created> {
    let res = sqlx::query(
        "INSERT INTO users (username, username_key, password_hash, is_admin, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(username_key(username))
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(now)
    .fetch_one(&db.pool)
    .await;
    match res {
        Ok(row) => Ok(Created::Id(row.try_get(0)?)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Created::Taken),
        Err(e) => Err(e),
    }
}

/// Sets a new password hash and ends every session of the user, in one transaction.
/// Returns how many sessions ended.
pub async fn set_password_hash(db: &Db, user_id: i64, hash: &str) -> sqlx::Result<u64> {
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
    tx.commit().await?;
    Ok(ended)
}

pub async fn delete(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    let mut tx = db.pool.begin().await?;
    for sql in [
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM course_progress WHERE user_id = $1",
        "DELETE FROM course_notes WHERE user_id = $1",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
    }
    let res = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(res.rows_affected() == 1)
}

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

/// Sets the user's avatar file name and returns the previous one (`None` when the user no
/// longer exists). A compare-and-swap, so of two concurrent uploads each sees the name the
/// other replaced and no file is left behind.
pub async fn set_avatar(db: &Db, user_id: i64, avatar: &str) -> sqlx::Result<Option<String>> {
    loop {
        let Some(row) = sqlx::query("SELECT avatar FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&db.pool)
            .await?
        else {
            return Ok(None);
        };
        let previous: String = row.try_get(0)?;
        let swapped = sqlx::query("UPDATE users SET avatar = $1 WHERE id = $2 AND avatar = $3")
            .bind(avatar)
            .bind(user_id)
            .bind(&previous)
            .execute(&db.pool)
            .await?
            .rows_affected();
        if swapped == 1 {
            return Ok(Some(previous));
        }
    }
}
