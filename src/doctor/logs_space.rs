//! `logs.space`: free space on the file system that holds LOG_DIR, read from `df -Pk`.

use std::{path::Path, process::Command};

use super::Report;

/// The deployment checklist's "Disk space: at least 10GB" for logs.
pub(crate) const LOG_MIN_FREE_BYTES: u64 = 10_000_000_000;

/// Free bytes on the file system holding `dir`, from `df -Pk` (POSIX output).
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_df(&String::from_utf8_lossy(&out.stdout))
}

/// The "Available" column (1 KiB blocks) of `df -Pk`'s second line, in bytes. The file
/// system's name may contain spaces, so the numbers are found as the run
/// `total used available capacity%`.
fn parse_df(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let t: Vec<&str> = line.split_whitespace().collect();
    (1..t.len().saturating_sub(3)).find_map(|i| {
        let nums = t[i..i + 3]
            .iter()
            .all(|s| s.bytes().all(|b| b.is_ascii_digit()));
        if nums && t[i + 3].ends_with('%') {
            t[i + 2].parse::<u64>().ok().map(|kb| kb * 1024)
        } else {
            None
        }
    })
}

/// `logs.space`: free space on the file system of `dir`.
pub(super) fn check_space(dir: &Path, r: &mut Report) {
    const SPACE: &str = "LOG_DIR free space";
    let gb = |b: u64| b as f64 / 1e9;
    let free = free_bytes(dir);
    r.log_free_bytes = free;
    match free {
        None => r.warn(
            "logs.space",
            SPACE,
            format!(
                "cannot read the free space of {} (df failed)",
                dir.display()
            ),
        ),
        Some(b) if b >= LOG_MIN_FREE_BYTES => {
            r.pass("logs.space", SPACE, format!("{:.1} GB free", gb(b)))
        }
        Some(b) => r.warn(
            "logs.space",
            SPACE,
            format!(
                "{:.1} GB free on the file system of {}; the checklist asks for at least {:.0} GB",
                gb(b),
                dir.display(),
                gb(LOG_MIN_FREE_BYTES)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_output_is_parsed() {
        let out = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n\
                   /dev/sda1        102400000  50000000  52400000      49% /\n";
        assert_eq!(parse_df(out), Some(52_400_000 * 1024));
        let spaced = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                      my disk 100 40 60 40% /mnt/my disk\n";
        assert_eq!(parse_df(spaced), Some(60 * 1024));
        assert_eq!(parse_df("garbage"), None);
    }
}
