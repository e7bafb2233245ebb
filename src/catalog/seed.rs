//! The development catalog: the bundled sample courses and any packages already under
//! `$CONTENT_DIR/courses`, added once to an empty catalog.

use std::path::Path;

use super::Course;
use crate::db::{Db, catalog};

pub fn sample_courses() -> anyhow::Result<Vec<Course>> {
    Ok(serde_json::from_str(include_str!(
        "../../assets/sample-courses.json"
    ))?)
}

/// Seeds the sample catalog when the catalog is empty: the JSON sample courses, then every
/// package under `<content_dir>/courses` when that folder exists (problems there are logged,
/// not fatal). Returns how many courses were added.
pub async fn seed_if_empty(db: &Db, content_dir: &Path, now: i64) -> anyhow::Result<usize> {
    if catalog::count(db).await? > 0 {
        return Ok(0);
    }
    let courses = sample_courses()?;
    for c in &courses {
        catalog::insert(db, c, now).await?;
    }
    let mut added = courses.len();
    let packages = content_dir.join("courses");
    if packages.is_dir() {
        match super::import::import_dir(db, &packages, now).await {
            Ok(report) => {
                for line in &report.problems {
                    tracing::warn!(event = "course_package_skipped", message = %line);
                }
                added += report.imported;
            }
            Err(e) => tracing::warn!(
                event = "course_packages_unreadable",
                dir = %packages.display(),
                error = %e,
            ),
        }
    }
    Ok(added)
}
