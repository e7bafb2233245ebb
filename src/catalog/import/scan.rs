//! Reading DIR: which sub-folders are packages, and reading each one safely (no symlink
//! out of DIR, bounded `data.json`).

use std::{
    ffi::OsStr,
    fs,
    io::{self, Read as _},
    path::{Path, PathBuf},
};

use super::{Found, MAX_DATA_JSON, Package, parse_data_json};

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

/// Reads the one direct sub-folder `name` of `dir` (an uploaded package, just installed).
pub fn scan_one(dir: &Path, name: &str) -> io::Result<Found> {
    let root = fs::canonicalize(dir)?;
    let folder = name.to_string();
    Ok(match read_folder(&root, &root.join(name), name) {
        Ok(Some(p)) => Found::Package(Box::new(p)),
        Ok(None) | Err(FolderError::NotPackage) => Found::Ignored { folder },
        Err(FolderError::Bad(reason)) => Found::Skipped { folder, reason },
    })
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
    if name.chars().any(char::is_control) || !crate::catalog::is_safe_relative(name) {
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
