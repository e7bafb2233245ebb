//! `backup.recent`: when BACKUP_DIR is set, it must hold a backup file (any regular file
//! whose name does not start with a dot) modified within the last day.

use std::{
    path::Path,
    time::{Duration, SystemTime},
};

use super::Report;

const DAY: Duration = Duration::from_secs(24 * 3600);
const WHAT: &str = "recent backup";

/// The age of the newest backup file in `dir`, or why none can be read.
fn newest(dir: &Path) -> std::io::Result<Option<Duration>> {
    let entries = std::fs::read_dir(dir)?;
    let now = SystemTime::now();
    let mut best: Option<Duration> = None;
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let Ok(modified) = meta.modified() else {
            continue;
        };
        let age = now.duration_since(modified).unwrap_or_default();
        best = Some(best.map_or(age, |b| b.min(age)));
    }
    Ok(best)
}

pub(super) fn check_backups(dir: Option<&Path>, r: &mut Report) {
    let Some(dir) = dir else {
        return;
    };
    match newest(dir) {
        Err(e) => r.warn_plain(
            "backup.recent",
            WHAT,
            &format!("cannot read BACKUP_DIR {} ({e})", dir.display()),
            &format!("cannot read BACKUP_DIR {}", dir.display()),
        ),
        Ok(None) => r.warn(
            "backup.recent",
            WHAT,
            format!(
                "BACKUP_DIR {} holds no backup file (see `gleh backup`, docs/deploy.md)",
                dir.display()
            ),
        ),
        Ok(Some(age)) if age > DAY => r.warn(
            "backup.recent",
            WHAT,
            format!(
                "the newest file in BACKUP_DIR {} is {} hours old (more than a day)",
                dir.display(),
                age.as_secs() / 3600
            ),
        ),
        Ok(Some(age)) => r.pass(
            "backup.recent",
            WHAT,
            format!(
                "newest file in {} is {} minutes old",
                dir.display(),
                age.as_secs() / 60
            ),
        ),
    }
}
