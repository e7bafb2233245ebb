//! The checks made on an uploaded zip before anything is extracted: the entry count (read
//! from the end-of-central-directory records first, so a zip claiming millions of entries
//! is refused before they are parsed), each entry's name (no `..`, no absolute path, no
//! backslash, no control character), type (files and folders only: no symlink, device or
//! other special file), compression (stored or deflated), the declared sizes (10 GiB in
//! all, a ratio of 100), the package root (one top-level folder, or files at the root),
//! its `index.html` or `data.json`, and `data.json` itself.

use std::{
    collections::{BTreeSet, HashSet},
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use zip::{CompressionMethod, ZipArchive};

use super::{Failure, MAX_ENTRIES, MAX_EXTRACTED, MAX_RATIO, folder::sanitise, refused};
use crate::catalog::import::{MAX_DATA_JSON, parse_data_json};

/// What to extract, and where.
#[derive(Debug)]
pub struct Plan {
    /// The package's folder name under `CONTENT_DIR/courses`.
    pub folder: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug)]
pub struct Entry {
    /// The entry's index in the zip.
    pub index: usize,
    /// Its path inside the package folder (plain segments only).
    pub path: PathBuf,
    pub dir: bool,
    /// The declared uncompressed size.
    pub size: u64,
}

/// Folders some zip tools add that are no part of the package.
const JUNK: &[&str] = &["__MACOSX"];

/// An entry name as shown in a message: escaped, at most 100 characters.
pub fn shown(name: &str) -> String {
    let s: String = name.chars().take(100).collect::<String>();
    format!("{:?}", s)
}

/// The segments of an entry name, and whether it names a folder (a trailing `/`).
fn segments(name: &str) -> Result<(Vec<String>, bool), Failure> {
    let bad = |why: &str| {
        refused(format!(
            "The zip entry {} {why}; nothing was extracted.",
            shown(name)
        ))
    };
    if name.chars().any(char::is_control) {
        return bad("has control characters in its name");
    }
    if name.contains('\\') {
        return bad("has a backslash in its name");
    }
    if name.starts_with('/') {
        return bad("is an absolute path");
    }
    let dir = name.ends_with('/');
    let mut out = Vec::new();
    for (i, seg) in name.split('/').enumerate() {
        match seg {
            "" | "." => continue,
            ".." => return bad("leads outside the package (\"..\")"),
            s if i == 0 && s.len() == 2 && s.ends_with(':') => {
                return bad("is an absolute path (a drive letter)");
            }
            s if s.len() > 255 => return bad("has a name segment over 255 bytes"),
            s => out.push(s.to_string()),
        }
    }
    if name.len() > 4096 {
        return bad("has a name over 4096 bytes");
    }
    Ok((out, dir))
}

/// The file type bits of a Unix mode.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// Reads the entry counts and central directory sizes every end-of-central-directory
/// record in the zip's tail claims (a ZIP64 one too), and refuses the zip when any claims
/// more than `MAX_ENTRIES` entries.
fn check_directory_claims(file: &mut File, len: u64) -> Result<(), Failure> {
    let tail_len = len.min(22 + 65535 + 20);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len))?;
    file.read_exact(&mut tail)?;
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as u64;
    let u32_at =
        |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64;
    let too_many = || refused(format!("The zip has more than {MAX_ENTRIES} entries."));
    let mut found = false;
    for at in (0..tail.len().saturating_sub(21)).rev() {
        if tail[at..at + 4] != [0x50, 0x4b, 0x05, 0x06] {
            continue;
        }
        found = true;
        let entries = u16_at(&tail, at + 10);
        if entries != 0xFFFF && entries as usize > MAX_ENTRIES {
            return too_many();
        }
        // A ZIP64 locator sits right before the record.
        if at >= 20 && tail[at - 20..at - 16] == [0x50, 0x4b, 0x06, 0x07] {
            let offset = u32_at(&tail, at - 12) | (u32_at(&tail, at - 8) << 32);
            if offset.checked_add(56).is_some_and(|end| end <= len) {
                let mut rec = [0u8; 56];
                file.seek(SeekFrom::Start(offset))?;
                file.read_exact(&mut rec)?;
                if rec[..4] == [0x50, 0x4b, 0x06, 0x06] {
                    let total = u32_at(&rec, 32) | (u32_at(&rec, 36) << 32);
                    if total > MAX_ENTRIES as u64 {
                        return too_many();
                    }
                }
            }
        }
    }
    if !found {
        return refused("The file is not a zip archive.");
    }
    Ok(())
}

/// Checks the zip at `path` (`len` bytes, uploaded as `upload_name`) and plans its
/// extraction; refuses it with the reason when any check fails.
pub fn inspect(path: &Path, len: u64, upload_name: &str) -> Result<Plan, Failure> {
    let mut file = File::open(path)?;
    check_directory_claims(&mut file, len)?;
    file.seek(SeekFrom::Start(0))?;
    let Ok(mut zip) = ZipArchive::new(file) else {
        return refused("The file is not a valid zip archive.");
    };
    if zip.len() > MAX_ENTRIES {
        return refused(format!("The zip has more than {MAX_ENTRIES} entries."));
    }
    let mut raw = Vec::with_capacity(zip.len());
    let mut declared: u64 = 0;
    // The first entry that compresses more than `MAX_RATIO` to 1 (over 1 MiB).
    let mut bombs: Option<String> = None;
    for index in 0..zip.len() {
        let Ok(f) = zip.by_index_raw(index) else {
            return refused("The zip archive is damaged.");
        };
        let Ok(name) = f.name().map(|n| n.into_owned()) else {
            return refused("A zip entry's name is not valid text.");
        };
        let (segs, mut dir) = segments(&name)?;
        let bad = |why: &str| {
            refused(format!(
                "The zip entry {} {why}; nothing was extracted.",
                shown(&name)
            ))
        };
        if f.encrypted() {
            return bad("is encrypted");
        }
        match f.unix_mode().map(|m| m & S_IFMT) {
            None | Some(0) | Some(S_IFREG) => {}
            Some(S_IFDIR) => dir = true,
            Some(S_IFLNK) => return bad("is a symbolic link"),
            Some(_) => return bad("is a device or other special file"),
        }
        if !dir
            && !matches!(
                f.compression(),
                CompressionMethod::Stored | CompressionMethod::Deflated
            )
        {
            return bad("uses a compression method other than stored or deflated");
        }
        let size = if dir { 0 } else { f.size() };
        declared = declared.saturating_add(size);
        if size > 1 << 20 && size / f.compressed_size().max(1) > MAX_RATIO {
            bombs.get_or_insert(shown(&name));
        }
        if segs.is_empty() || JUNK.contains(&segs[0].as_str()) {
            continue;
        }
        raw.push((index, segs, dir, size));
    }
    if declared > MAX_EXTRACTED {
        return refused(format!(
            "The zip would extract to more than {} GiB.",
            MAX_EXTRACTED >> 30
        ));
    }
    if let Some(name) = bombs {
        return refused(format!(
            "The zip entry {name} compresses more than {MAX_RATIO} to 1; nothing was extracted."
        ));
    }
    if declared / len.max(1) > MAX_RATIO {
        return refused(format!(
            "The zip would extract to more than {MAX_RATIO} times its size."
        ));
    }
    if raw.is_empty() {
        return refused("The zip is empty.");
    }
    // One top-level folder holding everything is the package; else the zip's root is.
    let tops: BTreeSet<&str> = raw.iter().map(|(_, s, _, _)| s[0].as_str()).collect();
    let wrapped = tops.len() == 1 && raw.iter().all(|(_, s, dir, _)| s.len() > 1 || *dir);
    let (folder, strip) = if wrapped {
        let top = tops.first().copied().unwrap_or_default();
        (sanitise(top), 1)
    } else {
        let base = upload_name.rsplit(['/', '\\']).next().unwrap_or_default();
        let stem = base
            .get(..base.len().saturating_sub(4))
            .filter(|_| base.to_ascii_lowercase().ends_with(".zip"))
            .unwrap_or(base);
        (sanitise(stem), 0)
    };
    let Some(folder) = folder else {
        return refused("No folder name can be made from the zip's name or its top-level folder.");
    };
    let mut files = HashSet::new();
    let mut dirs = HashSet::new();
    let mut entries = Vec::with_capacity(raw.len());
    for (index, segs, dir, size) in raw {
        let path: PathBuf = segs[strip..].iter().collect();
        if path.as_os_str().is_empty() {
            continue;
        }
        for a in path.ancestors().skip(1) {
            if !a.as_os_str().is_empty() {
                dirs.insert(a.to_path_buf());
            }
        }
        if dir {
            dirs.insert(path.clone());
        } else if !files.insert(path.clone()) {
            return refused(format!(
                "The zip holds {} twice; nothing was extracted.",
                shown(&path.to_string_lossy())
            ));
        }
        entries.push(Entry {
            index,
            path,
            dir,
            size,
        });
    }
    if let Some(clash) = files.iter().find(|f| dirs.contains(*f)) {
        return refused(format!(
            "The zip holds {} as both a file and a folder.",
            shown(&clash.to_string_lossy())
        ));
    }
    let has = |n: &str| files.contains(Path::new(n));
    if !has("index.html") && !has("data.json") {
        return refused("The package has no index.html or data.json at its root.");
    }
    if let Some(e) = entries.iter().find(|e| e.path == Path::new("data.json")) {
        check_data_json(&mut zip, e)?;
    }
    Ok(Plan { folder, entries })
}

/// Reads and parses the package's `data.json` (at most 1 MiB), as the import will.
fn check_data_json(zip: &mut ZipArchive<File>, e: &Entry) -> Result<(), Failure> {
    if e.size > MAX_DATA_JSON {
        return refused("data.json is larger than 1 MiB.");
    }
    let mut bytes = Vec::new();
    let read = zip.by_index(e.index).map_err(|_| ()).and_then(|f| {
        f.take(MAX_DATA_JSON + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| ())
    });
    if read.is_err() || bytes.len() as u64 > MAX_DATA_JSON {
        return refused("data.json cannot be read from the zip.");
    }
    match parse_data_json(&bytes) {
        Ok(_) => Ok(()),
        Err(reason) => refused(format!("The package cannot be imported: {reason}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        let ok = |n: &str| segments(n).map(|(s, d)| (s.join("/"), d)).ok();
        assert_eq!(ok("a/b.html"), Some(("a/b.html".into(), false)));
        assert_eq!(ok("a/./b//c/"), Some(("a/b/c".into(), true)));
        for bad in [
            "../x",
            "a/../../x",
            "a/..",
            "/etc/passwd",
            "C:/x",
            "a\\b",
            "a\u{7}b",
        ] {
            assert!(segments(bad).is_err(), "{bad:?}");
        }
    }
}
