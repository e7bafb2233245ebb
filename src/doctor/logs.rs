//! Logs: `logs.writable` (LOG_DIR accepts new files and its app.log and access.log can be
//! appended to, or, before it exists, its parent lets gleh create it); then `logs.space`
//! (`logs_space.rs`).

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use super::{Report, logs_space::check_space};
use crate::config::Config;

/// Creates and deletes a probe file in `dir`.
fn probe_dir(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".gleh-doctor-probe-{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    let written = file.write_all(b"probe\n");
    drop(file);
    let removed = fs::remove_file(&probe);
    written.and(removed)
}

const WHAT: &str = "LOG_DIR writable";

pub(super) fn check_logs(config: &Config, r: &mut Report) {
    let Some(dir) = &config.log_dir else {
        return r.warn(
            "logs.writable",
            WHAT,
            "LOG_DIR is not set: logs go to stderr only (fine under systemd's journal; the checklist expects app.log and access.log)",
        );
    };
    if let Some(space_dir) = check_writable(dir, r) {
        check_space(&space_dir, r);
    }
}

/// `logs.writable`. Returns the directory whose file system holds the logs (LOG_DIR, or
/// where it will be made), or `None` when the check failed and the space check is moot.
fn check_writable(dir: &Path, r: &mut Report) -> Option<PathBuf> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => existing_dir(dir, r).then(|| dir.to_path_buf()),
        Ok(_) => {
            r.fail(
                "logs.writable",
                WHAT,
                format!("{} is not a directory", dir.display()),
            );
            None
        }
        // `gleh serve` creates LOG_DIR (as systemd's LogsDirectory= does); doctor does not.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing_dir(dir, r),
        Err(e) => {
            r.fail_plain(
                "logs.writable",
                WHAT,
                &format!(
                    "{} cannot be used ({e}): create it, owned by the service's user",
                    dir.display()
                ),
                &format!(
                    "{} cannot be used: create it, owned by the service's user",
                    dir.display()
                ),
            );
            None
        }
    }
}

/// An existing LOG_DIR accepts new files, and its logs can be appended to. False on a FAIL.
fn existing_dir(dir: &Path, r: &mut Report) -> bool {
    if let Err(e) = probe_dir(dir) {
        r.fail_plain(
            "logs.writable",
            WHAT,
            &format!("cannot create a file in {}: {e}", dir.display()),
            &format!("cannot create a file in {}", dir.display()),
        );
        return false;
    }
    for name in ["app.log", "access.log"] {
        let path = dir.join(name);
        if path.exists()
            && let Err(e) = fs::OpenOptions::new().append(true).open(&path)
        {
            r.fail_plain(
                "logs.writable",
                WHAT,
                &format!("{} exists but cannot be appended to: {e}", path.display()),
                &format!("{} exists but cannot be appended to", path.display()),
            );
            return false;
        }
    }
    r.pass(
        "logs.writable",
        WHAT,
        format!("{} accepts new files", dir.display()),
    );
    true
}

/// A LOG_DIR not made yet: its nearest existing ancestor must let gleh create it. Returns
/// that ancestor, or `None` on a FAIL.
fn missing_dir(dir: &Path, r: &mut Report) -> Option<PathBuf> {
    let Some(parent) = dir
        .ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && fs::metadata(a).is_ok())
        .map(Path::to_path_buf)
    else {
        r.fail(
            "logs.writable",
            WHAT,
            format!("{} cannot be created: no parent exists", dir.display()),
        );
        return None;
    };
    if !parent.is_dir() {
        r.fail(
            "logs.writable",
            WHAT,
            format!(
                "{} cannot be created: {} is not a directory",
                dir.display(),
                parent.display()
            ),
        );
        return None;
    }
    match probe_dir(&parent) {
        Ok(()) => r.pass(
            "logs.writable",
            WHAT,
            format!(
                "{} does not exist yet; gleh creates it at start ({} is writable)",
                dir.display(),
                parent.display()
            ),
        ),
        Err(_) => r.warn(
            "logs.writable",
            WHAT,
            format!(
                "{} does not exist and this user cannot create it in {}: create it, owned by the service's user (systemd's LogsDirectory= does)",
                dir.display(),
                parent.display()
            ),
        ),
    }
    Some(parent)
}
