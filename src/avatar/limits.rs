//! The avatar limits, shared by the upload checks (`multipart.rs`, `image.rs`) and the
//! routes; a file of its own so that `fuzz/` can include the checks with them.

/// Largest accepted upload, in bytes (5 MiB).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest accepted width and height, in pixels (4096 itself is allowed).
pub const MAX_DIMENSION: u32 = 4096;
/// Most memory a decoder may allocate: a 4096×4096 RGBA image with 16-bit channels.
pub const MAX_ALLOC: u64 = 4096 * 4096 * 8;

/// Request bodies the upload routes accept: a 5 MiB image plus room, so that a file
/// somewhat over the limit gets the clear 400 "File too large" rather than a bare 413.
/// Larger bodies 413.
pub const UPLOAD_BODY_LIMIT: usize = 8 * 1024 * 1024;
