//! Package folders on disk: the folder name an upload gets, the hidden temporary folder it
//! is extracted into (removed when dropped), the one rename that puts it in place (an
//! atomic exchange when it replaces a folder, where the filesystem offers one), and moving
//! a package folder out of the way before it is deleted. Nothing here follows a symlink:
//! renames and removals act on the directory entry itself.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use super::{Failure, refused};

/// The longest folder name an upload gets.
const MAX_NAME: usize = 100;

/// A folder name fit for `CONTENT_DIR/courses/<name>` and a URL: ASCII letters, digits,
/// `-`, `_` and `.` (anything else becomes `-`), no leading `.` or `-`, at most 100
/// characters; `None` when nothing is left.
pub fn sanitise(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in raw.trim().chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            c
        } else {
            '-'
        };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    let out = out
        .trim_start_matches(['.', '-'])
        .trim_end_matches(['-', '.']);
    let out: String = out.chars().take(MAX_NAME).collect();
    (!out.is_empty() && crate::catalog::is_safe_relative(&out)).then_some(out)
}

/// A hidden name under `root` that does not exist yet.
fn hidden(root: &Path, kind: &str) -> PathBuf {
    root.join(format!(".{kind}-{:016x}", rand::random::<u64>()))
}

/// Removes whatever `path` names (a folder and its contents, a file or a symlink itself).
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn remove_logged(path: &Path) {
    if let Err(e) = remove_any(path) {
        tracing::error!(event = "course_folder_cleanup_failed", path = %path.display(), error = %e);
    }
}

/// A hidden temporary folder under `CONTENT_DIR/courses` (same filesystem as its final
/// place), removed with its contents when dropped.
pub struct Staged {
    path: PathBuf,
}

impl Staged {
    pub fn create(root: &Path) -> io::Result<Staged> {
        let path = hidden(root, "extract");
        fs::create_dir(&path)?;
        Ok(Staged { path })
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        remove_logged(&self.path);
    }
}

/// A package folder just put in place, with the folder it replaced (now at a hidden path).
pub struct Placed {
    target: PathBuf,
    /// The replaced folder, where it can be put back from.
    pub previous: Option<Staged>,
}

impl Placed {
    /// Keeps the new folder; removes the replaced one.
    pub fn commit(self) {
        drop(self.previous);
    }

    /// Takes the new folder away again and puts the replaced one back.
    pub fn rollback(self) {
        let away = hidden(self.target.parent().unwrap_or(Path::new(".")), "trash");
        match self.previous {
            Some(previous) => {
                if let Err(e) = exchange(&previous.path, &self.target) {
                    tracing::error!(event = "course_folder_restore_failed", path = %self.target.display(), error = %e);
                }
                // `previous` now holds the new folder and removes it.
            }
            None => {
                if fs::rename(&self.target, &away).is_ok() {
                    remove_logged(&away);
                }
            }
        }
    }
}

/// Renames the extracted folder to `root/name`. Without `replace`, an existing entry of
/// that name refuses it (checked by the rename itself, so two uploads cannot both win);
/// with `replace`, an existing entry is swapped with it in one step and kept until the
/// import has succeeded.
pub fn place(root: &Path, staged: Staged, name: &str, replace: bool) -> Result<Placed, Failure> {
    let target = root.join(name);
    let exists = fs::symlink_metadata(&target).is_ok();
    if replace && exists {
        exchange(&staged.path, &target)?;
        // The staged path now names the replaced folder.
        return Ok(Placed {
            target,
            previous: Some(staged),
        });
    }
    match rename_noreplace(&staged.path, &target) {
        Ok(()) => {
            std::mem::forget(staged);
            Ok(Placed {
                target,
                previous: None,
            })
        }
        Err(e)
            if e.kind() == io::ErrorKind::AlreadyExists
                || e.raw_os_error() == Some(libc::ENOTEMPTY) =>
        {
            refused(format!(
                "A folder named \"{name}\" already exists in the courses folder."
            ))
        }
        Err(e) => Err(Failure::Io(e)),
    }
}

#[cfg(target_os = "linux")]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::{ffi::CString, os::unix::ffi::OsStrExt};
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path has a NUL byte"))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are NUL-terminated C strings that outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the kernel or filesystem lacks a `renameat2` flag.
#[cfg(target_os = "linux")]
fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EINVAL))
}

/// Renames `from` to `to`, failing with `AlreadyExists` when `to` exists.
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match renameat2(from, to, libc::RENAME_NOREPLACE) {
        Err(e) if unsupported(&e) => {}
        other => return other,
    }
    // Without the flag: check, then rename (a plain rename would replace an empty folder).
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

/// Swaps the entries `a` and `b` (both exist): atomically with `RENAME_EXCHANGE`, else in
/// two renames with a moment in between where `b` is missing.
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match renameat2(a, b, libc::RENAME_EXCHANGE) {
        Err(e) if unsupported(&e) => {}
        other => return other,
    }
    let parent = b.parent().unwrap_or(Path::new("."));
    let aside = hidden(parent, "swap");
    fs::rename(b, &aside)?;
    if let Err(e) = fs::rename(a, b) {
        let _ = fs::rename(&aside, b);
        return Err(e);
    }
    fs::rename(&aside, a)
}

/// A package folder moved to a hidden name before its course is deleted: `purge` removes
/// it, `restore` puts it back (when the deletion failed).
pub struct Trashed {
    from: PathBuf,
    at: PathBuf,
}

impl Trashed {
    pub fn purge(self) -> io::Result<()> {
        remove_any(&self.at)
    }
    pub fn restore(self) -> io::Result<()> {
        fs::rename(&self.at, &self.from)
    }
}

/// Moves `root/name` out of the way, if there is such an entry. `name` must be one plain
/// path segment (a course's folder is a direct child of `root`); a symlink is moved (and
/// later removed) as a link, never followed.
pub fn trash(root: &Path, name: &str) -> Result<Option<Trashed>, Failure> {
    if !crate::catalog::is_safe_relative(name) || name.contains('/') {
        return refused(
            "The course's folder name is not a plain folder name; its files were left alone.",
        );
    }
    let from = root.join(name);
    match fs::symlink_metadata(&from) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::Io(e)),
    }
    let at = hidden(root, "trash");
    fs::rename(&from, &at)?;
    Ok(Some(Trashed { from, at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names() {
        assert_eq!(sanitise("intro-rust").as_deref(), Some("intro-rust"));
        assert_eq!(
            sanitise("My Course (2024)").as_deref(),
            Some("My-Course-2024")
        );
        assert_eq!(sanitise("..hidden").as_deref(), Some("hidden"));
        assert_eq!(sanitise("6.001").as_deref(), Some("6.001"));
        assert_eq!(sanitise("café").as_deref(), Some("caf"));
        for bad in ["", "..", "...", "---", "/", "\u{0}"] {
            assert_eq!(sanitise(bad), None, "{bad:?}");
        }
        assert_eq!(sanitise(&"a".repeat(300)).map(|s| s.len()), Some(100));
    }

    #[test]
    fn place_refuses_an_existing_folder_and_swaps_on_replace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("c")).unwrap();
        fs::write(root.join("c/old.txt"), "old").unwrap();
        let staged = Staged::create(root).unwrap();
        fs::write(staged.path().join("new.txt"), "new").unwrap();
        let Err(Failure::Refused(_)) = place(root, staged, "c", false) else {
            panic!("an existing folder must refuse")
        };
        // The refused staging folder removed itself.
        let names: Vec<_> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["c"]);

        let staged = Staged::create(root).unwrap();
        fs::write(staged.path().join("new.txt"), "new").unwrap();
        let placed = place(root, staged, "c", true).unwrap();
        assert!(root.join("c/new.txt").exists());
        placed.rollback();
        assert!(root.join("c/old.txt").exists() && !root.join("c/new.txt").exists());

        let staged = Staged::create(root).unwrap();
        fs::write(staged.path().join("new.txt"), "new").unwrap();
        place(root, staged, "c", true).unwrap().commit();
        assert!(root.join("c/new.txt").exists() && !root.join("c/old.txt").exists());
        let names: Vec<_> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["c"]);
    }

    #[test]
    fn trash_never_follows_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("keep.txt"), "keep").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        trash(dir.path(), "link").unwrap().unwrap().purge().unwrap();
        assert!(outside.path().join("keep.txt").exists());
        assert!(fs::symlink_metadata(dir.path().join("link")).is_err());
        assert!(trash(dir.path(), "missing").unwrap().is_none());
        assert!(matches!(
            trash(dir.path(), "../x"),
            Err(Failure::Refused(_))
        ));
        assert!(matches!(
            trash(dir.path(), ".hidden"),
            Err(Failure::Refused(_))
        ));
    }
}
