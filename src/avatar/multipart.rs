//! Reading an avatar upload's multipart body: the first `avatar` file part, with the first
//! checks of docs/original.md "Avatar upload checks" (file present, named, allowed
//! extension, size) applied while it streams.
//!
//! Written over two small traits rather than axum's `Multipart` so that the same code runs
//! on axum's extractor in the server (`upload.rs`) and on `multer` directly in `fuzz/`
//! (fuzz/fuzz_targets/multipart.rs), which includes this file as it is.

use super::{
    image::{Invalid, Kind},
    limits::MAX_BYTES,
};

/// Why a body could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Over the route's body limit (a 413).
    TooLarge,
    /// Not a well-formed multipart body (a 400).
    Malformed,
}

/// A multipart body, part by part.
#[allow(async_fn_in_trait)] // used only in this crate (and fuzz/): no Send bound needed
pub trait Form {
    type Part<'a>: Part
    where
        Self: 'a;
    async fn next_part(&mut self) -> Result<Option<Self::Part<'_>>, Failure>;
}

/// One part of a multipart body.
#[allow(async_fn_in_trait)] // as `Form`
pub trait Part {
    type Chunk: AsRef<[u8]>;
    fn name(&self) -> Option<&str>;
    fn file_name(&self) -> Option<&str>;
    async fn chunk(&mut self) -> Result<Option<Self::Chunk>, Failure>;
}

/// What the `avatar` part held.
#[derive(Debug, PartialEq, Eq)]
pub enum Upload {
    Missing,
    Rejected(Invalid),
    File(Kind, Vec<u8>),
}

/// Reads one file part's bytes while streaming; `None` when it exceeds `MAX_BYTES` (the
/// rest is read but not kept, so the client can finish sending and read the 400).
async fn read_file(part: &mut impl Part) -> Result<Option<Vec<u8>>, Failure> {
    let mut bytes = Vec::new();
    let mut too_large = false;
    while let Some(chunk) = part.chunk().await? {
        let chunk = chunk.as_ref();
        if too_large || bytes.len() + chunk.len() > MAX_BYTES {
            too_large = true;
            bytes = Vec::new();
            continue;
        }
        bytes.extend_from_slice(chunk);
    }
    Ok((!too_large).then_some(bytes))
}

/// Reads the multipart body up to the first `avatar` file part, applying the first checks
/// (file present, named, allowed extension, size) while streaming. A refused file is read
/// to the end of the body (the route's body limit bounds that).
pub async fn read_upload(form: &mut impl Form) -> Result<Upload, Failure> {
    let outcome = loop {
        let Some(mut part) = form.next_part().await? else {
            return Ok(Upload::Missing);
        };
        if part.name() != Some("avatar") {
            continue;
        }
        // A part without a filename parameter is a plain form field, not a file.
        let Some(filename) = part.file_name().map(str::to_owned) else {
            break Upload::Missing;
        };
        if filename.is_empty() {
            break Upload::Rejected(Invalid::NoFileSelected);
        }
        let Some(kind) = Kind::from_filename(&filename) else {
            break Upload::Rejected(Invalid::FileType);
        };
        match read_file(&mut part).await? {
            Some(bytes) => return Ok(Upload::File(kind, bytes)),
            None => break Upload::Rejected(Invalid::TooLarge),
        }
    };
    // Drain the rest of the body; a malformed remainder changes nothing about the answer.
    while let Ok(Some(mut part)) = form.next_part().await {
        while let Ok(Some(_)) = part.chunk().await {}
    }
    Ok(outcome)
}
