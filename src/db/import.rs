//! Writing what `gleh import-gleh` planned (`crate::import`) into this hub's tables, all
//! in one transaction: accounts (with the `imported_users` record of which original user
//! each became), courses by uid, progress and notes, e-book notes and reading progress.
//! Every insert leaves an existing row alone (`ON CONFLICT … DO NOTHING`), so a second run
//! adds nothing and a row this hub already has keeps this hub's value; a dry run is the
//! same transaction rolled back.
//!
//! Rows go in as multi-row `INSERT`s of up to `CHUNK` rows (every full chunk of a table is
//! the same statement text, so the connection's statement cache prepares it once): 10,000
//! users with 100,000 progress rows are a few hundred statements, not 110,000
//! (bench/import.sh, docs/performance.md).

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Transaction};

use super::{Db, catalog::Course};

/// Rows per INSERT. The widest row (a course) has 15 parameters: 7,500 per statement,
/// under SQLite's 32,766 and PostgreSQL's 65,535.
const CHUNK: usize = 500;

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

/// An e-book note or reading progress of the original's user `source_user` on the book
/// `book_id` (`calibre-<n>`).
pub struct EbookRow {
    pub source_user: i64,
    pub book_id: String,
    /// The content (note) or the status, `in_progress` or `completed` (progress).
    pub value: String,
    /// `last_read` (progress), unix seconds; `None`: the import's time (notes: the
    /// original kept no time).
    pub at: Option<i64>,
}

/// Everything one import writes.
#[derive(Default)]
pub struct Batch {
    pub users: Vec<NewUser>,
    pub courses: Vec<Course>,
    pub progress: Vec<Attached>,
    pub notes: Vec<Attached>,
    pub ebook_notes: Vec<EbookRow>,
    pub ebook_progress: Vec<EbookRow>,
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

    /// A statement of `rows` rows that inserted `affected`.
    fn chunk(&mut self, rows: usize, affected: u64) {
        self.added += affected;
        self.present += (rows as u64).saturating_sub(affected);
    }
}

#[derive(Debug, Default)]
pub struct Applied {
    pub users: Tally,
    pub courses: Tally,
    pub progress: Tally,
    pub notes: Tally,
    pub ebook_notes: Tally,
    pub ebook_progress: Tally,
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

/// `($1, …, $cols), ($cols+1, …)`: the VALUES list of `rows` rows.
fn values(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 1..=cols {
            if c > 1 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * cols + c).to_string());
        }
        s.push(')');
    }
    s
}

/// Writes `batch` in one transaction; committed only when `commit` (else rolled back, for
/// `--dry-run`, after the same statements).
pub async fn apply(db: &Db, batch: &Batch, now: i64, commit: bool) -> sqlx::Result<Applied> {
    let mut tx = db.writer.begin().await?;
    let mut out = Applied::default();
    let mapped: Vec<(i64, i64)> = sqlx::query_as("SELECT source_id, user_id FROM imported_users")
        .fetch_all(&mut *tx)
        .await?;
    let imported: HashSet<i64> = mapped.iter().map(|(s, _)| *s).collect();
    // Rows attach only to accounts that still exist (one deleted since an earlier import
    // stays deleted: its rows are counted as already handled).
    let live: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT i.source_id, i.user_id FROM imported_users i JOIN users u ON u.id = i.user_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    out.accounts = live.into_iter().collect();
    let new: Vec<&NewUser> = batch
        .users
        .iter()
        .filter(|u| {
            let again = imported.contains(&u.source_id);
            out.users.count(!again);
            !again
        })
        .collect();
    insert_users(&mut tx, &new, &mut out).await?;
    let course_ids = insert_courses(&mut tx, &batch.courses, now, &mut out.courses).await?;
    for (rows, table, value, tally) in [
        (
            &batch.progress,
            "course_progress",
            "status",
            &mut out.progress,
        ),
        (&batch.notes, "course_notes", "content", &mut out.notes),
    ] {
        let mut resolved = Vec::with_capacity(rows.len());
        for a in rows {
            match (
                out.accounts.get(&a.source_user),
                course_ids.get(a.uid.as_str()),
            ) {
                (Some(user), Some(course)) => resolved.push((*user, *course, a.value.as_str())),
                // The planner attaches rows only to users and courses of the batch; an
                // account deleted since an earlier import gets nothing back.
                _ => tally.count(false),
            }
        }
        for chunk in resolved.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO {table} (user_id, course_id, {value}, updated_at) VALUES {} \
                 ON CONFLICT (user_id, course_id) DO NOTHING",
                values(chunk.len(), 4)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (user, course, v) in chunk {
                q = q.bind(*user).bind(*course).bind(*v).bind(now);
            }
            let affected = q.execute(&mut *tx).await?.rows_affected();
            tally.chunk(chunk.len(), affected);
        }
    }
    for (rows, table, cols, tally) in [
        (
            &batch.ebook_notes,
            "ebook_notes",
            "content, updated_at",
            &mut out.ebook_notes,
        ),
        (
            &batch.ebook_progress,
            "ebook_progress",
            "status, last_read",
            &mut out.ebook_progress,
        ),
    ] {
        let mut resolved = Vec::with_capacity(rows.len());
        for e in rows {
            match out.accounts.get(&e.source_user) {
                Some(user) => resolved.push((*user, e)),
                None => tally.count(false),
            }
        }
        for chunk in resolved.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO {table} (user_id, book_id, {cols}) VALUES {} \
                 ON CONFLICT (user_id, book_id) DO NOTHING",
                values(chunk.len(), 4)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (user, e) in chunk {
                q = q
                    .bind(*user)
                    .bind(&e.book_id)
                    .bind(&e.value)
                    .bind(e.at.unwrap_or(now));
            }
            let affected = q.execute(&mut *tx).await?.rows_affected();
            tally.chunk(chunk.len(), affected);
        }
    }
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(out)
}

/// The new accounts and their `imported_users` rows. Each INSERT returns the ids with the
/// (unique) username keys, so the ids are matched by key, not by the order of the rows.
async fn insert_users(
    tx: &mut Transaction<'static, Any>,
    new: &[&NewUser],
    out: &mut Applied,
) -> sqlx::Result<()> {
    for chunk in new.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO users (username, username_key, password_hash, is_admin, about_me, \
               gender, pronouns, created_at) VALUES {} RETURNING id, username_key",
            values(chunk.len(), 8)
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for u in chunk {
            q = q
                .bind(&u.username)
                .bind(&u.key)
                .bind(&u.password_hash)
                .bind(i64::from(u.is_admin))
                .bind(&u.about_me)
                .bind(&u.gender)
                .bind(&u.pronouns)
                .bind(u.created_at);
        }
        let ids: HashMap<String, i64> = q
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|(id, key)| (key, id))
            .collect();
        let mut pairs = Vec::with_capacity(chunk.len());
        for u in chunk {
            let Some(id) = ids.get(&u.key) else {
                return Err(sqlx::Error::RowNotFound);
            };
            pairs.push((u.source_id, *id));
        }
        let sql = format!(
            "INSERT INTO imported_users (source_id, user_id) VALUES {}",
            values(pairs.len(), 2)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (source, id) in &pairs {
            q = q.bind(*source).bind(*id);
        }
        q.execute(&mut **tx).await?;
        for (source, id) in pairs {
            out.accounts.insert(source, id);
            out.created.insert(source);
        }
    }
    Ok(())
}

/// The courses (a uid already here keeps this hub's row), then every course id by uid.
async fn insert_courses<'b>(
    tx: &mut Transaction<'static, Any>,
    courses: &'b [Course],
    now: i64,
    tally: &mut Tally,
) -> sqlx::Result<HashMap<&'b str, i64>> {
    for chunk in courses.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO courses (uid, title, description, categories, thumbnail, instructor, \
               course_number, term, year, level, department, path, license_url, \
               learning_resources, created_at) VALUES {} ON CONFLICT (uid) DO NOTHING",
            values(chunk.len(), 15)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = super::catalog::bind_fields(q.bind(&c.uid), c).bind(now);
        }
        let affected = q.execute(&mut **tx).await?.rows_affected();
        tally.chunk(chunk.len(), affected);
    }
    let wanted: HashSet<&str> = courses.iter().map(|c| c.uid.as_str()).collect();
    let all: Vec<(i64, String)> = sqlx::query_as("SELECT id, uid FROM courses")
        .fetch_all(&mut **tx)
        .await?;
    let mut ids = HashMap::with_capacity(wanted.len());
    for (id, uid) in all {
        if let Some(w) = wanted.get(uid.as_str()) {
            ids.insert(*w, id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_lists_numbered_placeholders() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(1, 1), "($1)");
    }
}
