//! `gleh courses import DIR`: MIT OpenCourseWare offline packages into the catalog.
//!
//! Every direct sub-folder of DIR holding `index.html` and/or `data.json` is a course whose
//! uid is the folder name. Metadata comes from `data.json` as the original read it
//! (gleh-spec.md §4.1). A course is upserted by uid without wiping what the package does not
//! say: a field absent from `data.json` (or a folder without one) keeps its stored value.
//! Hostile or unreadable packages — a folder or file that is a symlink leading outside DIR,
//! a `data.json` over 1 MiB, not UTF-8, not JSON, not an object — are reported and skipped.

use std::{
    collections::BTreeSet,
    ffi::OsStr,
    fs,
    io::{self, Read as _},
    path::{Path, PathBuf},
};

use serde_json::Value;

use crate::{
    catalog::{self, Course},
    config::Config,
    db::{Db, now},
};

/// The largest `data.json` read.
pub const MAX_DATA_JSON: u64 = 1024 * 1024;

/// Metadata read from a `data.json`; `None` where the file does not say.
#[derive(Debug, Default, PartialEq)]
pub struct Meta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub instructor: Option<String>,
    pub course_number: Option<String>,
    pub term: Option<String>,
    pub year: Option<String>,
    pub level: Option<String>,
    pub department: Option<String>,
    pub categories: Option<String>,
    /// Relative to the package folder (the `./` prefix removed).
    pub image_src: Option<String>,
    pub learning_resources: Option<String>,
    pub license_url: Option<String>,
}

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
    pub fn summary(&self) -> String {
        format!(
            "{} imported, {} updated, {} skipped",
            self.imported, self.updated, self.skipped
        )
    }
}

/// The CLI command; returns the process exit code (1 when DIR cannot be read).
pub async fn run(config: &Config, dir: &Path) -> anyhow::Result<i32> {
    if let Err(e) = fs::read_dir(dir) {
        eprintln!("error: cannot read {}: {e}", dir.display());
        return Ok(1);
    }
    let db = Db::connect(&config.database_url).await?;
    if !db.pending().await?.is_empty() {
        anyhow::bail!("the database has pending migrations: run `gleh migrate` first");
    }
    let report = import_dir(&db, dir, now()).await?;
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
        match f {
            Found::Skipped { folder, reason } => {
                report.skipped += 1;
                report.problems.push(format!("skipped {folder}: {reason}"));
            }
            Found::Ignored { folder } => report
                .lines
                .push(format!("ignored {folder}: no index.html or data.json")),
            Found::Package(p) => {
                for n in &p.notes {
                    report.lines.push(format!("note {}: {n}", p.uid));
                }
                match catalog::find_by_uid(db, &p.uid).await? {
                    Some((id, existing)) => {
                        catalog::update(db, id, &merge(Some(&existing), &p)).await?;
                        report.updated += 1;
                        report.lines.push(format!("updated {}", p.uid));
                    }
                    None => {
                        catalog::insert(db, &merge(None, &p), now).await?;
                        report.imported += 1;
                        report.lines.push(format!("imported {}", p.uid));
                    }
                }
            }
        }
    }
    Ok(report)
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

/// A name fit for messages: lossy UTF-8 with control characters escaped.
fn shown(name: &OsStr) -> String {
    name.to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Reads every direct sub-folder of `dir`, in name order.
pub fn scan(dir: &Path) -> io::Result<Vec<Found>> {
    let root = fs::canonicalize(dir)?;
    let mut entries: Vec<_> = fs::read_dir(&root)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    let mut found = Vec::new();
    for entry in entries {
        let os_name = entry.file_name();
        let folder = shown(&os_name);
        let skip = |reason: String| Found::Skipped {
            folder: folder.clone(),
            reason,
        };
        let Some(name) = os_name.to_str() else {
            // Only a folder that looks like a package is worth a report.
            if looks_like_package(&entry.path()) {
                found.push(skip("folder name is not valid UTF-8".into()));
            }
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        match read_folder(&root, &entry.path(), name) {
            Ok(Some(p)) => found.push(Found::Package(Box::new(p))),
            Ok(None) => {}
            Err(FolderError::NotPackage) => found.push(Found::Ignored { folder }),
            Err(FolderError::Bad(reason)) => found.push(skip(reason)),
        }
    }
    Ok(found)
}

fn looks_like_package(path: &Path) -> bool {
    path.join("index.html").exists() || path.join("data.json").exists()
}

enum FolderError {
    NotPackage,
    Bad(String),
}

impl From<String> for FolderError {
    fn from(s: String) -> Self {
        FolderError::Bad(s)
    }
}

/// One sub-folder: `Ok(None)` for anything that is not a folder (plain files in DIR).
fn read_folder(root: &Path, path: &Path, name: &str) -> Result<Option<Package>, FolderError> {
    let lmeta = fs::symlink_metadata(path).map_err(|e| format!("cannot read the folder: {e}"))?;
    let folder = if lmeta.file_type().is_symlink() {
        let target =
            fs::canonicalize(path).map_err(|_| "folder is a broken symlink".to_string())?;
        if !target.starts_with(root) || target == root {
            return Err(FolderError::Bad(
                "folder is a symlink leading outside the import folder".into(),
            ));
        }
        target
    } else {
        path.to_path_buf()
    };
    match fs::metadata(&folder) {
        Ok(m) if m.is_dir() => {}
        _ => return Ok(None),
    }
    let index = check_file(root, &folder.join("index.html"), "index.html")?;
    let data = check_file(root, &folder.join("data.json"), "data.json")?;
    if index.is_none() && data.is_none() {
        return Err(FolderError::NotPackage);
    }
    if name.chars().any(char::is_control) || !catalog::is_safe_relative(name) {
        return Err(FolderError::Bad(
            "folder name cannot be used in a URL (control characters, ':' or '\\')".into(),
        ));
    }
    let mut notes = Vec::new();
    let meta = match data {
        None => None,
        Some((file, len)) => {
            let bytes = read_limited(&file, len)?;
            let (meta, n) = parse_data_json(&bytes)?;
            notes.extend(n);
            Some(meta)
        }
    };
    Ok(Some(Package {
        uid: name.to_string(),
        has_index: index.is_some(),
        meta,
        notes,
    }))
}

/// A file of the package: `None` when absent; its canonical path and size when it is a
/// regular file inside `root`; an error otherwise.
fn check_file(root: &Path, path: &Path, what: &str) -> Result<Option<(PathBuf, u64)>, String> {
    let lmeta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {what}: {e}")),
    };
    let canonical = fs::canonicalize(path).map_err(|e| {
        if lmeta.file_type().is_symlink() {
            format!("{what} is a broken symlink")
        } else {
            format!("cannot read {what}: {e}")
        }
    })?;
    if !canonical.starts_with(root) {
        return Err(format!(
            "{what} is a symlink leading outside the import folder"
        ));
    }
    let meta = fs::metadata(&canonical).map_err(|e| format!("cannot read {what}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{what} is not a regular file"));
    }
    Ok(Some((canonical, meta.len())))
}

fn too_big(len: u64) -> String {
    format!("data.json is larger than 1 MiB ({len} bytes)")
}

fn read_limited(path: &Path, len: u64) -> Result<Vec<u8>, String> {
    if len > MAX_DATA_JSON {
        return Err(too_big(len));
    }
    let mut buf = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(MAX_DATA_JSON + 1).read_to_end(&mut buf))
        .map_err(|e| format!("cannot read data.json: {e}"))?;
    if buf.len() as u64 > MAX_DATA_JSON {
        return Err(too_big(buf.len() as u64));
    }
    Ok(buf)
}

/// Text fit for the database: no control characters but newlines and tabs (PostgreSQL
/// refuses NUL), trimmed.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(clean(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string list (`["a", "b"]`, or a lone string) as its non-empty items.
fn list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(scalar)
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        Value::Null => None,
        other => scalar(other).map(|s| vec![s]),
    }
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn instructor_name(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => {
            let title = o.get("title").and_then(scalar).unwrap_or_default();
            if !title.is_empty() {
                return Some(title);
            }
            let first = o.get("first_name").and_then(scalar).unwrap_or_default();
            let last = o.get("last_name").and_then(scalar).unwrap_or_default();
            let full = format!("{first} {last}").trim().to_string();
            (!full.is_empty()).then_some(full)
        }
        other => scalar(other).filter(|s| !s.is_empty()),
    }
}

/// A topic name usable in the comma-separated categories column.
fn topic_name(v: &Value) -> Option<String> {
    let s = scalar(v)?.replace(',', " ");
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty()).then_some(s)
}

/// Parses a `data.json`; returns its metadata and notes on fields that were ignored.
pub fn parse_data_json(bytes: &[u8]) -> Result<(Meta, Vec<String>), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text =
        std::str::from_utf8(bytes).map_err(|_| "data.json is not valid UTF-8".to_string())?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("data.json is not valid JSON ({e})"))?;
    let Value::Object(obj) = value else {
        return Err("data.json is not a JSON object".into());
    };
    let mut notes = Vec::new();
    let text_field = |name: &str| field(&obj, name).and_then(scalar);
    let joined = |name: &str| field(&obj, name).and_then(list).map(|l| l.join(", "));

    let instructor = field(&obj, "instructors").map(|v| match v {
        Value::Array(items) => items
            .iter()
            .filter_map(instructor_name)
            .collect::<Vec<_>>()
            .join(", "),
        other => instructor_name(other).unwrap_or_default(),
    });
    let categories = field(&obj, "topics").map(|v| {
        let mut set = BTreeSet::new();
        let paths: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for path in paths {
            match path {
                Value::Array(parts) => set.extend(parts.iter().filter_map(topic_name)),
                other => set.extend(topic_name(other)),
            }
        }
        set.into_iter().collect::<Vec<_>>().join(",")
    });
    let image_src = match field(&obj, "image_src").map(|v| (v, scalar(v))) {
        None => None,
        Some((_, Some(src))) => {
            let mut src = src.as_str();
            while let Some(rest) = src.strip_prefix("./") {
                src = rest;
            }
            if src.is_empty() || catalog::is_safe_relative(src) {
                Some(src.to_string())
            } else {
                notes.push(format!(
                    "image_src {:?} is not a path inside the package; no thumbnail taken",
                    src.chars().take(100).collect::<String>()
                ));
                None
            }
        }
        Some((_, None)) => {
            notes.push("image_src is not a string; no thumbnail taken".into());
            None
        }
    };
    let learning_resources = field(&obj, "learning_resource_types")
        .map(|v| serde_json::to_string(v).unwrap_or_default());
    let license_url = field(&obj, "course_image_metadata")
        .and_then(|m| m.get("license"))
        .and_then(scalar);

    let meta = Meta {
        title: text_field("course_title").filter(|t| !t.is_empty()),
        description: text_field("course_description"),
        instructor,
        course_number: text_field("primary_course_number"),
        term: text_field("term"),
        year: text_field("year"),
        level: joined("level"),
        department: joined("department_numbers"),
        categories,
        image_src,
        learning_resources,
        license_url,
    };
    Ok((meta, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_json_fields_as_the_original_reads_them() {
        let json = br#"{
            "course_title": "Seashore Ecology",
            "course_description": "Tides and\u0000 pools.",
            "instructors": [{"title": "Dr. Ada Reef"}, {"first_name": "Ben", "last_name": "Kelp"}, {"title": ""}],
            "primary_course_number": "GL.110",
            "term": "Spring",
            "year": 2025,
            "level": ["Undergraduate", "Graduate"],
            "department_numbers": ["GL", "Biology"],
            "topics": [["Science", "Biology", "Ecology"], ["Science", "Earth Science"], ["Oceans, Coasts"]],
            "image_src": "./././thumb.png",
            "learning_resource_types": ["Lecture Notes", "Problem Sets"],
            "course_image_metadata": {"license": "https://creativecommons.org/licenses/by-sa/4.0/"}
        }"#;
        let (m, notes) = parse_data_json(json).unwrap();
        assert!(notes.is_empty());
        assert_eq!(m.title.as_deref(), Some("Seashore Ecology"));
        assert_eq!(m.description.as_deref(), Some("Tides and pools."));
        assert_eq!(m.instructor.as_deref(), Some("Dr. Ada Reef, Ben Kelp"));
        assert_eq!(m.year.as_deref(), Some("2025"));
        assert_eq!(m.level.as_deref(), Some("Undergraduate, Graduate"));
        assert_eq!(m.department.as_deref(), Some("GL, Biology"));
        assert_eq!(
            m.categories.as_deref(),
            Some("Biology,Earth Science,Ecology,Oceans Coasts,Science")
        );
        assert_eq!(m.image_src.as_deref(), Some("thumb.png"));
        assert_eq!(
            m.learning_resources.as_deref(),
            Some(r#"["Lecture Notes","Problem Sets"]"#)
        );
        assert_eq!(
            m.license_url.as_deref(),
            Some("https://creativecommons.org/licenses/by-sa/4.0/")
        );
    }

    #[test]
    fn absent_fields_stay_unknown_and_bad_files_are_errors() {
        let (m, _) = parse_data_json(b"\xEF\xBB\xBF{\"course_title\": \"\"}").unwrap();
        assert_eq!(m, Meta::default());
        assert!(
            parse_data_json(b"{nope")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            parse_data_json(b"[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            parse_data_json(b"{\"a\": \"\xff\"}")
                .unwrap_err()
                .contains("UTF-8")
        );
        let (m, notes) = parse_data_json(br#"{"image_src": "../../etc/passwd"}"#).unwrap();
        assert_eq!(m.image_src, None);
        assert_eq!(notes.len(), 1);
    }

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
