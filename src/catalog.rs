//! The course catalog: queries, and the sample courses seeded in development.

use serde::Deserialize;
use sqlx::Row as _;

use crate::db::Db;

#[derive(Clone, Debug, Deserialize)]
pub struct Course {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub categories: String,
    #[serde(default)]
    pub thumbnail: String,
    pub instructor: String,
    pub course_number: String,
    pub term: String,
    pub year: String,
    pub level: String,
    pub department: String,
}

impl Course {
    pub fn category_list(&self) -> Vec<String> {
        self.categories
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    }
}

/// A course with the signed-in user's progress and note, for `/api/content` and `/`.
pub struct CatalogEntry {
    pub course: Course,
    pub progress: String,
    pub note: String,
}

pub async fn list_for_user(db: &Db, user_id: Option<i64>) -> sqlx::Result<Vec<CatalogEntry>> {
    let rows = sqlx::query(
        "SELECT c.id, c.uid, c.title, c.description, c.categories, c.thumbnail, c.instructor, \
           c.course_number, c.term, c.year, c.level, c.department, \
           COALESCE(p.status, 'Not Started'), COALESCE(n.content, '') \
         FROM courses c \
         LEFT JOIN course_progress p ON p.course_id = c.id AND p.user_id = $1 \
         LEFT JOIN course_notes n ON n.course_id = c.id AND n.user_id = $1 \
         ORDER BY c.id",
    )
    .bind(user_id.unwrap_or(-1))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CatalogEntry {
                course: Course {
                    uid: r.try_get(1)?,
                    title: r.try_get(2)?,
                    description: r.try_get(3)?,
                    categories: r.try_get(4)?,
                    thumbnail: r.try_get(5)?,
                    instructor: r.try_get(6)?,
                    course_number: r.try_get(7)?,
                    term: r.try_get(8)?,
                    year: r.try_get(9)?,
                    level: r.try_get(10)?,
                    department: r.try_get(11)?,
                },
                progress: r.try_get(12)?,
                note: r.try_get(13)?,
            })
        })
        .collect()
}

pub async fn upsert(db: &Db, c: &Course, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO courses (uid, title, description, categories, thumbnail, instructor, \
           course_number, term, year, level, department, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (uid) DO UPDATE SET title = excluded.title, description = excluded.description, \
           categories = excluded.categories, thumbnail = excluded.thumbnail, \
           instructor = excluded.instructor, course_number = excluded.course_number, \
           term = excluded.term, year = excluded.year, level = excluded.level, \
           department = excluded.department",
    )
    .bind(&c.uid)
    .bind(&c.title)
    .bind(&c.description)
    .bind(&c.categories)
    .bind(&c.thumbnail)
    .bind(&c.instructor)
    .bind(&c.course_number)
    .bind(&c.term)
    .bind(&c.year)
    .bind(&c.level)
    .bind(&c.department)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub fn sample_courses() -> anyhow::Result<Vec<Course>> {
    Ok(serde_json::from_str(include_str!(
        "../assets/sample-courses.json"
    ))?)
}

/// Seeds the sample catalog when the catalog is empty; returns how many were added.
pub async fn seed_if_empty(db: &Db, now: i64) -> anyhow::Result<usize> {
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM courses")
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?;
    if count > 0 {
        return Ok(0);
    }
    let courses = sample_courses()?;
    for c in &courses {
        upsert(db, c, now).await?;
    }
    Ok(courses.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_catalog_parses() {
        let courses = super::sample_courses().unwrap();
        assert!(courses.len() >= 12);
        assert!(
            courses
                .iter()
                .all(|c| !c.title.is_empty() && !c.course_number.is_empty())
        );
    }
}
