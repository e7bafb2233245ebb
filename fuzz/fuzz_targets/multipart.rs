//! The avatar upload's multipart body (src/avatar/multipart.rs): any body. A file it
//! hands on is within the size limit and named with an allowed extension.
#![no_main]

use gleh_fuzz::{
    avatar::{
        limits::MAX_BYTES,
        multipart::{Upload, read_upload},
    },
    harness::{Multer, block_on},
};
use libfuzzer_sys::fuzz_target;

/// The boundary the seeds (fuzz/seeds/multipart/) use.
const BOUNDARY: &str = "gleh-fuzz-boundary";

fuzz_target!(|data: &[u8]| {
    let mut form = Multer::new(data.to_vec(), BOUNDARY);
    if let Ok(Upload::File(_kind, bytes)) = block_on(read_upload(&mut form)) {
        assert!(bytes.len() <= MAX_BYTES);
        assert!(bytes.len() <= data.len());
    }
});
