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
//! `image` decodes and re-encodes, `files` stores, `upload` reads the multipart body and
//! runs the whole upload for both the JSON route and the profile page's form.

mod files;
mod image;
pub mod upload;

pub use files::{content_type, dir, is_stored_name, remove_stored};
pub use image::{Encoded, Invalid, Kind, process};

/// Largest accepted upload, in bytes (5 MiB).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest accepted width and height, in pixels (4096 itself is allowed).
pub const MAX_DIMENSION: u32 = 4096;
/// Most memory a decoder may allocate: a 4096×4096 RGBA image with 16-bit channels.
pub const MAX_ALLOC: u64 = 4096 * 4096 * 8;
/// At most this many uploads are decoded at once, which bounds their memory.
pub static DECODE_PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Request bodies the upload routes accept: a 5 MiB image plus room, so that a file
/// somewhat over the limit gets the clear 400 "File too large" rather than a bare 413.
/// Larger bodies 413.
pub const UPLOAD_BODY_LIMIT: usize = 8 * 1024 * 1024;

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
