//! Stored avatar files: generated names under `DATA_DIR/avatars/`, written atomically and
//! removed only when the name is one this module made.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

/// A new random file name: 32 lower-case hex characters and the extension.
pub fn new_name(ext: &str) -> String {
    let mut raw = [0u8; 16];
    rand::fill(&mut raw[..]);
    format!("{}.{ext}", hex::encode(raw))
}

/// Is `name` one this module generates? Only such names are served or deleted.
pub fn is_stored_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && matches!(ext, "png" | "jpg")
}

/// The Content-Type of a stored avatar.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    }
}

/// Where avatars are stored.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("avatars")
}

/// Writes `bytes` as `dir/name` (creating `dir`), through a temporary file and a rename so
/// a reader never sees half a file. Blocking.
pub fn store(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Removes what a killed process can leave in the avatars folder: the temporary file of an
/// unfinished write (`.<name>.tmp`), and generated files no account names (stored but not
/// yet recorded, or replaced but not yet deleted). Only names this module makes are
/// touched. Returns how many files were removed. Run at start, before serving; with several
/// instances sharing `DATA_DIR`, one instance's start can remove a file another is about to
/// record (that upload's avatar then shows as the default picture). Blocking.
pub fn sweep(dir: &Path, referenced: &std::collections::HashSet<String>) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let partial = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .is_some_and(is_stored_name);
        let orphan = is_stored_name(&name) && !referenced.contains(&name);
        if partial || orphan {
            match std::fs::remove_file(dir.join(&name)) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

/// Deletes `dir/name` if `name` is a generated avatar name; a missing file is fine. Blocking.
pub fn remove(dir: &Path, name: &str) -> std::io::Result<()> {
    if !is_stored_name(name) {
        return Ok(());
    }
    match std::fs::remove_file(dir.join(name)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Deletes a user's stored avatar file, if any (after the account row is gone).
pub async fn remove_stored(data_dir: &Path, avatar: &str) {
    discard(dir(data_dir), avatar.to_string()).await;
}

/// Deletes a stored avatar off the async workers and waits for it, so an answer is sent
/// only once the file it replaced is gone; a failure is logged, never shown.
pub async fn discard(dir: PathBuf, name: String) {
    let removed = tokio::task::spawn_blocking({
        let name = name.clone();
        move || remove(&dir, &name)
    })
    .await;
    if let Ok(Err(e)) = removed {
        tracing::warn!(event = "avatar_remove_failed", file = %name, error = %e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = new_name("png");
        assert!(is_stored_name(&n), "{n}");
        assert_ne!(n, new_name("png"));
        assert!(is_stored_name(&new_name("jpg")));
        for bad in [
            "default_avatar.png",
            "../x.png",
            "0123456789abcdef0123456789abcdef.gif",
            "0123456789ABCDEF0123456789abcdef.png",
            "0123456789abcdef0123456789abcdef.png.png",
            "0123456789abcdef0123456789abcde.png",
            "",
        ] {
            assert!(!is_stored_name(bad), "{bad}");
        }
    }

    #[test]
    fn sweep_removes_partial_and_unnamed_files_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (kept, orphan) = (new_name("png"), new_name("jpg"));
        for n in [&kept, &orphan] {
            store(dir, n, b"x").unwrap();
        }
        let partial = format!(".{}.tmp", new_name("png"));
        for other in [partial.as_str(), "notes.txt", ".keep"] {
            std::fs::write(dir.join(other), b"x").unwrap();
        }
        let referenced = std::collections::HashSet::from([kept.clone()]);
        assert_eq!(sweep(dir, &referenced).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![".keep".to_string(), kept, "notes.txt".to_string()]
        );
        assert_eq!(sweep(&dir.join("missing"), &referenced).unwrap(), 0);
    }

    #[test]
    fn store_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let avatars = super::dir(dir.path());
        let name = new_name("png");
        store(&avatars, &name, b"abc").unwrap();
        assert_eq!(std::fs::read(avatars.join(&name)).unwrap(), b"abc");
        remove(&avatars, &name).unwrap();
        assert!(!avatars.join(&name).exists());
        remove(&avatars, &name).unwrap();
        // Names this module did not generate are never touched.
        std::fs::write(avatars.join("keep.png"), b"x").unwrap();
        remove(&avatars, "keep.png").unwrap();
        assert!(avatars.join("keep.png").exists());
    }
}
