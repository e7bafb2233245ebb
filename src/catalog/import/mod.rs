//! `gleh courses import DIR`: MIT OpenCourseWare offline packages into the catalog.
//!
//! Every direct sub-folder of DIR holding `index.html` and/or `data.json` is a course whose
//! uid is the folder name. Metadata comes from `data.json` as the original read it
//! (docs/original.md "OCW course import"). A course is upserted by uid without wiping what the package does not
//! say: a field absent from `data.json` (or a folder without one) keeps its stored value.
//! DIR must be `CONTENT_DIR/courses`, the folder the server serves packages from; with
//! `--copy`, packages from any other folder are copied in first (`copy.rs`).
//! Hostile or unreadable packages — a folder or file that is a symlink leading outside DIR,
//! a `data.json` over 1 MiB, not UTF-8, not JSON, not an object — are reported and skipped.

mod copy;
mod data_json;
mod scan;

use std::{fs, path::Path};

pub use data_json::{Meta, parse_data_json};
pub use scan::{scan, scan_one};

use crate::{
    catalog::Course,
    config::Config,
    db::{Db, catalog},
    time::now,
};

/// The largest `data.json` read.
pub const MAX_DATA_JSON: u64 = 1024 * 1024;

/// A readable package.
#[derive(Debug)]
pub struct Package {
    pub uid: String,
    pub has_index: bool,
    /// `None` when the folder has no `data.json`.
    pub meta: Option<Meta>,
    /// Things worth telling the operator that did not stop the import.
    pub notes: Vec<String>,
}

/// What the scan made of one direct sub-folder.
#[derive(Debug)]
pub enum Found {
    Package(Box<Package>),
    /// A package that could not be read safely: not imported.
    Skipped {
        folder: String,
        reason: String,
    },
    /// A sub-folder that is not a package (no `index.html`, no `data.json`).
    Ignored {
        folder: String,
    },
}

#[derive(Debug, Default)]
pub struct Report {
    pub imported: usize,
    pub updated: usize,
    pub skipped: usize,
    /// `imported X`, `updated X`, `ignored X: …`, `note X: …` lines, in folder order.
    pub lines: Vec<String>,
    /// One `skipped <folder>: <reason>` line per skipped package.
    pub problems: Vec<String>,
}

impl Report {
    /// Records a folder that is not imported (skipped, or not a package) and gives `None`;
    /// gives a package back to be imported.
    fn package(&mut self, f: Found) -> Option<Box<Package>> {
        match f {
            Found::Skipped { folder, reason } => {
                self.skipped += 1;
                self.problems.push(format!("skipped {folder}: {reason}"));
                None
            }
            Found::Ignored { folder } => {
                self.lines
                    .push(format!("ignored {folder}: no index.html or data.json"));
                None
            }
            Found::Package(p) => Some(p),
        }
    }

    /// Records a package stored as a new course (`new`) or an update of its course.
    fn upserted(&mut self, uid: &str, new: bool) {
        if new {
            self.imported += 1;
            self.lines.push(format!("imported {uid}"));
        } else {
            self.updated += 1;
            self.lines.push(format!("updated {uid}"));
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "{} imported, {} updated, {} skipped",
            self.imported, self.updated, self.skipped
        )
    }
}

/// The CLI command; returns the process exit code (1 when DIR cannot be read, or when it
/// is not the folder the server serves packages from and `copy` is not set).
pub async fn run(config: &Config, dir: &Path, copy: bool) -> anyhow::Result<i32> {
    if let Err(e) = fs::read_dir(dir) {
        eprintln!("error: cannot read {}: {e}", dir.display());
        return Ok(1);
    }
    let served = config.content_dir.join("courses");
    let is_served = matches!(
        (fs::canonicalize(dir), fs::canonicalize(&served)),
        (Ok(a), Ok(b)) if a == b
    );
    if !is_served && !copy {
        eprintln!(
            "error: {} is not the folder the server serves course packages from \
             (CONTENT_DIR/courses = {}): courses imported from it would not launch. \
             Move the package folders there, or run `gleh courses import {} --copy` to copy them in.",
            dir.display(),
            served.display(),
            dir.display()
        );
        return Ok(1);
    }
    let db = Db::connect_ready(&config.database_url, !config.is_production()).await?;
    let report = if is_served {
        import_dir(&db, dir, now()).await?
    } else {
        copy::copy_in(&db, dir, &served, now()).await?
    };
    for line in &report.lines {
        println!("{line}");
    }
    for line in &report.problems {
        eprintln!("{line}");
    }
    println!("{}", report.summary());
    Ok(0)
}

/// Scans `dir` and upserts every readable package. Fails only when `dir` itself cannot be
/// read or the database fails.
pub async fn import_dir(db: &Db, dir: &Path, now: i64) -> anyhow::Result<Report> {
    let d = dir.to_path_buf();
    let found = tokio::task::spawn_blocking(move || scan(&d)).await??;
    let mut report = Report::default();
    for f in found {
        let Some(p) = report.package(f) else {
            continue;
        };
        for n in &p.notes {
            report.lines.push(format!("note {}: {n}", p.uid));
        }
        let new = upsert(db, &p, now).await?;
        report.upserted(&p.uid, new);
    }
    Ok(report)
}

/// Stores one package: a new course (true), or the stored course of that uid updated with
/// what the package says (false).
pub async fn upsert(db: &Db, p: &Package, now: i64) -> sqlx::Result<bool> {
    match catalog::find_by_uid(db, &p.uid).await? {
        Some((id, existing)) => {
            catalog::update(db, id, &merge(Some(&existing), p)).await?;
            Ok(false)
        }
        None => {
            catalog::insert(db, &merge(None, p), now).await?;
            Ok(true)
        }
    }
}

/// The course row a package gives: the stored course (or a new one titled after the folder)
/// with every field the package states overwritten.
pub fn merge(existing: Option<&Course>, p: &Package) -> Course {
    let mut c = existing.cloned().unwrap_or_else(|| Course {
        uid: p.uid.clone(),
        title: title_from_folder(&p.uid),
        ..Course::default()
    });
    if let Some(m) = &p.meta {
        let set = |field: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                field.clone_from(v);
            }
        };
        set(&mut c.title, &m.title);
        set(&mut c.description, &m.description);
        set(&mut c.instructor, &m.instructor);
        set(&mut c.course_number, &m.course_number);
        set(&mut c.term, &m.term);
        set(&mut c.year, &m.year);
        set(&mut c.level, &m.level);
        set(&mut c.department, &m.department);
        set(&mut c.categories, &m.categories);
        set(&mut c.learning_resources, &m.learning_resources);
        set(&mut c.license_url, &m.license_url);
        if let Some(src) = &m.image_src {
            c.thumbnail = if src.is_empty() {
                String::new()
            } else {
                format!("{}/{src}", p.uid)
            };
        }
    }
    // Whether the folder has a launch page is something the scan always knows.
    c.path = if p.has_index {
        format!("{}/index.html", p.uid)
    } else {
        String::new()
    };
    c
}

/// `intro_to-rust` → `intro to rust`.
pub fn title_from_folder(name: &str) -> String {
    name.replace(['-', '_'], " ").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_what_the_package_does_not_say() {
        let existing = Course {
            uid: "x".into(),
            title: "Kept title".into(),
            description: "Kept description".into(),
            categories: "A,B".into(),
            ..Course::default()
        };
        let bare = Package {
            uid: "x".into(),
            has_index: true,
            meta: None,
            notes: vec![],
        };
        let c = merge(Some(&existing), &bare);
        assert_eq!(c.title, "Kept title");
        assert_eq!(c.categories, "A,B");
        assert_eq!(c.path, "x/index.html");
        let new = merge(
            None,
            &Package {
                uid: "intro_to-rust".into(),
                ..bare
            },
        );
        assert_eq!(new.title, "intro to rust");
    }
}
