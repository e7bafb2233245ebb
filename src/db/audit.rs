//! The `audit_log` table: one row per admin action or refused admin attempt. Rows are only
//! ever inserted; nothing in the hub updates or deletes them.

use super::Db;

/// A row to write.
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub ip: &'a str,
    pub detail: &'a str,
}

/// A row as read back.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub ip: String,
    pub detail: String,
}

pub async fn insert(db: &Db, e: &NewEntry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, outcome, ip, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.at)
    .bind(e.actor_id)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target)
    .bind(e.outcome)
    .bind(e.ip)
    .bind(e.detail)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The newest `limit` rows with an id below `before` (all when `None`), newest first.
pub async fn list(db: &Db, before: Option<i64>, limit: i64) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as(
        "SELECT id, at, actor_id, actor, action, target, outcome, ip, detail FROM audit_log \
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
