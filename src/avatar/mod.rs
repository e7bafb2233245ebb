//! Avatar images: the upload checks (docs/original.md "Avatar upload checks", in that
//! order and with those messages), decoding under memory limits, re-encoding, and storage
//! in the database under generated names.
//!
//! An upload is never stored as sent. It is decoded with `image` under strict limits (a
//! decompression bomb is refused from its header, before any pixel is allocated) and
//! re-encoded — PNG and GIF as PNG (a GIF keeps its first frame), JPEG as JPEG — so EXIF
//! and other metadata, comments and bytes appended after the image (polyglots) are gone.
//! A JPEG's EXIF orientation is applied to the pixels first, so photos stay upright.
//! The re-encoded bytes live in the database (`db::avatars`, docs/design.md "Storage") under
//! a random name (`<32 hex>.png|.jpg`), so every instance serves every upload; nothing the
//! user sends ever becomes part of a name.
//!
//! `limits` holds the sizes, `multipart` reads the multipart body up to the file with the
//! first checks, `image` decodes and re-encodes, `names` makes and checks the stored names,
//! `upload` runs the whole upload for both the JSON route and the profile page's form,
//! `adopt` moves the files an older version kept under `DATA_DIR/avatars/` into the
//! database. `limits`, `multipart` and `image` use nothing else of the crate: `fuzz/`
//! includes them as they are.

pub mod adopt;
mod image;
mod limits;
mod multipart;
mod names;
pub mod upload;

pub use image::{Encoded, Invalid, Kind, process};
pub use limits::{MAX_BYTES, UPLOAD_BODY_LIMIT};
pub use names::{content_type, etag, is_stored_name};

/// At most this many uploads are decoded at once, which bounds their memory.
pub static DECODE_PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Where a user without an uploaded avatar is pointed.
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
