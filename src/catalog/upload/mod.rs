//! A course package uploaded as a `.zip` (docs/design.md "Admin panel", "Courses"): the
//! multipart body is streamed to a hidden temporary file inside `CONTENT_DIR/courses`
//! (`spool`), its central directory is checked before anything is extracted (`inspect`),
//! the entries are extracted into a hidden temporary folder beside it while the bytes are
//! counted (`extract`), and one rename puts the folder in place (`folder`), after which the
//! course is imported. Every temporary path is a guard that removes itself when dropped, so
//! a refused, failed or abandoned upload leaves nothing behind.

mod extract;
mod folder;
mod inspect;
mod spool;

use std::{path::Path, time::Duration};

use axum::http::StatusCode;

pub use folder::{Placed, Staged, place, trash};
pub use inspect::Plan;
pub use spool::{Spooled, spool};

use super::import::{Found, scan_one, upsert};
use crate::{
    db::Db,
    http::{ApiError, ApiResult},
};

/// At most this many entries in a zip.
pub const MAX_ENTRIES: usize = 20_000;
/// At most this many bytes once extracted, declared and counted.
pub const MAX_EXTRACTED: u64 = 10 << 30;
/// At most this many extracted bytes per byte of zip, declared and counted.
pub const MAX_RATIO: u64 = 100;
/// An upload that sends nothing for this long is abandoned (408); the route is exempt
/// from the stack's overall request timeout (`http::stack`), so this is what bounds a
/// stalled upload.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an upload was refused, or what went wrong.
#[derive(Debug)]
pub enum Failure {
    /// The client's mistake: 400 with this message.
    Refused(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(m) => ApiError::bad_request(m),
            Failure::Io(e) => ApiError::internal(format!("course upload: {e}")),
        }
    }
}

fn refused<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Refused(message.into()))
}

/// Runs blocking file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(format!("course upload task: {e}"))),
    }
}

/// Checks the spooled zip (entries, sizes, root files, `data.json`) without extracting it.
/// `spooled` stays alive with the returned plan; dropping it removes the file.
pub async fn inspect(spooled: Spooled) -> ApiResult<(Spooled, Plan)> {
    blocking(move || {
        let plan = inspect::inspect(spooled.path(), spooled.len, &spooled.file_name)?;
        Ok((spooled, plan))
    })
    .await
}

/// What an upload installed.
pub struct Installed {
    pub folder: String,
    /// A new course (else an existing one was updated).
    pub new: bool,
    /// An existing folder was replaced.
    pub replaced: bool,
}

/// Refuses a folder name the catalog or the disk already has, unless `replace`.
pub async fn check_free(db: &Db, root: &Path, folder: &str, replace: bool) -> ApiResult<()> {
    if replace {
        return Ok(());
    }
    let on_disk = tokio::fs::symlink_metadata(root.join(folder)).await.is_ok();
    if on_disk || crate::db::catalog::id_by_uid(db, folder).await?.is_some() {
        return Err(ApiError::bad_request(format!(
            "A course named \"{folder}\" already exists; upload with replace=1 to replace it."
        )));
    }
    Ok(())
}

/// Extracts the planned zip into a hidden folder under `root`, renames it into place
/// (swapping it with the existing folder when `replace`), and imports it. Any failure
/// removes what was written and puts a replaced folder back.
pub async fn install(
    db: &Db,
    root: &Path,
    spooled: Spooled,
    plan: Plan,
    replace: bool,
    now: i64,
) -> ApiResult<Installed> {
    check_free(db, root, &plan.folder, replace).await?;
    let r = root.to_path_buf();
    let folder_name = plan.folder.clone();
    let placed = blocking(move || {
        let staged = folder::Staged::create(&r)?;
        extract::extract(spooled.path(), spooled.len, &plan, staged.path())?;
        drop(spooled);
        folder::place(&r, staged, &plan.folder, replace)
    })
    .await?;
    let r = root.to_path_buf();
    let name = folder_name.clone();
    let found = match tokio::task::spawn_blocking(move || scan_one(&r, &name)).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            undo(placed).await;
            return Err(ApiError::internal(format!("course upload scan: {e}")));
        }
        Err(e) => {
            undo(placed).await;
            return Err(ApiError::internal(format!("course upload scan: {e}")));
        }
    };
    let package = match found {
        Found::Package(p) => p,
        Found::Skipped { reason, .. } => {
            undo(placed).await;
            return Err(ApiError::bad_request(format!(
                "The package cannot be imported: {reason}"
            )));
        }
        Found::Ignored { .. } => {
            undo(placed).await;
            return Err(ApiError::bad_request(
                "The package has no index.html or data.json at its root.",
            ));
        }
    };
    let new = match upsert(db, &package, now).await {
        Ok(new) => new,
        Err(e) => {
            undo(placed).await;
            return Err(e.into());
        }
    };
    let replaced = placed.previous.is_some();
    // Removing the replaced folder may take a while; it is no longer reachable.
    let _ = tokio::task::spawn_blocking(move || placed.commit()).await;
    Ok(Installed {
        folder: folder_name,
        new,
        replaced,
    })
}

async fn undo(placed: folder::Placed) {
    if let Err(e) = tokio::task::spawn_blocking(move || placed.rollback()).await {
        tracing::error!(event = "course_upload_rollback_failed", error = %e);
    }
}

/// The status of a refused upload body: 413 for too large, else as given.
pub fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The file is larger than the upload limit ({max} bytes, COURSE_UPLOAD_MAX_BYTES)."),
    )
}
