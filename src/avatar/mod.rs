//! Avatar images: the upload checks (docs/original.md "Avatar upload checks", in that
//! order and with those messages), decoding under memory limits, re-encoding, and storage
//! under generated names.
//!
//! An upload is never stored as sent. It is decoded with `image` under strict limits (a
//! decompression bomb is refused from its header, before any pixel is allocated) and
//! re-encoded — PNG and GIF as PNG (a GIF keeps its first frame), JPEG as JPEG — so EXIF
//! and other metadata, comments and bytes appended after the image (polyglots) are gone.
//! A JPEG's EXIF orientation is applied to the pixels first, so photos stay upright.
//! Files live in `DATA_DIR/avatars/` under a random name (`<32 hex>.png|.jpg`); nothing the
//! user sends ever becomes part of a path.
//!
//! `limits` holds the sizes, `multipart` reads the multipart body up to the file with the
//! first checks, `image` decodes and re-encodes, `files` stores, `upload` runs the whole
//! upload for both the JSON route and the profile page's form. `limits`, `multipart` and
//! `image` use nothing else of the crate: `fuzz/` includes them as they are.

mod files;
mod image;
mod limits;
mod multipart;
pub mod upload;

pub use files::{content_type, dir, is_stored_name, remove_stored};
pub use image::{Encoded, Invalid, Kind, process};
pub use limits::{MAX_BYTES, UPLOAD_BODY_LIMIT};

/// At most this many uploads are decoded at once, which bounds their memory.
pub static DECODE_PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Removes the avatar files a killed process left behind (`files::sweep`): run once at
/// start, before serving. Returns how many were removed.
pub async fn sweep_orphans(
    db: &crate::db::Db,
    data_dir: &std::path::Path,
) -> anyhow::Result<usize> {
    let referenced: std::collections::HashSet<String> = crate::db::users::avatar_names(db)
        .await?
        .into_iter()
        .collect();
    let dir = dir(data_dir);
    Ok(tokio::task::spawn_blocking(move || files::sweep(&dir, &referenced)).await??)
}

/// Where a user without an uploaded avatar (or whose file is gone) is pointed.
pub const DEFAULT_AVATAR: &str = "/static/default-avatar.svg";

/// `/avatars/<name>` for an uploaded avatar; the default picture otherwise (also for names
/// this server did not generate, such as the original's `default_avatar.png`).
pub fn url_of(avatar: &str) -> String {
    if is_stored_name(avatar) {
        format!("/avatars/{avatar}")
    } else {
        DEFAULT_AVATAR.to_string()
    }
}
