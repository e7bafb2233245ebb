//! Writing what `gleh import-gleh` planned (`crate::import`) into this hub's tables, all
//! in one transaction: accounts (with the `imported_users` record of which original user
//! each became), courses by uid, progress and notes. Every insert leaves an existing row
//! alone, so a second run adds nothing; a dry run is the same transaction rolled back.

use std::collections::{HashMap, HashSet};

use super::{Db, catalog::Course};

/// An account to create for the original's user `source_id`.
pub struct NewUser {
    pub source_id: i64,
    pub username: String,
    pub key: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub about_me: String,
    pub gender: String,
    pub pronouns: String,
    pub created_at: i64,
}

/// A progress status or a note of the original's user `source_user`, on the course `uid`.
pub struct Attached {
    pub source_user: i64,
    pub uid: String,
    /// The status (progress) or the content (note).
    pub value: String,
}

/// Everything one import writes.
#[derive(Default)]
pub struct Batch {
    pub users: Vec<NewUser>,
    pub courses: Vec<Course>,
    pub progress: Vec<Attached>,
    pub notes: Vec<Attached>,
}

/// Rows added and rows left as they were (already there), per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub added: u64,
    pub present: u64,
}

impl Tally {
    fn count(&mut self, added: bool) {
        if added {
            self.added += 1;
        } else {
            self.present += 1;
        }
    }
}

#[derive(Debug, Default)]
pub struct Applied {
    pub users: Tally,
    pub courses: Tally,
    pub progress: Tally,
    pub notes: Tally,
    /// The account each original user id now is (new and earlier imports).
    pub accounts: HashMap<i64, i64>,
    /// The original user ids whose account this run created.
    pub created: HashSet<i64>,
}

/// This hub's taken username keys, and the original users an earlier import brought in
/// (source id → account id).
pub async fn existing(db: &Db) -> sqlx::Result<(HashSet<String>, HashMap<i64, i64>)> {
    let keys: Vec<String> = sqlx::query_scalar("SELECT username_key FROM users")
        .fetch_all(&db.pool)
        .await?;
    let map: Vec<(i64, i64)> = sqlx::query_as("SELECT source_id, user_id FROM imported_users")
        .fetch_all(&db.pool)
        .await?;
    Ok((keys.into_iter().collect(), map.into_iter().collect()))
}

/// Writes `batch` in one transaction; committed only when `commit` (else rolled back, for
/// `--dry-run`, after the same statements).
pub async fn apply(db: &Db, batch: &Batch, now: i64, commit: bool) -> sqlx::Result<Applied> {
    let mut tx = db.pool.begin().await?;
    let mut out = Applied::default();
    let mapped: Vec<(i64, i64)> = sqlx::query_as("SELECT source_id, user_id FROM imported_users")
        .fetch_all(&mut *tx)
        .await?;
    out.accounts = mapped.into_iter().collect();
    for u in &batch.users {
        if out.accounts.contains_key(&u.source_id) {
            out.users.count(false);
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash, is_admin, about_me, \
               gender, pronouns, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&u.username)
        .bind(&u.key)
        .bind(&u.password_hash)
        .bind(i64::from(u.is_admin))
        .bind(&u.about_me)
        .bind(&u.gender)
        .bind(&u.pronouns)
        .bind(u.created_at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO imported_users (source_id, user_id) VALUES ($1, $2)")
            .bind(u.source_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        out.accounts.insert(u.source_id, id);
        out.created.insert(u.source_id);
        out.users.count(true);
    }
    let mut course_ids: HashMap<&str, i64> = HashMap::new();
    for c in &batch.courses {
        let q = sqlx::query(
            "INSERT INTO courses (uid, title, description, categories, thumbnail, instructor, \
               course_number, term, year, level, department, path, license_url, \
               learning_resources, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (uid) DO NOTHING",
        )
        .bind(&c.uid);
        let added = super::catalog::bind_fields(q, c)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        out.courses.count(added);
        let id: i64 = sqlx::query_scalar("SELECT id FROM courses WHERE uid = $1")
            .bind(&c.uid)
            .fetch_one(&mut *tx)
            .await?;
        course_ids.insert(c.uid.as_str(), id);
    }
    for (rows, sql, tally) in [
        (
            &batch.progress,
            "INSERT INTO course_progress (user_id, course_id, status, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, course_id) DO NOTHING",
            &mut out.progress,
        ),
        (
            &batch.notes,
            "INSERT INTO course_notes (user_id, course_id, content, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, course_id) DO NOTHING",
            &mut out.notes,
        ),
    ] {
        for a in rows {
            let (Some(user), Some(course)) = (
                out.accounts.get(&a.source_user),
                course_ids.get(a.uid.as_str()),
            ) else {
                // The planner attaches rows only to users and courses of the batch.
                tally.count(false);
                continue;
            };
            let added = sqlx::query(sql)
                .bind(*user)
                .bind(*course)
                .bind(&a.value)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            tally.count(added);
        }
    }
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(out)
}
