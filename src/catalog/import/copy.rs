//! `gleh courses import DIR --copy`: packages from a folder the server does not serve are
//! copied into `CONTENT_DIR/courses` first, each through a hidden staging folder and the
//! one rename an uploaded package gets (`catalog/upload/folder.rs`), so a half-copied
//! package is never served and a package of the same name is replaced in one step.
//!
//! The walk is written here rather than taken from a copy crate because of its symlink
//! rule, which none offers: only folders and regular files are copied; a symlink is copied
//! as the file it names when that file lies inside the package's own folder, and left out
//! (with a note) otherwise, so nothing from outside the package becomes servable.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use super::{Report, scan, upsert};
use crate::{
    catalog::upload::{Failure, Placed, Staged, place},
    db::Db,
};

/// Scans `dir`, copies every readable package into `served` (created if missing) and
/// upserts it; a package whose copy or database write fails is put back as it was.
pub async fn copy_in(db: &Db, dir: &Path, served: &Path, now: i64) -> anyhow::Result<Report> {
    fs::create_dir_all(served)?;
    let d = dir.to_path_buf();
    let found = tokio::task::spawn_blocking(move || scan(&d)).await??;
    let mut report = Report::default();
    for f in found {
        let Some(p) = report.package(f) else {
            continue;
        };
        let (from, root, uid) = (dir.join(&p.uid), served.to_path_buf(), p.uid.clone());
        let (placed, copied) =
            tokio::task::spawn_blocking(move || copy_one(&from, &root, &uid)).await??;
        report
            .lines
            .push(format!("copied {} ({} bytes)", p.uid, copied.bytes));
        for n in copied.notes.iter().chain(&p.notes) {
            report.lines.push(format!("note {}: {n}", p.uid));
        }
        let new = match upsert(db, &p, now).await {
            Ok(new) => new,
            Err(e) => {
                let _ = tokio::task::spawn_blocking(move || placed.rollback()).await;
                return Err(e.into());
            }
        };
        let _ = tokio::task::spawn_blocking(move || placed.commit()).await;
        report.upserted(&p.uid, new);
    }
    Ok(report)
}

/// What one package's copy did.
#[derive(Debug, Default)]
pub struct Copied {
    pub bytes: u64,
    /// Entries left out, and why.
    pub notes: Vec<String>,
}

/// Copies the package folder `from` to `root/uid` (replacing a folder of that name).
fn copy_one(from: &Path, root: &Path, uid: &str) -> anyhow::Result<(Placed, Copied)> {
    let staged = Staged::create(root)?;
    let copied = copy_tree(from, staged.path())?;
    match place(root, staged, uid, true) {
        Ok(placed) => Ok((placed, copied)),
        Err(Failure::Refused(m)) => Err(anyhow::anyhow!(m)),
        Err(Failure::Io(e)) => Err(e.into()),
    }
}

/// Copies the contents of the folder `src` into the existing empty folder `dst`.
pub fn copy_tree(src: &Path, dst: &Path) -> io::Result<Copied> {
    let top = fs::canonicalize(src)?;
    let mut copied = Copied::default();
    walk(&top, &top, dst, &mut copied)?;
    Ok(copied)
}

fn walk(top: &Path, dir: &Path, dst: &Path, copied: &mut Copied) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let shown = || relative(top, &from);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            fs::create_dir(&to)?;
            walk(top, &from, &to, copied)?;
        } else if kind.is_file() {
            copied.bytes += fs::copy(&from, &to)?;
        } else if kind.is_symlink() {
            match fs::canonicalize(&from) {
                Ok(target) if target.starts_with(top) && target.is_file() => {
                    copied.bytes += fs::copy(&target, &to)?;
                }
                Ok(target) if target.starts_with(top) => copied
                    .notes
                    .push(format!("left out {}: a link to a folder", shown())),
                _ => copied.notes.push(format!(
                    "left out {}: a link leading outside the package",
                    shown()
                )),
            }
        } else {
            copied
                .notes
                .push(format!("left out {}: not a regular file", shown()));
        }
    }
    Ok(())
}

fn relative(top: &Path, path: &Path) -> String {
    path.strip_prefix(top)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_and_inside_links_leaves_out_outside_links() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("pkg");
        fs::create_dir_all(src.join("static")).unwrap();
        fs::write(src.join("index.html"), "<p>hi</p>").unwrap();
        fs::write(src.join("static/a.txt"), "abc").unwrap();
        fs::write(t.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(src.join("static/a.txt"), src.join("alias.txt")).unwrap();
        std::os::unix::fs::symlink(t.path().join("secret.txt"), src.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink(src.join("static"), src.join("dirlink")).unwrap();
        let dst = t.path().join("out");
        fs::create_dir(&dst).unwrap();
        let c = copy_tree(&src, &dst).unwrap();
        assert_eq!(fs::read_to_string(dst.join("static/a.txt")).unwrap(), "abc");
        assert_eq!(fs::read_to_string(dst.join("alias.txt")).unwrap(), "abc");
        assert!(
            !fs::symlink_metadata(dst.join("alias.txt"))
                .unwrap()
                .is_symlink()
        );
        assert!(fs::symlink_metadata(dst.join("escape.txt")).is_err());
        assert!(fs::symlink_metadata(dst.join("dirlink")).is_err());
        assert_eq!(c.bytes, 9 + 3 + 3);
        assert_eq!(
            c.notes,
            [
                "left out dirlink: a link to a folder",
                "left out escape.txt: a link leading outside the package"
            ]
        );
    }
}
