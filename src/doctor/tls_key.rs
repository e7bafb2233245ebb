//! The private key file: `tls.key-perms` (no access for group or others) and `tls.key-owner`
//! (owned by the user running doctor, who should be the service's user).

use std::{
    fs,
    os::unix::fs::{MetadataExt as _, PermissionsExt as _},
};

use super::Report;

/// The effective uid of this process.
fn running_uid() -> Option<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            if let Some(rest) = line.strip_prefix("Uid:") {
                // real, effective, saved, filesystem
                if let Some(uid) = rest.split_whitespace().nth(1).and_then(|u| u.parse().ok()) {
                    return Some(uid);
                }
            }
        }
    }
    // Elsewhere: a file we create is owned by us.
    let probe = std::env::temp_dir().join(format!("gleh-doctor-uid-{}", std::process::id()));
    let uid = fs::File::create(&probe)
        .and_then(|f| f.metadata())
        .map(|m| m.uid())
        .ok();
    let _ = fs::remove_file(&probe);
    uid
}

pub(super) fn check_key_file(key_path: &str, r: &mut Report) {
    let Ok(meta) = fs::metadata(key_path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        r.pass(
            "tls.key-perms",
            "key file permissions",
            format!("mode {mode:04o}"),
        );
    } else {
        r.fail(
            "tls.key-perms",
            "key file permissions",
            format!(
                "{key_path} has mode {mode:04o}: group or others have access — chmod 400 {key_path}"
            ),
        );
    }
    const OWNER: &str = "key file owner";
    match running_uid() {
        None => r.warn(
            "tls.key-owner",
            OWNER,
            "cannot tell which user runs doctor",
        ),
        Some(uid) if uid == meta.uid() => {
            r.pass("tls.key-owner", OWNER, format!("owned by uid {uid}, the running user"))
        }
        Some(uid) => r.fail(
            "tls.key-owner",
            OWNER,
            format!(
                "{key_path} is owned by uid {}, not by the running user (uid {uid}): run doctor as the service's user, and make that user own the key",
                meta.uid()
            ),
        ),
    }
}
